# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dokku's ``ssh-keys`` users and the teams state: enabling, and keeping the keys in step.

Dokku's users are the ``NAME`` of each line of ``~dokku/.ssh/authorized_keys``, written by
``dokku ssh-keys:add`` through sshcommand (``dokku/dokku plugins/ssh-keys/subcommands/add:38``,
``dokku/sshcommand sshcommand:201``)::

    command="FINGERPRINT=FP NAME=\\"NAME\\" `cat HOME/.sshcommand` $SSH_ORIGINAL_COMMAND",OPTIONS KEY

- ``enable`` (Dokku Pro's ``teams:enable``): the first time, every ``ssh-keys`` user the state
  does not know becomes a user (with the keys Dokku has for them) and a member of
  ``dokku@admin``, so turning the teams on breaks nobody. The adopted users are recorded in
  ``STATE_DIR/dokku-users.adopted`` (root only) so that a later run does not adopt again and
  the role can keep declaring them.
- ``sync-keys``: every state user's keys become ``ssh-keys`` lines in that exact format; lines
  of names the state does not manage (hand-made ``ssh-keys`` users) are kept; lines of users
  the state no longer has, or keys it no longer lists, are removed. The file is replaced
  atomically, keeping its owner and mode: one rename instead of one ``dokku ssh-keys:add`` or
  ``:remove`` per key (``ssh-keys:remove NAME`` removes every key of a name, sshcommand:219).
"""

from __future__ import annotations

import json
import os

from . import fsutil, state as statelib, store as storelib
from .errors import Invalid, StateError
from .names import ADMIN_TEAM, USER
from .sshkeys import check_from, parse_key

ADOPTED_FILE = "dokku-users.adopted"
MANAGED_FILE = "dokku-ssh-keys.managed"
OPTIONS = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"   # sshcommand:200
_PREFIX = 'command="FINGERPRINT='


def parse_line(line):
    """``(name, key_line)`` of one sshcommand line, or None for anything else."""
    if not line.startswith(_PREFIX):
        return None
    name_at = line.find(' NAME=\\"')
    if name_at < 0:
        return None
    end = line.find('\\" ', name_at + 8)
    if end < 0:
        return None
    name = line[name_at + 8:end]
    close = line.find('",', end)
    if close < 0:
        return None
    rest = line[close + 2:]
    options, sep, key = rest.partition(" ")
    if not sep:
        return None
    try:
        return name, parse_key(key.strip()).line
    except Invalid:
        return None


def render_line(name, key, home, from_list=()):
    """sshcommand's line for ``key`` of ``name``; a user's ``from`` list is kept as sshd's
    ``from=`` option, as on the ci account's line (without it dokku@ would ignore it)."""
    key = parse_key(key)
    options = OPTIONS + (',from="%s"' % ",".join(check_from(list(from_list))) if from_list else "")
    return 'command="FINGERPRINT=%s NAME=\\"%s\\" `cat %s/.sshcommand` $SSH_ORIGINAL_COMMAND",%s %s' % (
        key.fingerprint, name, home, options, key.line)


def read_users(path):
    """``{name: [key lines]}`` of Dokku's ``authorized_keys`` (missing file: none)."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return {}
    users = {}
    for line in lines:
        parsed = parse_line(line)
        if parsed is not None:
            users.setdefault(parsed[0], []).append(parsed[1])
    return users


def enable(store, authorized_keys):
    """Adopt Dokku's ssh-keys users once; return the names adopted now ([] when done before)."""
    marker = os.path.join(store.state_dir, ADOPTED_FILE)
    if os.path.lexists(marker):
        return []
    dokku_users = read_users(authorized_keys)
    adopted = {}
    with store.transaction() as tx:
        new = tx.state
        for name in sorted(dokku_users):
            if not USER.match(name) or name in new["users"]:
                continue
            try:
                new = statelib.add_user(new, name, dokku_users[name])
            except Invalid:
                continue      # a key another user holds: that name stays with its owner
            new = statelib.add_members(new, ADMIN_TEAM, [name])
            adopted[name] = dokku_users[name]
        tx.state = new
    data = (json.dumps(adopted, sort_keys=True, indent=1) + "\n").encode("ascii")
    fsutil.atomic_write(marker, data, 0o600)
    return sorted(adopted)


def adopted_users(state_dir):
    """The users ``enable`` adopted, as ``[{name, keys}]`` (for the role to keep declaring)."""
    try:
        data = fsutil.read_trusted(os.path.join(state_dir, ADOPTED_FILE), None, 16 * 1024 * 1024)
    except fsutil.MissingFile:
        return []
    try:
        adopted = json.loads(data.decode("ascii"))
    except ValueError:
        raise StateError("%s is not valid JSON" % ADOPTED_FILE)
    return [{"name": name, "keys": keys} for name, keys in sorted(adopted.items())]


def sync(store, authorized_keys, home):
    """Make Dokku's ``authorized_keys`` hold exactly the state users' keys (other names kept);
    return whether the file changed."""
    state = store.load()
    managed_path = os.path.join(store.state_dir, MANAGED_FILE)
    try:
        managed = set(fsutil.read_trusted(managed_path, None, 16 * 1024 * 1024).decode("ascii").split())
    except fsutil.MissingFile:
        managed = set()
    managed |= set(state["users"])
    try:
        with open(authorized_keys, "r", encoding="utf-8", errors="surrogateescape") as handle:
            before = handle.read()
        info = os.stat(authorized_keys)
        owner, group, mode = info.st_uid, info.st_gid, info.st_mode & 0o777
    except FileNotFoundError:
        before = ""
        parent = os.stat(os.path.dirname(authorized_keys))
        owner, group, mode = parent.st_uid, parent.st_gid, 0o600
    kept = []
    for line in before.splitlines():
        parsed = parse_line(line)
        if parsed is None or parsed[0] not in managed:
            kept.append(line)
    for name in sorted(state["users"]):
        for key in state["users"][name]["keys"]:
            kept.append(render_line(name, key, home, state["users"][name]["from"]))
    after = "".join(line + "\n" for line in kept)
    fsutil.atomic_write(managed_path, ("\n".join(sorted(state["users"])) + "\n").encode("ascii"), 0o600)
    if after == before:
        return False
    fsutil.atomic_write(authorized_keys, after.encode("utf-8", "surrogateescape"), mode, owner, group)
    return True


def main(action, config):
    """``dokku-teams-auth enable|sync-keys|adopted``: one line of output, the exit code."""
    store = storelib.Store(config.state_dir)
    authorized_keys = os.path.join(config.home, ".ssh", "authorized_keys")
    if action == "enable":
        names = enable(store, authorized_keys)
        if names and os.path.lexists(config.authorized_keys):
            # the adopted users are state users: the ci account's keys follow at once, as after
            # any other change of users (not on the role's next run)
            from . import hostsync
            hostsync.write_authorized_keys(config, store.load())
        return 0, ("Adopted as admins: %s" % " ".join(names)) if names else "Nothing to adopt"
    if action == "adopted":
        return 0, json.dumps(adopted_users(config.state_dir))
    changed = sync(store, authorized_keys, config.home)
    return 0, "Changed" if changed else "Unchanged"
