# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy guard's one fact file: which apps an admin trusts.

The guard runs inside Dokku as the ``dokku`` user, and the state directory is root's alone
(0700). So root writes this small file beside it -- ``STATE_DIR-guard/guard.json``, directory
root:dokku 0750, file root:dokku 0640 -- holding only the trusted apps::

    {"version": 1, "trusted": ["legacy-app"]}

Trust lives only here (set by ``dokku-teams app:trust|untrust``), written only when the
directory exists (the role creates it where the guard is installed). Files written before the
guard checked admins' deploys too also list the admins: read, checked, and dropped at the next
write. The reader fails closed: a missing, unreadable, foreign-owned, writable-by-others or
garbled file means no trusted apps, so the guard checks every deploy.
"""

from __future__ import annotations

import os

from . import fsutil
from .errors import StateError

FILE = "guard.json"
MAX_BYTES = 1024 * 1024
EMPTY = {"version": 1, "trusted": []}


def directory(state_dir):
    return state_dir.rstrip("/") + "-guard"


def path(state_dir):
    return os.path.join(directory(state_dir), FILE)


def _valid(doc):
    from .names import APP, USER
    admins = doc.get("admins", []) if isinstance(doc, dict) else None    # the earlier format's
    return (isinstance(doc, dict) and doc.get("version") == 1 and set(EMPTY) <= set(doc) <= set(EMPTY) | {"admins"}
            and isinstance(admins, list) and all(isinstance(u, str) and USER.match(u) for u in admins)
            and isinstance(doc["trusted"], list) and all(isinstance(a, str) and APP.match(a) for a in doc["trusted"]))


def read(file_path, owner_uid=0):
    """The document at ``file_path``, or ``EMPTY`` when it cannot be trusted (fail closed)."""
    import json
    try:
        data = fsutil.read_trusted(file_path, owner_uid, MAX_BYTES)
        doc = json.loads(data.decode("utf-8"))
    except (StateError, OSError, ValueError):
        return dict(EMPTY)
    return {"version": 1, "trusted": doc["trusted"]} if _valid(doc) else dict(EMPTY)


def _encode(doc):
    import json
    return (json.dumps(doc, sort_keys=True) + "\n").encode("ascii")


def _write(state_dir, doc):
    where = directory(state_dir)
    info = os.stat(where)
    fsutil.atomic_write(os.path.join(where, FILE), _encode(doc), 0o640, group_gid=info.st_gid)


def _current(state_dir):
    return read(path(state_dir), os.geteuid())


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
