# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A recording stand-in for dokku, docker and docker-over-ssh in the gate's unit tests.

NOT Dokku. The gate wipes the environment, so the settings come from ``recorder.json`` in
the directory holding this script (the tests write it, behind a ``#!/usr/bin/python3 -I``
line, and the settings into a temporary directory):

    {"log": "/path/calls.jsonl",       one JSON line a call (see ``record`` below)
     "repos": "/path/repos",           bare git repositories, one per app (APP.git)
     "apps": ["web", "api"],           what apps:list prints
     "services": {"postgres": ["db"]}, what <type>:list prints
     "fail": ["apps:create"],          commands that exit 1
     "stream_dir": "/path/stream"}     optional: a grandchild reads stdin (as docker load does
                                       under dokku), copies it to stream_dir/stdin as it comes,
                                       writes its pid to stream_dir/reader.pid and, only at EOF,
                                       stream_dir/eof

``git-receive-pack 'APP'`` / ``git-upload-pack 'APP'`` exec the real git on repos/APP.git; any
other call reads stdin to its end and records its size and SHA-256.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "recorder.json")) as handle:
    SETTINGS = json.load(handle)


def status_field(name):
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def record(extra):
    entry = {
        "argv": sys.argv,
        "executable": os.path.abspath(sys.argv[0]),
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "egid": os.getegid(),
        "resuid": list(os.getresuid()), "resgid": list(os.getresgid()),
        "groups": sorted(os.getgroups()),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "sigign": status_field("SigIgn"),
        "stdin_is_file": None,
    }
    try:
        import stat
        entry["stdin_is_file"] = stat.S_ISREG(os.fstat(0).st_mode)
        entry["stdin_is_fifo"] = stat.S_ISFIFO(os.fstat(0).st_mode)
        import fcntl
        entry["stdin_accmode"] = fcntl.fcntl(0, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        pass
    entry.update(extra)
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    fd = os.open(SETTINGS["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def write_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def main():
    args = sys.argv[1:]
    program = os.path.basename(sys.argv[0])
    command = args[0] if args else ""
    if command in ("git-receive-pack", "git-upload-pack") and len(args) == 2:
        app = args[1].strip("'").lstrip("/")
        record({"stdin_sha256": None, "stdin_bytes": None})
        repo = os.path.join(SETTINGS["repos"], app + ".git")
        git = "/usr/bin/git"
        os.execv(git, [git, command[4:], repo])
    digest = hashlib.sha256()
    size = 0
    stream_dir = SETTINGS.get("stream_dir")
    reader = os.fork() if stream_dir else 0
    if reader:
        os.close(0)
        os.waitpid(reader, 0)
        with open(os.path.join(stream_dir, "stdin"), "rb") as handle:
            data = handle.read()
        digest.update(data)
        size = len(data)
    out = None
    if stream_dir and not reader:
        write_file(os.path.join(stream_dir, "reader.pid"), b"%d" % os.getpid())
        out = os.open(os.path.join(stream_dir, "stdin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    while not reader:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        if out is not None:
            os.write(out, chunk)
        digest.update(chunk)
        size += len(chunk)
    if stream_dir and not reader:
        write_file(os.path.join(stream_dir, "eof"), b"%d" % size)
        os._exit(0)
    record({"stdin_sha256": digest.hexdigest(), "stdin_bytes": size, "program": program})
    if command in SETTINGS.get("fail", ()):
        sys.stderr.write("recorder: %s fails on purpose\n" % command)
        return 1
    as_json = "--format" in args and args[args.index("--format") + 1:][:1] == ["json"]
    if command == "apps:list":
        names = SETTINGS.get("apps", [])
        if as_json:
            print(json.dumps(names))
        else:
            print("=====> My Apps")
            for name in names:
                print(name)
        return 0
    if command.endswith(":list") and command.partition(":")[0] in SETTINGS.get("services", {}):
        kind = command.partition(":")[0]
        print("=====> %s services" % kind.capitalize())
        for name in SETTINGS["services"][kind]:
            print(name)
        return 0
    print("recorder: %s %s" % (program, " ".join(args)))
    return 0


sys.exit(main())
