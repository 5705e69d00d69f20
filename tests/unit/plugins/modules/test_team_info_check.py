# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team_info's decision and ``dokku-teams check`` are one function (``evaluate.check``):
the same answer where they used to differ -- a new app name another team holds, a state the
writers did not seal, a gate config that cannot be used."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT, key_line

MODULE = "dokku_team_info"


@pytest.fixture
def policy(host):
    host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]}
                                     for index, name in enumerate(["alice", "bob"])])
    host.run("dokku_team", teams=[
        dict(name="makers", members=["alice"], commands=["apps:create"], apps=["web"]),
        dict(name="billing", members=["bob"], commands=["config:*"], apps=["ledger"]),
    ])
    return host


def both(host, user, command):
    """``(module answer, cli answer)``, each as ``(decision dict, exit code)``."""
    result = host.run(MODULE, user=user, command=command)
    cli = subprocess.run([os.path.join(ROOT, "bin", "dokku-teams"), "--state-dir", host.state_dir,
                          "--config", host.config, "check", "--user", user, "--format", "json", "--", command],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert not result.get("failed"), result
    return (result["decision"], result["exit_code"]), (json.loads(cli.stdout), cli.returncode)


def test_a_name_another_team_holds_is_refused_by_both(policy):
    module, cli = both(policy, "alice", "apps:create ledger")
    assert module == cli
    assert module[0]["decision"] == "deny" and module[1] == 77
    module, cli = both(policy, "alice", "apps:create fresh-name")
    assert module == cli and module[0]["decision"] == "allow"


def test_a_state_replaced_behind_the_writers_is_an_error_for_both(policy):
    path = os.path.join(policy.state_dir, "state.json")
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    with open(path, "wb") as handle:      # the same bytes, in a file no writer sealed
        handle.write(data)
    os.chmod(path, 0o600)
    module, cli = both(policy, "alice", "apps:create fresh-name")
    assert module == cli
    assert module[0]["decision"] == "error" and module[1] == 75 and "seal" in module[0]["reason"]


def test_unknown_user_is_denied_by_both(policy):
    module, cli = both(policy, "zed", "apps:list")
    assert module == cli == ({"decision": "deny", "reason": "unknown user zed", "command": None, "apps": [],
                              "services": [], "argv": None, "team": None}, 77)
