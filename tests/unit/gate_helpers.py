# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a throwaway world for the real gate process: a state dir (through the store API),
a gate config, a recording stand-in for dokku/docker/docker-over-ssh, and a runner.

When the tests run as root (CI, the dev machines) the gate really drops to ``nobody``; as
an ordinary user the config says ``drop_privileges=false``. Everything lives in a directory
made with ``tempfile.mkdtemp`` and opened to ``nobody`` (pytest's own tmp dirs are 0700).
"""

import base64
import hashlib
import json
import os
import pwd
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# The gate as a host runs it: bin/entry.py under python3 -IS, told which program to start.
GATE = os.path.join(REPO, "bin", "entry.py")
RECORDER = os.path.join(HERE, "fakes", "recorder.py")
# The recorder's source has no shebang; the copies in a world run as programs behind this line.
RECORDER_SHEBANG = b"#!/usr/bin/python3 -I\n"
PYTHON = "/usr/bin/python3"

sys.path.insert(0, os.path.join(REPO, "plugins"))

from module_utils import state as statelib  # noqa: E402
from module_utils import store as storelib  # noqa: E402
from module_utils.sshkeys import fingerprint  # noqa: E402

IS_ROOT = os.geteuid() == 0
RUN_AS = "nobody"


def make_key(seed):
    """A syntactically valid ssh-ed25519 public key line, deterministic per seed."""
    material = hashlib.sha256(seed.encode()).digest()
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + material
    return "ssh-ed25519 %s %s@test" % (base64.b64encode(blob).decode(), seed), blob


def key_fp(seed):
    return fingerprint(make_key(seed)[1])


class World(object):
    """A state dir, a config and a stand-in under one temporary root."""

    def __init__(self, apps=("web", "api", "other-app"), services=None):
        self.root = tempfile.mkdtemp(prefix="gate-test-")
        os.chmod(self.root, 0o755)
        self.state_dir = os.path.join(self.root, "state")
        self.spool_dir = os.path.join(self.root, "spool")
        self.log_dir = os.path.join(self.root, "log")
        self.audit_log = os.path.join(self.log_dir, "audit.log")
        self.bin = os.path.join(self.root, "bin")
        self.home = os.path.join(self.root, "home")
        self.rec_dir = os.path.join(self.root, "rec")
        self.repos = os.path.join(self.rec_dir, "repos")
        self.calls = os.path.join(self.rec_dir, "calls.jsonl")
        for path in (self.log_dir, self.bin, self.home, self.rec_dir, self.repos):
            os.makedirs(path, 0o755, exist_ok=True)
            os.chmod(path, 0o755)
        os.chmod(self.log_dir, 0o700)
        self.dokku = os.path.join(self.bin, "dokku")
        self.docker = os.path.join(self.bin, "docker")
        self.dos = os.path.join(self.bin, "docker-over-ssh")
        with open(RECORDER, "rb") as handle:
            recorder = RECORDER_SHEBANG + handle.read()
        for path in (self.dokku, self.docker, self.dos):
            with open(path, "wb") as handle:
                handle.write(recorder)
            os.chmod(path, 0o755)
        self.settings = {"log": self.calls, "repos": self.repos, "apps": list(apps),
                         "services": services or {"postgres": ["web-db", "other-db"]}, "fail": []}
        self.write_settings()
        self.path = "/usr/local/bin:/usr/bin:/bin"
        self.config = os.path.join(self.root, "gate.conf")
        self.write_config()
        if IS_ROOT:
            uid = pwd.getpwnam(RUN_AS).pw_uid
            for path in (self.rec_dir, self.repos, self.home):
                os.chown(path, uid, -1)
        self.store = storelib.Store(self.state_dir)
        self.store.init()

    # -- setup ---------------------------------------------------------------------------------

    def write_settings(self):
        with open(os.path.join(self.bin, "recorder.json"), "w") as handle:
            json.dump(self.settings, handle)

    def config_text(self, **overrides):
        values = {
            "state_dir": self.state_dir, "audit_log": self.audit_log, "dokku": self.dokku,
            "docker": self.docker, "docker_over_ssh": self.dos, "run_as": RUN_AS, "home": self.home,
            "path": self.path, "spool_dir": self.spool_dir,
            "drop_privileges": "true" if IS_ROOT else "false",
        }
        values.update(overrides)
        lines = ["# gate config written by the tests"]
        lines += ["%s=%s" % (key, value) for key, value in values.items() if value is not None]
        return "\n".join(lines) + "\n"

    def write_config(self, text=None, **overrides):
        with open(self.config, "w") as handle:
            handle.write(text if text is not None else self.config_text(**overrides))
        os.chmod(self.config, 0o600)

    def change(self, function, *args, **kwargs):
        with self.store.transaction() as tx:
            tx.state = function(tx.state, *args, **kwargs)

    def add_user(self, name, seeds=None):
        seeds = seeds or [name]
        self.change(statelib.add_user, name, [make_key(seed)[0] for seed in seeds])
        return key_fp(seeds[0])

    def team(self, name, members=(), owners=(), commands=(), apps=(), services=()):
        self.change(statelib.create_team, name)
        if members:
            self.change(statelib.add_members, name, list(members))
        if owners:
            self.change(statelib.add_members, name, list(owners), role="owner")
        if commands or apps or services:
            self.change(statelib.add_grants, name, commands=list(commands), apps=list(apps),
                        services=list(services))

    def admin(self, name):
        self.change(statelib.add_members, "dokku@admin", [name])

    def init_repo(self, app):
        repo = os.path.join(self.repos, app + ".git")
        subprocess.run(["git", "init", "-q", "--bare", repo], check=True)
        if IS_ROOT:
            uid = pwd.getpwnam(RUN_AS).pw_uid
            for top, dirs, files in os.walk(repo):
                for name in dirs + files:
                    os.lchown(os.path.join(top, name), uid, -1)
            os.chown(repo, uid, -1)
        return repo

    # -- running -------------------------------------------------------------------------------

    def gate_argv(self, user, key):
        return [PYTHON, "-IS", GATE, "gate", "--user", user, "--key", key, "--config", self.config]

    def run(self, user, key, command, stdin=b"", env=None, extra_env=None, timeout=60):
        environ = {"PATH": "/usr/bin:/bin", "SSH_CONNECTION": "192.0.2.7 50000 192.0.2.1 22"}
        if env is not None:
            environ = dict(env)
        if command is not None:
            environ["SSH_ORIGINAL_COMMAND"] = command
        if extra_env:
            environ.update(extra_env)
        environb = {k.encode() if isinstance(k, str) else k: v.encode() if isinstance(v, str) else v
                    for k, v in environ.items()}
        return subprocess.run(self.gate_argv(user, key), input=stdin, env=environb,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)

    def calls_made(self):
        if not os.path.exists(self.calls):
            return []
        with open(self.calls) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def reset_calls(self):
        if os.path.exists(self.calls):
            os.unlink(self.calls)

    def audit_lines(self):
        if not os.path.exists(self.audit_log):
            return []
        with open(self.audit_log, "rb") as handle:
            return handle.read().splitlines()

    def audit_records(self):
        return [json.loads(line) for line in self.audit_lines()]

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def running(pid):
    """Whether ``pid`` runs (a zombie or a reaped pid does not)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid, seconds=10):
    """Whether ``pid`` stopped running within ``seconds``."""
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not running(pid)


def expected_identity():
    """(uid, gid, groups) the target must run with."""
    if not IS_ROOT:
        return os.getuid(), os.getgid(), None
    entry = pwd.getpwnam(RUN_AS)
    groups = sorted(set(os.getgrouplist(RUN_AS, entry.pw_gid)))
    return entry.pw_uid, entry.pw_gid, groups
