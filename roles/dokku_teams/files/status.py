# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's one look at the host: which phases are current, and what the later tasks read.

A phase (packages, the ci account, the engine, ...) is current when the stamp the role wrote
after its last complete run names the same key (the collection's files and the role's
settings, hashed on the controller) and every thing the phase manages still has the
fingerprint recorded then. A hand edit, a removed file, an upgraded package or a changed
setting makes the phase run again; an untouched host is not touched at all.
"""

# Run on the host as `python3 -I -S -c SOURCE REQUEST` (tasks/status.yml): REQUEST is one JSON
# object, the answer one JSON object on stdout. Standard library only.
#
# REQUEST: stamp (path of the stamp, 0600; one this user does not own or that group or
# others may write is ignored), key (the controller's hash of the collection's files and the
# role's settings), phases (name to things: /PATH type, content hash, mode, owner; meta:/PATH
# the same without content; tree:/DIR its files' names and fingerprints; user:NAME passwd and
# shadow entries and groups; pkg:NAME dpkg's status and version; value:TEXT the text itself,
# for what the controller declares), files (paths whose
# "SHA1 MODE UID GID" to return), listing (a directory whose *.py files not among files are
# returned as extra), accounts (names whose passwd entry to return), read (text files to
# return), run (name to argv of a read-only command; one whose program is missing is left out),
# packages (names dpkg must hold installed), write (record the stamp instead of comparing; the
# answer says whether it changed).
# ANSWER: current (phase to bool), files, extra, accounts, read, run (name to rc, stdout, stderr),
# missing (the packages dpkg does not hold installed), systemd (whether systemd runs the host:
# Ansible's own test, so the sshd handler need not ask the host for its service manager).

import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess

import sys

DPKG_STATUS = "/var/lib/dpkg/status"


def _sha1(path):
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read()).hexdigest()


def path_print(path, content=True):
    try:
        info = os.lstat(path)
    except OSError:
        return "absent"
    owner = "%04o %d %d" % (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    if stat.S_ISLNK(info.st_mode):
        return "link %s %s" % (os.readlink(path), owner)
    if stat.S_ISDIR(info.st_mode):
        return "dir " + owner
    if not stat.S_ISREG(info.st_mode):
        return "other " + owner
    return "file %s %s" % (_sha1(path) if content else "-", owner)


def tree_print(path):
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return "absent"
    return " ".join("%s=%s" % (name, path_print(os.path.join(path, name))) for name in names)


def user_print(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return "absent"
    groups = sorted(group.gr_name for group in grp.getgrall() if name in group.gr_mem)
    password = ""
    try:
        with open("/etc/shadow") as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    password = hashlib.sha1(line.split(":")[1].encode()).hexdigest()
    except OSError:
        pass
    return json.dumps([list(entry), password, groups])


class Packages(object):
    """dpkg's status file, read once for every ``pkg:`` item."""

    def __init__(self):
        self.table = None

    def get(self, name):
        if self.table is None:
            self.table = {}
            try:
                with open(DPKG_STATUS) as handle:
                    for block in handle.read().split("\n\n"):
                        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                        if "Package" in fields:
                            self.table[fields["Package"]] = "%s %s" % (fields.get("Status"), fields.get("Version"))
            except OSError:
                pass
        return self.table.get(name, "absent")


def fingerprint(things, packages):
    """One hash over the fingerprints of a phase's things."""
    out = []
    for thing in things:
        kind, sep, rest = thing.partition(":")
        if not sep or thing.startswith("/"):
            out.append(path_print(thing))
        elif kind == "meta":
            out.append(path_print(rest, content=False))
        elif kind == "tree":
            out.append(tree_print(rest))
        elif kind == "user":
            out.append(user_print(rest))
        elif kind == "pkg":
            out.append(packages.get(rest))
        elif kind == "value":
            out.append(rest)
        else:
            raise ValueError("unknown kind of thing %s" % thing)
        out[-1] = "%s %s" % (thing, out[-1])
    return hashlib.sha1("\n".join(out).encode()).hexdigest()


def read_stamp(path):
    """The stamp, or ``{}`` when it is missing or cannot be trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return {}
        with os.fdopen(os.dup(fd), "rb") as handle:
            doc = json.loads(handle.read(1 << 20).decode("utf-8"))
    except ValueError:
        return {}
    finally:
        os.close(fd)
    return doc if isinstance(doc, dict) else {}


def write_stamp(path, doc):
    data = json.dumps(doc, sort_keys=True, indent=1).encode("utf-8")
    temp = path + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temp, path)


def file_table(paths, listing):
    files = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            files[path] = "%s %04o %d %d" % (_sha1(path), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
        else:
            files[path] = "not-a-file"
    extra = []
    if listing:
        try:
            names = sorted(os.listdir(listing))
        except OSError:
            names = []
        extra = [os.path.join(listing, name) for name in names
                 if name.endswith(".py") and os.path.join(listing, name) not in paths]
    return files, extra


def account(name):
    try:
        return list(pwd.getpwnam(name))[1:]
    except KeyError:
        return None


def run_commands(commands):
    out = {}
    for name, argv in sorted(commands.items()):
        if not argv or not os.path.exists(argv[0]):
            continue
        done = subprocess.run([str(arg) for arg in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        out[name] = {"rc": done.returncode, "stdout": done.stdout.decode("utf-8", "replace"),
                     "stderr": done.stderr.decode("utf-8", "replace")}
    return out


def read_files(paths):
    out = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                out[path] = handle.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            continue
    return out


def main(request):
    packages = Packages()
    prints = dict((name, fingerprint(things or [], packages)) for name, things in request.get("phases", {}).items())
    if request.get("write"):
        doc = {"key": request["key"], "phases": prints}
        changed = read_stamp(request["stamp"]) != doc
        if changed:
            write_stamp(request["stamp"], doc)
        return {"changed": changed}
    stamp = read_stamp(request["stamp"]) if request.get("stamp") else {}
    recorded = stamp.get("phases") if stamp.get("key") == request.get("key") else None
    recorded = recorded if isinstance(recorded, dict) else {}
    files, extra = file_table(request.get("files", []), request.get("listing"))
    return {"current": dict((name, recorded.get(name) == value) for name, value in prints.items()),
            "files": files, "extra": extra, "read": read_files(request.get("read", [])),
            "accounts": dict((name, account(name)) for name in request.get("accounts", [])),
            "run": run_commands(request.get("run", {})),
            "systemd": os.path.isdir("/run/systemd/system"),
            "missing": [name for name in request.get("packages", [])
                        if not packages.get(name).startswith("install ok installed ")]}


try:
    print(json.dumps(main(json.loads(sys.argv[1]))))
except (ValueError, KeyError, IndexError) as error:
    sys.exit("dokku_teams status: bad request: %s" % error)
