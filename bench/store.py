# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store benchmarks: sequential transactions, and the gate's view read in a small vs a big policy.

    python3 bench/store.py [--dir DIR] [--changes 1000] [--reads 2000] [--cold 30]

DIR (default: a new temporary directory, removed afterwards) should be on the file system the
state lives on: fsync costs depend on it. Figures are medians; times in milliseconds.
Targets: 1,000 changes <= 10 s; read_view big/small ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(os.path.dirname(HERE), "plugins")
sys.path.insert(0, PLUGINS)

from module_utils import fsutil, state as st, store  # noqa: E402


def key(name):
    material = hashlib.sha256(name.encode()).digest()
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + material
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " " + name


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


class FsyncTimer(object):
    """Wraps os.fsync as fsutil sees it, to tell how much of a transaction is fsync."""

    def __init__(self, enabled=True):
        self.total = 0.0
        self.calls = 0
        self.enabled = enabled
        self.real = os.fsync

    def __call__(self, fd):
        started = time.perf_counter()
        if self.enabled:
            self.real(fd)
        self.total += time.perf_counter() - started
        self.calls += 1

    def __enter__(self):
        fsutil.os.fsync = self
        return self

    def __exit__(self, *exc):
        fsutil.os.fsync = self.real


def small_policy_with_pairs(users=50, teams=20):
    doc = st.empty_state()
    for i in range(users):
        doc["users"]["u%d" % i] = {"keys": [key("u%d" % i)], "from": []}
    for t in range(teams):
        doc["teams"]["team%d" % t] = {"owners": ["u0"], "members": [], "commands": ["git-*", "ps:*"],
                                      "apps": ["app%d" % t], "services": []}
    doc["teams"]["dokku@admin"]["members"] = ["u0"]
    return doc, [("team%d" % (n // users), "u%d" % (n % users)) for n in range(users * teams)]


def bench_changes(base_dir, changes, fsync=True):
    state_dir = os.path.join(base_dir, "changes-%s" % ("fsync" if fsync else "nofsync"))
    s = store.Store(state_dir)
    s.init()
    doc, pairs = small_policy_with_pairs()
    s.save(doc)
    pairs = pairs[:changes]
    per = []
    with FsyncTimer(enabled=fsync) as timer:
        started = time.perf_counter()
        for team, user in pairs:
            t0 = time.perf_counter()
            with s.transaction() as tx:
                tx.state = st.add_members(tx.state, team, [user], "member")
            per.append(time.perf_counter() - t0)
        total = time.perf_counter() - started
    final = s.load()
    assert sum(len(t["members"]) for n, t in final["teams"].items() if n != "dokku@admin") == len(pairs)
    assert s.doctor() == []
    per.sort()
    timer.p90 = per[int(len(per) * 0.9)]
    timer.worst = per[-1]
    return total, median(per), timer


def view_policy(apps, teams, users, measured="bench-user"):
    """``teams`` teams holding ``apps`` apps between them; ``measured`` is a member of two teams
    of five apps each, whatever the size, so the view the gate reads has the same size."""
    doc = st.empty_state()
    for i in range(users - 1):
        doc["users"]["u%d" % i] = {"keys": [key("u%d" % i)], "from": []}
    doc["users"][measured] = {"keys": [key(measured)], "from": []}
    per_team = max(1, apps // teams)
    names = ["app%d" % i for i in range(apps)]
    for t in range(teams):
        team_apps = names[t * per_team:(t + 1) * per_team] if t < teams - 1 else names[t * per_team:]
        members = ["u%d" % ((t * 5 + j) % (users - 1)) for j in range(5)] if users > 1 else []
        doc["teams"]["t%d" % t] = {"owners": members[:1], "members": members, "commands": ["git-*", "ps:*"],
                                   "apps": team_apps, "services": [{"type": "postgres", "name": "db%d" % t}]}
    for t, first in (("t0", 0), ("t1", 5)):
        doc["teams"][t]["apps"] = names[first:first + 5]
        doc["teams"][t]["members"].append(measured)
    return doc


WARM = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from module_utils import store
state_dir, user, reads = sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(50):
    store.read_view(state_dir, user)
samples = []
for _ in range(reads):
    t0 = time.perf_counter()
    store.read_view(state_dir, user)
    samples.append(time.perf_counter() - t0)
samples.sort()
print(samples[len(samples) // 2])
"""

COLD = r"""
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from module_utils import store
view = store.read_view(sys.argv[2], sys.argv[3])
print(time.perf_counter() - t0)
"""


def bench_read(base_dir, name, apps, teams, users, reads, cold):
    state_dir = os.path.join(base_dir, name)
    s = store.Store(state_dir)
    s.init()
    doc = view_policy(apps, teams, users)
    started = time.perf_counter()
    s.save(doc)
    save_time = time.perf_counter() - started
    started = time.perf_counter()
    with s.transaction() as tx:
        tx.state = st.add_grants(tx.state, "t5" if "t5" in tx.state["teams"] else "t2", commands=["logs"])
    tx_time = time.perf_counter() - started
    view_size = os.path.getsize(os.path.join(state_dir, "views", "bench-user.json"))
    state_size = os.path.getsize(os.path.join(state_dir, "state.json"))
    # Reads run in a fresh interpreter: the heap of the process that built the big policy
    # would otherwise make the garbage collector, not the store, the difference.
    # (the median of three processes' medians)
    samples = [float(subprocess.run([sys.executable, "-I", "-S", "-c", WARM, PLUGINS, state_dir, "bench-user",
                                     str(reads)], check=True, capture_output=True, text=True).stdout)
               for unused_run in range(3)]
    cold_samples = []
    for unused_run in range(cold):
        out = subprocess.run([sys.executable, "-I", "-S", "-c", COLD, PLUGINS, state_dir, "bench-user"],
                             check=True, capture_output=True, text=True).stdout
        cold_samples.append(float(out))
    return {"save": save_time, "tx": tx_time, "view_bytes": view_size, "state_bytes": state_size,
            "read": median(samples), "cold": median(cold_samples) if cold_samples else 0.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="where to create the state directories (default: a temporary one)")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=30, help="fresh interpreters that import store and read a view")
    args = parser.parse_args()
    base_dir = tempfile.mkdtemp(prefix="dokku-teams-bench-", dir=args.dir)
    os.chmod(base_dir, 0o700)
    ms = 1000.0
    try:
        print("state directories under %s" % base_dir)
        total, per, timer = bench_changes(base_dir, args.changes, fsync=True)
        print("%d sequential changes (add one member, 50 users / 20 teams): total %.2f s, median %.2f ms a change"
              " [target <= 10 s: %s]" % (args.changes, total, per * ms, "ok" if total <= 10 else "MISSED"))
        print("  per change: p90 %.2f ms, worst %.1f ms (a slow tail is other I/O on the disk)"
              % (timer.p90 * ms, timer.worst * ms))
        print("  fsync: %d calls, %.2f s in all (%.0f%% of the total), %.3f ms a call"
              % (timer.calls, timer.total, 100 * timer.total / total, timer.total / max(1, timer.calls) * ms))
        total_nf, per_nf, unused_timer = bench_changes(base_dir, args.changes, fsync=False)
        print("  same without fsync (measurement only; the store always fsyncs): total %.2f s, median %.2f ms"
              % (total_nf, per_nf * ms))
        small = bench_read(base_dir, "small", 10, 5, 10, args.reads, args.cold)
        big = bench_read(base_dir, "big", 10000, 2000, 5000, args.reads, args.cold)
        for label, figures, shape in (("small", small, "10 apps / 5 teams / 10 users"),
                                      ("big", big, "10,000 apps / 2,000 teams / 5,000 users")):
            print("%-5s policy (%s): state.json %d bytes, view %d bytes; save %.0f ms, one change %.0f ms;"
                  " read_view median %.1f us in process, %.2f ms in a fresh interpreter (import + read)"
                  % (label, shape, figures["state_bytes"], figures["view_bytes"], figures["save"] * ms,
                     figures["tx"] * ms, figures["read"] * 1e6, figures["cold"] * ms))
        ratio = big["read"] / small["read"]
        print("read_view big/small ratio: %.3f in process [target <= 1.2: %s]" % (ratio, "ok" if ratio <= 1.2 else
                                                                                  "MISSED"))
        if args.cold:
            print("read_view big/small ratio: %.3f in a fresh interpreter" % (big["cold"] / small["cold"]))
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
