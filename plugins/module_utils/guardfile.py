# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy guard's one fact file: who is an admin, which apps are trusted.

The guard runs inside Dokku as the ``dokku`` user, and the state directory is root's alone
(0700). So root writes this small file beside it -- ``STATE_DIR-guard/guard.json``, directory
root:dokku 0750, file root:dokku 0640 -- holding only the admins' names and the trusted apps::

    {"version": 1, "admins": ["root-admin"], "trusted": ["legacy-app"]}

Trust lives only here (set by ``dokku-teams app:trust|untrust``); the admins are copied from the
state by every store commit (``sync_admins``). The file is written only when its directory
exists (the role creates it where the guard is installed). The reader fails closed: a missing,
unreadable, foreign-owned, writable-by-others or garbled file means no admins and no trusted
apps, so the guard applies to everyone.
"""

from __future__ import annotations

import os

from . import fsutil
from .errors import StateError

FILE = "guard.json"
MAX_BYTES = 1024 * 1024
EMPTY = {"version": 1, "admins": [], "trusted": []}


def directory(state_dir):
    return state_dir.rstrip("/") + "-guard"


def path(state_dir):
    return os.path.join(directory(state_dir), FILE)


def _valid(doc):
    from .names import APP, USER
    return (isinstance(doc, dict) and doc.get("version") == 1 and set(doc) == set(EMPTY)
            and isinstance(doc["admins"], list) and all(isinstance(u, str) and USER.match(u) for u in doc["admins"])
            and isinstance(doc["trusted"], list) and all(isinstance(a, str) and APP.match(a) for a in doc["trusted"]))


def read(file_path, owner_uid=0):
    """The document at ``file_path``, or ``EMPTY`` when it cannot be trusted (fail closed)."""
    import json
    try:
        data = fsutil.read_trusted(file_path, owner_uid, MAX_BYTES)
        doc = json.loads(data.decode("utf-8"))
    except (StateError, OSError, ValueError):
        return dict(EMPTY)
    return doc if _valid(doc) else dict(EMPTY)


def _encode(doc):
    import json
    return (json.dumps(doc, sort_keys=True) + "\n").encode("ascii")


def _write(state_dir, doc):
    where = directory(state_dir)
    info = os.stat(where)
    fsutil.atomic_write(os.path.join(where, FILE), _encode(doc), 0o640, group_gid=info.st_gid)


def _current(state_dir):
    return read(path(state_dir), os.geteuid())


def sync_admins(state_dir, state):
    """Copy the state's admins into the guard file (callers hold the store lock)."""
    if not os.path.isdir(directory(state_dir)):
        return False
    from .names import ADMIN_TEAM
    doc = _current(state_dir)
    admins = sorted(state["teams"].get(ADMIN_TEAM, {}).get("members", []))
    if doc["admins"] == admins and os.path.exists(path(state_dir)):
        return False
    doc["admins"] = admins
    _write(state_dir, doc)
    return True


def set_trust(state_dir, app, trusted, lock_timeout=10.0):
    """Trust or untrust ``app``; whether anything changed. ``StateError`` without the directory."""
    if not os.path.isdir(directory(state_dir)):
        raise StateError("the deploy guard is not installed here (%s is missing)" % directory(state_dir))
    with fsutil.lock(os.path.join(state_dir, "state.lock"), lock_timeout):
        doc = _current(state_dir)
        apps = set(doc["trusted"])
        before = set(apps)
        if trusted:
            apps.add(app)
        else:
            apps.discard(app)
        if apps == before and os.path.exists(path(state_dir)):
            return False
        doc["trusted"] = sorted(apps)
        _write(state_dir, doc)
        return True
