# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the deploy guard: what a deploy pays before Dokku's own core-post-extract.

A source tree of 10,000 files (the extracted repository Dokku hands the trigger) with a
realistic CHECKS, nginx.conf.sigil (~200 actions) and a multi-stage Dockerfile. Measured:

1. the whole ``deploy-guard`` process (beside a bare ``python3 -IS -c pass``, interleaved, to
   show what the machine's load adds) (``bin/dokku-teams-deploy-guard``) as plugn starts it, for a
   non-admin (every check runs; no Docker engine is asked: DOCKER_BIN points nowhere);
2. the decision alone, in process.

Target: the process under 1 s (median). Usage: bench/guard [--runs N]  (default 30).
Exit 1 when the target is missed.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "plugins"))

from module_utils import deployguard  # noqa: E402

FILES = 10000
TARGET = 1.0


def make_tree(root):
    for i in range(FILES - 3):
        d = os.path.join(root, "src", "pkg%03d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(d)
        with open(os.path.join(d, "m%05d.py" % i), "w") as f:
            f.write("x = %d\n" % i)
    with open(os.path.join(root, "CHECKS"), "w") as f:
        f.write("WAIT=5\nATTEMPTS=6\n/health ok\n/{{ $.APP | lower }} {{ printf \"%s\" \"ok\" }}\n")
    block = ('{{ range $port_map := .PROXY_PORT_MAP | split " " }}{{ $p := $port_map | split ":" }}'
             '{{ if eq (index $p 0) "http" }}server {{ index $p 1 }};{{ else }}{{ "x" | upper }}{{ end }}{{ end }}\n')
    with open(os.path.join(root, "nginx.conf.sigil"), "w") as f:
        f.write(block * 40)
    with open(os.path.join(root, "Dockerfile"), "w") as f:
        f.write("# syntax=docker/dockerfile:1\nARG BASE=debian:bookworm\nFROM ${BASE} AS build\n"
                "RUN --mount=type=cache,target=/root/.cache make\nFROM debian:bookworm-slim\n"
                "COPY --from=build /out /app\nCMD [\"/app/run\"]\n")


def main(argv):
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 30
    tmp = tempfile.mkdtemp(prefix="guard-bench-")
    try:
        tree = os.path.join(tmp, "tree")
        os.makedirs(tree)
        make_tree(tree)
        count = sum(len(files) for unused, unused2, files in os.walk(tree))
        env = {"PATH": "/usr/bin:/bin", "NAME": "alice", "DOKKU_LIB_ROOT": os.path.join(tmp, "lib"),
               "DOCKER_BIN": os.path.join(tmp, "no-docker")}
        argv = [os.path.join(REPO, "bin", "dokku-teams-deploy-guard"), "--guard-file",
                os.path.join(tmp, "guard.json"), "web", tree, "0" * 40]
        process, bare = [], []
        for unused in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, check=False)
            process.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr.decode())
                return 2
            t0 = time.perf_counter()
            subprocess.run(["/usr/bin/python3", "-IS", "-c", "pass"], check=False)
            bare.append(time.perf_counter() - t0)
        inproc = []
        for unused in range(runs):
            t0 = time.perf_counter()
            assert deployguard.decide("web", tree, {}, os.path.join(tmp, "lib"), inspect=lambda ref: None) is None
            inproc.append(time.perf_counter() - t0)
        median = statistics.median(process)
        print("deploy guard on a %d-file tree: process median %.1f ms (max %.1f ms; a bare python3 -IS "
              "start here: %.1f ms), decision alone median %.2f ms; target < %.0f ms: %s"
              % (count, median * 1000, max(process) * 1000, statistics.median(bare) * 1000,
                 statistics.median(inproc) * 1000, TARGET * 1000, "ok" if median < TARGET else "MISSED"))
        return 0 if median < TARGET else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
