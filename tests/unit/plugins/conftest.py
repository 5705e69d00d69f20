# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.dokku_ci.teams`` importable from a plain checkout, and run the
modules in-process against a temporary state directory and gate config.

Under ``ansible-test units`` the collection is already on the path; from a checkout
(``python3 -m pytest tests/unit``) a temporary ``ansible_collections/dokku_ci/teams`` symlink to
the repository root is put on ``sys.path``.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import shutil
import struct
import sys
import tempfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PREFIX = "ansible_collections.dokku_ci.teams.plugins.modules."


def _collection_path():
    """A directory holding ``ansible_collections/dokku_ci/teams`` (the checkout itself when it
    already lives at such a path)."""
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "dokku_ci"] and parts[-1] == "teams":
        return os.sep.join(parts[:-3])
    top = tempfile.mkdtemp(prefix="dokku-teams-collections.")
    os.makedirs(os.path.join(top, "ansible_collections", "dokku_ci"))
    os.symlink(ROOT, os.path.join(top, "ansible_collections", "dokku_ci", "teams"))
    import atexit
    atexit.register(shutil.rmtree, top, True)
    return top


COLLECTIONS_PATH = _collection_path()
try:
    import ansible_collections.dokku_ci.teams  # noqa: F401  (ansible-test units provides it)
except ImportError:
    sys.path.insert(0, COLLECTIONS_PATH)
    import ansible_collections
    if COLLECTIONS_PATH + "/ansible_collections" not in list(ansible_collections.__path__):
        ansible_collections.__path__.append(os.path.join(COLLECTIONS_PATH, "ansible_collections"))
    importlib.import_module("ansible_collections.dokku_ci.teams")

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args=None):
        from ansible.module_utils import basic
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()):
            yield

GATE = "/usr/local/lib/dokku-teams/gate"
CI_ACCOUNT = "nobody"


def key_line(number, comment=None):
    """A well-formed ed25519 public key line, the same for the same number."""
    material = ("dokku-teams unit test key %05d" % number).encode("ascii").ljust(32, b".")
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + material
    line = "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")
    return line + (" " + comment if comment else "")


class Host(object):
    """A temporary host: a state directory, a gate config and the ci account's .ssh."""

    def __init__(self, root):
        self.root = str(root)
        self.state_dir = os.path.join(self.root, "state")
        self.ssh_dir = os.path.join(self.root, "ci-ssh")
        os.mkdir(self.ssh_dir, 0o755)
        os.chmod(self.root, 0o755)
        self.authorized_keys = os.path.join(self.ssh_dir, "authorized_keys")
        self.config = os.path.join(self.root, "gate.conf")
        with open(self.config, "w") as handle:
            # ci_user: an account that exists here, standing in for ci (authorized_keys is
            # root:ci 0640, so its group must resolve)
            handle.write("state_dir=%s\nauthorized_keys=%s\ngate=%s\nci_user=%s\n"
                         % (self.state_dir, self.authorized_keys, GATE, CI_ACCOUNT))
        os.chmod(self.config, 0o644)

    def run(self, module, check=False, diff=False, **args):
        """Run ``module`` in-process; the parsed JSON result (``failed`` set on failure)."""
        args = dict(args)
        args.setdefault("config", self.config)
        args["_ansible_check_mode"] = check
        args["_ansible_diff"] = diff
        return run_module(module, args)

    def state(self):
        path = os.path.join(self.state_dir, "state.json")
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)

    def keys_text(self):
        if not os.path.exists(self.authorized_keys):
            return None
        with open(self.authorized_keys) as handle:
            return handle.read()

    def snapshot(self):
        """Every file below the root with its content: what "nothing written" compares."""
        out = {}
        for top, dirs, files in os.walk(self.root):
            for name in dirs + files:
                path = os.path.join(top, name)
                info = os.lstat(path)
                data = None
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as handle:
                        data = handle.read()
                out[path] = (info.st_mode, info.st_mtime_ns, data)
        return out


def _reset_warnings():
    """Warnings are module-global in AnsibleModule: a new run starts without the last run's."""
    from ansible.module_utils.common import warnings
    for name in ("_global_warnings", "_global_deprecations"):
        store = getattr(warnings, name, None)
        if store is not None:
            store.clear()


def run_module(module, args):
    mod = importlib.import_module(PREFIX + module)
    _reset_warnings()
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as exited:
            mod.main()
    result = json.loads(out.getvalue())
    if exited.value.code not in (0, None):
        result["failed"] = True
    return result


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


@pytest.fixture
def keys():
    return key_line


def warnings_of(result):
    """The warning texts of a result (ansible-core 2.19 returns them as structured summaries)."""
    out = []
    for warning in result.get("warnings", ()):
        if isinstance(warning, dict):
            warning = (warning.get("event") or {}).get("msg") or warning.get("msg") or str(warning)
        out.append(warning)
    return out


def assert_refused(host, module, cases):
    """Each ``(args, message)`` run of ``module`` fails with ``message`` in its msg, and none of
    them writes anything."""
    before = host.snapshot()
    for args, message in cases:
        result = host.run(module, **args)
        assert result.get("failed"), args
        assert message in result["msg"], (args, result["msg"])
    assert host.snapshot() == before
