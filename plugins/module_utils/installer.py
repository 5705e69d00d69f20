# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring an ordered list of managed things in line in one call (the role's installer).

Each task of a playbook costs a round trip and the controller's work for the task, which on a
first run added up to most of the role's time; one call that walks the list costs one. The
items are applied in order and the first one that fails stops the call: a later item may rely
on an earlier one (the engine before the command that runs it, the ci account's group before
the file it owns), just as the tasks relied on the ones before them.

Kinds (``kind`` of each item):

* ``dir``: ``path``, ``owner``, ``group``, ``mode``; missing parents are made (0755 root).
* ``file``: ``path``, ``content``, ``owner``, ``group``, ``mode``, ``validate`` (an argv with
  ``%s``, run on a copy in a private directory before the file is replaced), ``diff``
  (``False``: a one-line summary instead of the content, for the engine's sources), ``keep``
  (``True``: written only when nothing is there; what is there is left as it is).
* ``link``: ``path`` to ``src``.
* ``absent``: ``path`` (a directory with everything in it).
* ``account``: ``name``, ``comment``, ``home``, ``shell``, ``groups``: the ci account, its own
  group, password ``*``. An existing account whose comment is not ``comment`` is never changed.
* ``blocks``: ``path`` (symlinks followed), ``blocks`` (``[marker, text or None]``, in order; a
  missing block goes to the top, a present one is replaced where it is, ``None`` removes it),
  ``validate``: the ``# BEGIN``/``# END`` blocks of Ansible's blockinfile, byte for byte.
* ``command``: ``argv``, ``creates`` (skip when that path exists), ``changed_if`` (text whose
  presence in the output means it changed; default: it changed when it ran). Not run in check
  mode; one with ``creates`` reports the change it would make.

``phase`` (any item): a label; the outcome lists the labels of the items that changed.

Check mode computes the same answer and writes nothing. Standard library only.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

from .fsutil import atomic_write

SHADOW = "/etc/shadow"
LOCKED = "*"


class InstallError(Exception):
    """One item could not be brought in line: ``str()`` says which and what to do."""


class Outcome(object):
    """What a call changed (or would): paths in order, and their diffs."""

    def __init__(self, check, want_diff):
        self.check = check
        self.want_diff = want_diff
        self.changed = []
        self.diff = []
        self.phases = []
        self.phase = None

    def record(self, what, before=None, after=None):
        self.changed.append(what)
        if self.phase and self.phase not in self.phases:
            self.phases.append(self.phase)
        if self.want_diff and (before is not None or after is not None):
            self.diff.append({"before_header": what, "after_header": what,
                              "before": before or "", "after": after or ""})


def _uid(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise InstallError("the user %s does not exist" % name) from None


def _gid(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise InstallError("the group %s does not exist" % name) from None


def _mode(text):
    return int(str(text), 8)


def _meta_line(info):
    return "%04o %s:%s" % (stat.S_IMODE(info.st_mode), _name(pwd.getpwuid, info.st_uid),
                           _name(grp.getgrgid, info.st_gid))


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def _fix_meta(path, info, item, outcome):
    """Owner, group and mode of an existing ``path`` (``info``: its lstat) as ``item`` says."""
    uid, gid, mode = _uid(item["owner"]), _gid(item["group"]), _mode(item["mode"])
    if (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (uid, gid, mode):
        return
    want = "%04o %s:%s\n" % (mode, item["owner"], item["group"])
    outcome.record(path + " (owner and mode)", _meta_line(info) + "\n", want)
    if not outcome.check:
        os.chown(path, uid, gid, follow_symlinks=False)
        os.chmod(path, mode)


def _lstat(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def ensure_dir(item, outcome):
    path = item["path"]
    info = _lstat(path)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise InstallError("%s is not a directory (%s): move it away so the directory can be made"
                           % (path, "a symlink" if stat.S_ISLNK(info.st_mode) else "a file"))
    if info is not None:
        _fix_meta(path, info, item, outcome)
        return
    outcome.record(path, "absent\n", "directory %s %s:%s\n" % (item["mode"], item["owner"], item["group"]))
    if outcome.check:
        return
    os.makedirs(os.path.dirname(path) or "/", mode=0o755, exist_ok=True)
    # made private, then opened up: nobody gets in before the owner and mode are right
    os.mkdir(path, 0o700)
    os.chown(path, _uid(item["owner"]), _gid(item["group"]))
    os.chmod(path, _mode(item["mode"]))


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _text(data):
    return data.decode("utf-8", "replace")


def validate(argv, data, item):
    """Run ``argv`` (``%s``: a copy of ``data`` with the item's owner and mode) or fail."""
    if not argv:
        return
    work = tempfile.mkdtemp(prefix="dokku-teams-install.")
    try:
        copy = os.path.join(work, os.path.basename(item["path"]))
        atomic_write(copy, data, mode=_mode(item.get("mode", "0644")), owner_uid=_uid(item.get("owner", "root")),
                     group_gid=_gid(item.get("group", "root")), sync=False)
        done = subprocess.run([arg.replace("%s", copy) for arg in argv], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    except OSError as error:
        raise InstallError("cannot check the new %s with %s: %s" % (item["path"], argv[0], error)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        # as run on the file it checks; a program given inline is shown as "..."
        shown = " ".join("..." if "\n" in word else word.replace("%s", item["path"]) for word in argv)
        raise InstallError("the new %s fails `%s` (exit %d), so it was not written: %s"
                           % (item["path"], shown, done.returncode,
                              " ".join(_text(done.stdout).replace(copy, item["path"]).split())))


def _write(path, data, item, outcome, before):
    """Record and (unless checking) validate and replace ``path`` with ``data``."""
    if item.get("diff", True):
        outcome.record(path, None if before is None else _text(before), _text(data))
    else:
        outcome.record(path, None, "(%d bytes, content not shown)\n" % len(data))
    if outcome.check:
        return
    validate(item.get("validate"), data, item)
    atomic_write(path, data, mode=_mode(item["mode"]), owner_uid=_uid(item["owner"]), group_gid=_gid(item["group"]))


def ensure_file(item, outcome):
    path = item["path"]
    data = item["content"].encode("utf-8")
    info = _lstat(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InstallError("%s is a directory, not a file: move it away so the file can be written" % path)
    if info is not None and item.get("keep"):
        return
    before = _read(path) if info is not None and stat.S_ISREG(info.st_mode) else None
    if before == data:
        _fix_meta(path, info, item, outcome)
        return
    _write(path, data, item, outcome, before)


def ensure_link(item, outcome):
    path, src = item["path"], item["src"]
    info = _lstat(path)
    if info is not None and stat.S_ISLNK(info.st_mode) and os.readlink(path) == src:
        return
    if info is not None and not stat.S_ISLNK(info.st_mode):
        raise InstallError("%s exists and is not a symlink: move it away so it can point to %s" % (path, src))
    outcome.record(path, None if info is None else "link to %s\n" % os.readlink(path), "link to %s\n" % src)
    if outcome.check:
        return
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    temp = "%s.tmp-%s" % (path, os.urandom(6).hex())
    os.symlink(src, temp)
    try:
        os.rename(temp, path)
    except OSError:
        os.unlink(temp)
        raise


def ensure_absent(item, outcome):
    path = item["path"]
    info = _lstat(path)
    if info is None:
        return
    outcome.record(path, "present\n", "absent\n")
    if outcome.check:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _account_now(name):
    """``(passwd entry or None, gid of the group NAME or None, supplementary groups, password)``."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        gid = None
    groups = sorted(group.gr_name for group in grp.getgrall() if name in group.gr_mem)
    password = None
    try:
        with open(SHADOW) as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    password = line.split(":")[1]
    except OSError:
        pass
    return entry, gid, groups, password


def _run(argv, what):
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False)
    if done.returncode != 0:
        raise InstallError("%s failed (`%s`, exit %d): %s" % (what, " ".join(argv), done.returncode,
                                                              " ".join(_text(done.stdout).split())))
    return _text(done.stdout)


def _account_line(comment, home, shell, group, groups, password):
    return "comment=%s home=%s shell=%s group=%s groups=%s password=%s\n" % (
        comment, home, shell, group, ",".join(groups), "locked (*)" if password == LOCKED else "set")


def ensure_account(item, outcome):
    """The role's own account: created, or repaired when it carries the role's comment."""
    name, groups = item["name"], sorted(item["groups"])
    entry, gid, now_groups, password = _account_now(name)
    if entry is not None and (entry.pw_uid == 0 or entry.pw_gecos != item["comment"]):
        raise InstallError("the account %s already exists and the role did not create it (comment %r, not %r):"
                           " set dokku_teams_ci_user to a name that does not exist yet"
                           % (name, entry.pw_gecos, item["comment"]))
    for group in groups:
        _gid(group)
    after = _account_line(item["comment"], item["home"], item["shell"], name, groups, LOCKED)
    if gid is None:
        outcome.record("group %s" % name, "absent\n", "system group\n")
        if not outcome.check:
            _run(["/usr/sbin/groupadd", "--system", name], "creating the group %s" % name)
    if entry is None:
        outcome.record("account %s" % name, "absent\n", after)
        if not outcome.check:
            _run(["/usr/sbin/useradd", "--system", "--gid", name, "--comment", item["comment"],
                  "--home-dir", item["home"], "--no-create-home", "--shell", item["shell"], "--password", LOCKED]
                 + (["--groups", ",".join(groups)] if groups else []) + [name], "creating the account %s" % name)
        return
    before = _account_line(entry.pw_gecos, entry.pw_dir, entry.pw_shell, _name(grp.getgrgid, entry.pw_gid),
                           now_groups, password)
    if before == after:
        return
    outcome.record("account %s" % name, before, after)
    if not outcome.check:
        _run(["/usr/sbin/usermod", "--gid", name, "--comment", item["comment"], "--home", item["home"], "--shell",
              item["shell"], "--password", LOCKED, "--groups", ",".join(groups), name],
             "updating the account %s" % name)


def set_blocks(lines, marker, text):
    """Ansible's blockinfile with ``insertbefore: BOF`` on ``lines`` (bytes, each with its end):
    the block replaces the one between its markers, or goes first; ``text`` None removes it."""
    begin = marker.replace("{mark}", "BEGIN").encode("utf-8") + b"\n"
    end = marker.replace("{mark}", "END").encode("utf-8") + b"\n"
    body = []
    if text:
        text = text if text.endswith("\n") else text + "\n"
        body = [begin] + text.encode("utf-8").splitlines(True) + [end]
    first = last = None
    for number, line in enumerate(lines):
        if line == begin:
            first = number
        if line == end:
            last = number
    if first is None or last is None:
        if not body:
            return lines
        at = 0
    else:
        at = min(first, last)
        lines = lines[:at] + lines[max(first, last) + 1:]
    if at > 0 and not lines[at - 1].endswith(b"\n"):
        lines = lines[:at - 1] + [lines[at - 1] + b"\n"] + lines[at:]
    return lines[:at] + body + lines[at:]


def ensure_blocks(item, outcome):
    path = os.path.realpath(item["path"])
    try:
        before = _read(path)
        info = os.stat(path)
    except OSError as error:
        raise InstallError("cannot read %s: %s" % (item["path"], error.strerror)) from None
    lines = before.splitlines(True)
    for marker, text in item["blocks"]:
        lines = set_blocks(lines, marker, text)
    data = b"".join(lines)
    if data == before:
        return
    outcome.record(path, _text(before), _text(data))
    if outcome.check:
        return
    meta = {"path": path, "mode": "%o" % stat.S_IMODE(info.st_mode), "owner": _name(pwd.getpwuid, info.st_uid),
            "group": _name(grp.getgrgid, info.st_gid)}
    validate(item.get("validate"), data, meta)
    atomic_write(path, data, mode=stat.S_IMODE(info.st_mode), owner_uid=info.st_uid, group_gid=info.st_gid)


def run_command(item, outcome):
    argv, creates = item["argv"], item.get("creates")
    if creates and os.path.lexists(creates):
        return
    what = "ran " + " ".join(argv)
    if outcome.check:
        if creates:
            outcome.record(what)
        return
    out = _run(argv, "`%s`" % argv[0])
    if item.get("changed_if") is None or item["changed_if"] in out:
        outcome.record(what)


KINDS = {"dir": ensure_dir, "file": ensure_file, "link": ensure_link, "absent": ensure_absent,
         "account": ensure_account, "blocks": ensure_blocks, "command": run_command}


def apply(items, check=False, diff=False):
    """Bring ``items`` in line in order; stop at the first that fails (``InstallError``)."""
    outcome = Outcome(check, diff)
    for number, item in enumerate(items):
        label = item.get("path") or item.get("name") or " ".join(item.get("argv") or ())
        outcome.phase = item.get("phase")
        try:
            KINDS[item["kind"]](item, outcome)
        except InstallError as error:
            raise InstallError("item %d (%s %s): %s" % (number + 1, item["kind"], label, error)) from None
        except OSError as error:
            raise InstallError("item %d (%s %s): %s%s" % (number + 1, item["kind"], label, error.strerror or error,
                                                          " (%s)" % error.filename if error.filename else "")) from None
    return outcome
