# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state on disk: ``state.json``, its lock, and one compiled view per user.

Layout of ``state_dir`` (0700, owned by root on a host)::

    state.json          the state (version, serial, users, teams), 0600
    state.lock          the writers' flock; never deleted
    views/<user>.json   the user's compiled view (policy.compile_view), 0600
    views/.serial       the state serial the views match
    state.seal          the identity (inode, size, mtime) of the state.json writers wrote, 0600

Writers go through ``Store.transaction()``: lock, load, change, validate, bump ``serial``,
write ``state.json`` atomically, write the views that changed (computed in memory from the
old and the new state, never read back), delete the views of removed users, then write
``views/.serial``. A crash leaves the old or the new ``state.json``; views written before the
crash but not confirmed by ``.serial`` are rewritten by the next writer (``doctor`` reports
them meanwhile).

The gate reads only the caller's view, so it cannot parse ``state.json`` (its cost would grow
with the policy). ``state.seal`` lets it still refuse a state file that was truncated, corrupted
or replaced behind the writers' backs: a writer records the identity of the file it wrote
(before the rename, both the old and the new one; after the views, the new one), and the gate
compares one ``stat`` with it. A seal that a crash left behind is rewritten by the next writer.

``read_view`` is the gate's one read on its hot path: it imports no ``json`` and no ``re``
(the writer side imports ``json``, ``state`` and ``policy`` when it needs them).
"""

from __future__ import annotations

import os

from . import fsutil
from .errors import Denied, StateError
from .jsonlite import loads
from .names import USER, show

STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
VIEWS_DIR = "views"
SERIAL_FILE = ".serial"
SEAL_FILE = "state.seal"
MAX_SEAL_BYTES = 4096
VIEW_SUFFIX = ".json"
VIEW_VERSION = 1          # policy.VIEW_VERSION (checked by the tests; not imported on the hot path)
MAX_VIEW_BYTES = 4 * 1024 * 1024
MAX_STATE_BYTES = 256 * 1024 * 1024


class UnknownUser(Denied):
    """No view for this user: the state does not know them (the gate denies, exit 77)."""


def identity(info):
    """What the seal records of ``state.json``: inode, size and modification time."""
    return "%d %d %d" % (info.st_ino, info.st_size, info.st_mtime_ns)


def check_seal(state_dir, info, owner_uid=None):
    """``StateError`` unless ``info`` (a stat of ``state.json``) is one the writers sealed."""
    try:
        text = fsutil.read_trusted(state_dir + "/" + SEAL_FILE, owner_uid, MAX_SEAL_BYTES)
    except StateError as exc:
        raise StateError("the state seal is unusable (%s)" % exc.message)
    if identity(info) not in text.decode("ascii", "replace").split("\n"):
        raise StateError("state.json does not match its seal: it was changed outside dokku-teams")


def check_sealed(state_dir, owner_uid=None):
    """Cheap checks of the state beyond the one view the gate reads: the state directory and
    ``state.json`` are trusted (``fsutil.check_trusted``), and ``state.json`` is the very file
    the writers sealed. (Its content is validated by every writer and by ``doctor``; parsing it
    here would make the gate's cost grow with the policy.)"""
    seen = None
    while True:
        dir_fd = fsutil.open_trusted_dir(state_dir, owner_uid)
        try:
            try:
                info = os.stat(STATE_FILE, dir_fd=dir_fd, follow_symlinks=False)
            except OSError as error:
                raise StateError("%s/%s: %s" % (state_dir, STATE_FILE, error.strerror))
        finally:
            os.close(dir_fd)
        fsutil.check_trusted(info, "%s/%s" % (state_dir, STATE_FILE), owner_uid)
        # A truncated, corrupted or replaced state.json no longer matches what the writers sealed.
        try:
            check_seal(state_dir, info, owner_uid)
            return
        except StateError:
            # A writer that committed between the stat and the seal's read has resealed for its
            # new file: look again. The same file unsealed twice was changed outside dokku-teams.
            if identity(info) == seen:
                raise
            seen = identity(info)


def read_view(state_dir, user, owner_uid=None):
    """The compiled view of ``user``, read fail-closed.

    ``UnknownUser`` (exit 77) when the state has no such user; ``StateError`` (exit 75) when
    the views cannot be trusted (missing directory, wrong owner or mode, symlink, bad JSON,
    unknown version, a view of someone else).
    """
    if not USER.match(user):
        raise UnknownUser("unknown user %s" % show(user))
    path = state_dir + "/" + VIEWS_DIR + "/" + user + VIEW_SUFFIX
    try:
        data = fsutil.read_trusted(path, owner_uid, MAX_VIEW_BYTES)
    except fsutil.MissingFile:
        raise UnknownUser("unknown user %s" % user)
    try:
        view = loads(data)
    except ValueError:
        raise StateError("view %s is not valid JSON" % path)
    if not isinstance(view, dict):
        raise StateError("view %s is not a JSON object" % path)
    if view.get("version") != VIEW_VERSION:
        version = view.get("version")
        shown = version if isinstance(version, int) and not isinstance(version, bool) else show(version)
        raise StateError("view %s has unsupported version %s (this code reads version %d)"
                         % (path, shown, VIEW_VERSION))
    if view.get("user") != user:
        raise StateError("view %s belongs to %s, not %s" % (path, show(view.get("user")), user))
    return view


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key %s" % show(key))
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _encode(value):
    """Compact, sorted, ASCII JSON (the C encoder: an indented dump is several times slower)."""
    import json
    return (json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n").encode("ascii")


def compile_views(state, users=None):
    """``{user: view}`` for ``users`` (default: every user of ``state``). Each user's teams are
    found through one index, so the cost is the size of the memberships, not users x teams."""
    from .policy import compile_view
    from .state import fingerprints
    teams = state["teams"]
    index = {}
    for name, team in teams.items():
        for user in set(team["owners"]).union(team["members"]):
            index.setdefault(user, []).append(name)
    views = {}
    for user in (state["users"] if users is None else users):
        if user in state["users"]:
            mine = {"teams": {name: teams[name] for name in index.get(user, ())}}
            views[user] = compile_view(mine, user, fingerprints(state, user))
    return views


def affected_users(old, new):
    """Users whose view may differ between two states.

    A view (``policy.compile_view``) holds the user's fingerprints, the names of the teams they
    own, and the grants of the teams they are a member of. So: a user whose record changed; for
    a team added or removed, all its people; for a team whose grants changed, its members; for a
    change of owners or members, the people who joined or left. (``doctor`` and the tests compare
    every view with a full compilation, so a view that grows new fields is noticed.)
    """
    users = set()
    old_users, new_users = old["users"], new["users"]
    for name in set(old_users).union(new_users):
        if old_users.get(name) != new_users.get(name):
            users.add(name)
    old_teams, new_teams = old["teams"], new["teams"]
    for name in set(old_teams).union(new_teams):
        before, after = old_teams.get(name), new_teams.get(name)
        if before == after:
            continue
        if before is None or after is None:
            team = before or after
            users.update(team["owners"], team["members"])
            continue
        if before["owners"] != after["owners"]:
            users.update(set(before["owners"]).symmetric_difference(after["owners"]))
        if (before["commands"] != after["commands"] or before["apps"] != after["apps"]
                or before["services"] != after["services"]):
            users.update(before["members"], after["members"])
        elif before["members"] != after["members"]:
            users.update(set(before["members"]).symmetric_difference(after["members"]))
    return users


class Transaction(object):
    """What ``Store.transaction()`` yields: replace ``.state``; ``.changed`` is set on exit."""

    def __init__(self, store):
        self.store = store
        self.old = self.state = None    # the state as loaded, and as the caller leaves it
        self.changed = False
        self.views_serial = None
        self._lock = None

    def __enter__(self):
        from .state import _copy
        store = self.store
        self._lock = fsutil.lock(store.lock_path, store.lock_timeout).acquire()
        try:
            fsutil.remove_temp_files(store.state_dir)
            fsutil.remove_temp_files(store.views_dir)
            self.old = store.load()
            self.views_serial = store.views_serial()
            if not store.seal_matches():
                self.views_serial = None     # rewrite the seal (and, to be safe, every view)
            self.state = _copy(self.old)
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.changed = self.store._commit(self.old, self.state, self.views_serial)
        finally:
            self._lock.release()
        return False


class Store(object):
    def __init__(self, state_dir, owner_uid=None, lock_timeout=10.0):
        self.state_dir = state_dir.rstrip("/") or "/"
        self.owner_uid = os.geteuid() if owner_uid is None else owner_uid
        self.lock_timeout = lock_timeout
        self.state_path = os.path.join(self.state_dir, STATE_FILE)
        self.lock_path = os.path.join(self.state_dir, LOCK_FILE)
        self.views_dir = os.path.join(self.state_dir, VIEWS_DIR)
        self.serial_path = os.path.join(self.views_dir, SERIAL_FILE)
        self.seal_path = os.path.join(self.state_dir, SEAL_FILE)
        # chown new files only when they must belong to someone else than the writer
        self._chown = None if self.owner_uid == os.geteuid() else self.owner_uid

    # ---- reading

    def exists(self):
        return os.path.lexists(self.state_path)

    def load(self):
        """The validated state, or ``StateError`` saying why it cannot be trusted."""
        import json
        from .errors import Invalid
        from .state import validate
        data = fsutil.read_trusted(self.state_path, self.owner_uid, MAX_STATE_BYTES)
        try:
            doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except ValueError as exc:
            raise StateError("%s is not valid JSON (%s)" % (self.state_path, str(exc).splitlines()[0]))
        try:
            return validate(doc, internal=True)
        except Invalid as exc:
            raise StateError("%s is invalid: %s" % (self.state_path, exc.message))

    def views_serial(self):
        """The serial ``views/.serial`` records, or ``None`` (missing, untrusted, garbled)."""
        try:
            text = fsutil.read_trusted(self.serial_path, self.owner_uid, 64).decode("ascii").strip()
        except (StateError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def read_view(self, user):
        return read_view(self.state_dir, user, self.owner_uid)

    def _state_info(self):
        try:
            return os.lstat(self.state_path)
        except OSError:
            return None

    def seal_matches(self):
        """Whether ``state.json`` is the file the writers sealed."""
        info = self._state_info()
        if info is None:
            return False
        try:
            check_seal(self.state_dir, info, self.owner_uid)
        except StateError:
            return False
        return True

    def _write_seal(self, identities, sync=False):
        data = "".join(item + "\n" for item in identities).encode("ascii")
        fsutil.atomic_write(self.seal_path, data, 0o600, self._chown, sync=sync)

    # ---- writing

    def _mkdir(self, path):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            return False
        os.chmod(path, 0o700)
        if self._chown is not None:
            os.chown(path, self._chown, -1)
        return True

    def init(self):
        """Create the directory (0700), an empty state and the views; idempotent. Returns
        whether a new state was created. An existing state is loaded (and must be valid)."""
        from .state import empty_state
        parent = os.path.dirname(self.state_dir)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        self._mkdir(self.state_dir)
        os.close(fsutil.open_trusted_dir(self.state_dir, self.owner_uid))
        self._mkdir(self.views_dir)
        created = False
        with fsutil.lock(self.lock_path, self.lock_timeout):
            if not self.exists():
                self._write_state(empty_state())
                created = True
        with self.transaction():
            pass  # writes any missing or stale view
        return created

    def transaction(self):
        """``with store.transaction() as tx: tx.state = state.add_user(tx.state, ...)``;
        afterwards ``tx.changed`` says whether anything was written."""
        return Transaction(self)

    def save(self, new_state):
        """Replace the policy with ``new_state`` (its ``serial`` is ignored); whether it changed."""
        with self.transaction() as tx:
            tx.state = new_state
        return tx.changed

    def repair_views(self):
        """Rewrite every view and ``views/.serial`` from the state (under the lock)."""
        with fsutil.lock(self.lock_path, self.lock_timeout):
            fsutil.remove_temp_files(self.views_dir)
            current = self.load()
            self._commit(current, current, None)

    def _write_state(self, state):
        # While the rename happens, the seal names both the old file and the new one, so a
        # gate never sees a state the seal does not vouch for.
        before = self._state_info()
        previous = [identity(before)] if before is not None else []
        fsutil.atomic_write(self.state_path, _encode(state), 0o600, self._chown,
                            before_rename=lambda info: self._write_seal(previous + [identity(info)]))

    def _commit(self, old, candidate, views_serial):
        from .state import validate
        if not isinstance(candidate, dict):
            raise StateError("a transaction must leave a state document in tx.state")
        candidate = dict(candidate)
        candidate["serial"] = old["serial"]
        new = validate(candidate, internal=True)
        changed = new != old
        stale = views_serial != old["serial"]
        if not changed and not stale:
            return False
        if changed:
            new["serial"] = old["serial"] + 1
            self._write_state(new)
        else:
            new = old
        if not os.path.isdir(self.views_dir):
            self._mkdir(self.views_dir)
        os.close(fsutil.open_trusted_dir(self.views_dir, self.owner_uid))
        affected = None if stale else affected_users(old, new)
        new_views = compile_views(new, affected)
        if stale:
            old_views = {}
            gone = [name[:-len(VIEW_SUFFIX)] for name in os.listdir(self.views_dir)
                    if name.endswith(VIEW_SUFFIX) and name[:-len(VIEW_SUFFIX)] not in new_views]
        else:
            old_views = compile_views(old, affected)
            gone = [user for user in old["users"] if user not in new["users"]]
        for user in sorted(new_views):
            if old_views.get(user) != new_views[user]:
                fsutil.atomic_write(self._view_path(user), _encode(new_views[user]), 0o600, self._chown,
                                    sync_dir=False)
        for user in gone:
            try:
                os.unlink(self._view_path(user))
            except FileNotFoundError:
                pass
        fsutil.fsync_dir(self.views_dir)
        # .serial is written without fsync: the views it vouches for are durable already, and a
        # crash that loses it (old serial, or an empty file) only makes the next writer rewrite
        # every view. It never runs ahead of the views, so it never vouches for lost ones.
        fsutil.atomic_write(self.serial_path, b"%d\n" % new["serial"], 0o600, self._chown, sync=False)
        info = self._state_info()
        if info is not None:
            self._write_seal([identity(info)])
        return changed

    def _view_path(self, user):
        return os.path.join(self.views_dir, user + VIEW_SUFFIX)

    # ---- health

    def doctor(self):
        """Problems found (one line each); an empty list means healthy.

        Holds the writers' lock while it looks, so a change committed half-way through the
        checks is never mistaken for stale views (without the lock it reports what it can)."""
        try:
            os.close(fsutil.open_trusted_dir(self.state_dir, self.owner_uid))
        except StateError as exc:
            return ["state directory: %s" % exc]
        try:
            held = fsutil.lock(self.lock_path, self.lock_timeout).acquire()
        except StateError as exc:
            return ["lock: %s" % exc] + self._doctor()
        try:
            return self._doctor()
        finally:
            held.release()

    def _doctor(self):
        problems = []
        try:
            current = self.load()
        except StateError as exc:
            problems.append("state: %s" % exc)
            current = None
        if os.path.lexists(self.lock_path):
            info = os.lstat(self.lock_path)
            import stat
            if not stat.S_ISREG(info.st_mode):
                problems.append("lock file %s is not a regular file" % self.lock_path)
        try:
            os.close(fsutil.open_trusted_dir(self.views_dir, self.owner_uid))
        except StateError as exc:
            problems.append("views: %s" % exc)
            return problems
        serial = self.views_serial()
        if not self.seal_matches():
            problems.append("%s does not vouch for %s (changed outside dokku-teams, or a writer was"
                            " interrupted): the gate refuses everything until the next change or"
                            " dokku-teams recover reseals a valid state" % (self.seal_path, self.state_path))
        if current is not None:
            if serial is None:
                problems.append("views are out of date: %s is missing or unreadable (state serial %d);"
                                " the next change or a repair rewrites them" % (self.serial_path, current["serial"]))
            elif serial != current["serial"]:
                problems.append("views are out of date: %s says serial %d, the state is at serial %d;"
                                " the next change or a repair rewrites them"
                                % (self.serial_path, serial, current["serial"]))
            expected = compile_views(current)
        else:
            expected = {}
        for user in sorted(expected):
            try:
                view = self.read_view(user)
            except UnknownUser:
                problems.append("view of user %s is missing" % user)
                continue
            except StateError as exc:
                problems.append("view of user %s: %s" % (user, exc))
                continue
            if view != expected[user]:
                problems.append("view of user %s is out of date" % user)
        for name in sorted(os.listdir(self.views_dir)):
            path = os.path.join(self.views_dir, name)
            if name == SERIAL_FILE:
                continue
            if fsutil.is_temp_name(name):
                problems.append("leftover temporary file %s (a writer was interrupted)" % path)
            elif name.endswith(VIEW_SUFFIX) and current is not None:
                user = name[:-len(VIEW_SUFFIX)]
                if user not in expected:
                    problems.append("view %s belongs to no user of the state" % path)
            elif not name.endswith(VIEW_SUFFIX):
                problems.append("unexpected file %s in the views directory" % path)
        return problems
