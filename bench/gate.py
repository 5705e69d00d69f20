# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the gate's start-up: what every SSH command pays before its target runs.

1. The whole gate process (allowing ``version``, target ``/bin/true``) against a bare
   ``/usr/bin/python3 -I -S -c pass``, interleaved; target ratio <= 2.0.
2. The same gate run against a policy of 10,000 apps / 2,000 teams / 5,000 users and
   against a tiny one, interleaved; target ratio <= 1.2 (the gate reads one view).

Usage: bench/gate [--runs N]   (N >= 200; default 300). Run as root to measure the real
privilege drop (to ``nobody``); as another user the config says ``drop_privileges=false``.
Exit 1 when a ratio misses its target.
"""

import base64
import hashlib
import os
import shutil
import statistics
import struct
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "plugins"))

from module_utils import store as storelib  # noqa: E402
from module_utils.gateconfig import PYTHON  # noqa: E402  (the interpreter a host runs the gate with)
from module_utils.sshkeys import fingerprint  # noqa: E402

# The gate as a host runs it: bin/entry.py under python3 -IS, told which program to start.
GATE = os.path.join(REPO, "bin", "entry.py")
TARGET = "/bin/true"


def key(seed):
    material = hashlib.sha256(seed.encode()).digest()
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + material
    return "ssh-ed25519 %s %s" % (base64.b64encode(blob).decode(), seed), fingerprint(blob)


def empty_team():
    return {"owners": [], "members": [], "commands": [], "apps": [], "services": []}


def policy(users, teams, apps):
    """A state document: ``bench`` is a member of team t0 (granting ``version`` and its apps);
    every other user is in two teams; the apps are spread over the teams."""
    doc = {"version": 1, "users": {}, "teams": {"dokku@admin": empty_team()}}
    doc["users"]["bench"] = {"keys": [key("bench")[0]], "from": []}
    for number in range(users - 1):
        doc["users"]["u%05d" % number] = {"keys": [key("u%05d" % number)[0]], "from": []}
    names = sorted(doc["users"])
    for number in range(teams):
        team = empty_team()
        team["commands"] = ["version", "git-*", "config:*", "ps:*"]
        team["apps"] = sorted("app%05d" % a for a in range(number, apps, teams))
        team["owners"] = [names[(number * 3) % len(names)]]
        doc["teams"]["t%04d" % number] = team
    for index, user in enumerate(names):
        if user == "bench":
            doc["teams"]["t0000"]["members"].append(user)
            continue
        for team in ("t%04d" % (index % teams), "t%04d" % ((index * 7 + 1) % teams)):
            if user not in doc["teams"][team]["members"]:
                doc["teams"][team]["members"].append(user)
    for team in doc["teams"].values():
        for field in ("owners", "members", "commands", "apps"):
            team[field] = sorted(set(team[field]))
    return doc


def world(root, name, doc):
    state_dir = os.path.join(root, name, "state")
    os.makedirs(os.path.join(root, name), 0o755)
    store = storelib.Store(state_dir)
    store.init()
    started = time.perf_counter()
    store.save(doc)
    saved = time.perf_counter() - started
    log_dir = os.path.join(root, name, "log")
    os.mkdir(log_dir, 0o700)
    config = os.path.join(root, name, "gate.conf")
    with open(config, "w") as handle:
        handle.write("state_dir=%s\naudit_log=%s/audit.log\ndokku=%s\nrun_as=nobody\nhome=/\n"
                     "spool_dir=%s/spool\ndrop_privileges=%s\n"
                     % (state_dir, log_dir, TARGET, root, "true" if os.geteuid() == 0 else "false"))
    os.chmod(config, 0o600)
    argv = [PYTHON, "-IS", GATE, "gate", "--user", "bench", "--key", key("bench")[1], "--config", config]
    views = len(os.listdir(os.path.join(state_dir, "views")))
    view_bytes = os.path.getsize(os.path.join(state_dir, "views", "bench.json"))
    return argv, saved, views, view_bytes


def timed(argv, env):
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        started = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
        unused_pid, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - started
    finally:
        os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("bench: %s exited with %d" % (argv, os.waitstatus_to_exitcode(status)))
    return elapsed


def compare(label_a, argv_a, label_b, argv_b, env, runs):
    for unused_run in range(10):  # warm up (byte code caches, page cache)
        timed(argv_a, env)
        timed(argv_b, env)
    a, b = [], []
    for index in range(runs):
        pair = ((a, argv_a), (b, argv_b)) if index % 2 == 0 else ((b, argv_b), (a, argv_a))
        for samples, argv in pair:
            samples.append(timed(argv, env))
    med_a, med_b = statistics.median(a) * 1000, statistics.median(b) * 1000
    print("  %-52s median %7.2f ms  (p10 %.2f, p90 %.2f)" % (label_a, med_a, *_deciles(a)))
    print("  %-52s median %7.2f ms  (p10 %.2f, p90 %.2f)" % (label_b, med_b, *_deciles(b)))
    return med_a / med_b


def _deciles(samples):
    cuts = statistics.quantiles(samples, n=10)
    return cuts[0] * 1000, cuts[-1] * 1000


def main(args):
    runs = 300
    if args[:1] == ["--runs"] and len(args) == 2:
        runs = int(args[1])
    elif args:
        raise SystemExit(__doc__)
    if runs < 200:
        raise SystemExit("bench: --runs must be at least 200")
    root = tempfile.mkdtemp(prefix="gate-bench-")
    os.chmod(root, 0o755)
    env = {"SSH_ORIGINAL_COMMAND": "version", "SSH_CONNECTION": "192.0.2.7 50000 192.0.2.1 22",
           "PATH": "/usr/bin:/bin"}
    failed = False
    try:
        tiny_argv, tiny_save, tiny_views, tiny_bytes = world(root, "tiny", policy(3, 2, 4))
        print("gate start-up benchmark: %d interleaved runs each, uid %d%s"
              % (runs, os.geteuid(), " (real drop to nobody)" if os.geteuid() == 0 else " (no drop)"))
        print("1. gate allowing `version` (target %s) vs bare interpreter" % TARGET)
        ratio = compare("gate, tiny policy", tiny_argv, "%s -I -S -c pass" % PYTHON,
                        [PYTHON, "-I", "-S", "-c", "pass"], env, runs)
        ok = ratio <= 2.0
        failed |= not ok
        print("  ratio %.2fx (target <= 2.0x) %s" % (ratio, "ok" if ok else "MISSED"))
        print("building 10,000 apps / 2,000 teams / 5,000 users with the store API ...")
        big_argv, big_save, big_views, big_bytes = world(root, "big", policy(5000, 2000, 10000))
        print("  store.save: %.1f s, %d views; the bench user's view: %d bytes (tiny policy: %d bytes)"
              % (big_save, big_views, big_bytes, tiny_bytes))
        print("2. same gate run, big policy vs tiny policy")
        ratio = compare("gate, 10k apps / 2k teams / 5k users", big_argv, "gate, tiny policy", tiny_argv,
                        env, runs)
        ok = ratio <= 1.2
        failed |= not ok
        print("  ratio %.2fx (target <= 1.2x) %s" % (ratio, "ok" if ok else "MISSED"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
