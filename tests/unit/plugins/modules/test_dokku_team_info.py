# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team_info: the document, one user's rights, and the gate's decision."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT, key_line, warnings_of

MODULE = "dokku_team_info"


@pytest.fixture
def policy(host):
    host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]}
                                     for index, name in enumerate(["alice", "bob", "root-admin", "olivia"])])
    host.run("dokku_team", teams=[
        dict(name="dokku@admin", members=["root-admin"]),
        dict(name="web", owners=["olivia"], members=["alice"], commands=["git-*", "apps:list", "config:*"],
             apps=["web", "web-api"], services=[{"type": "postgres", "name": "web-db"}]),
        dict(name="ops", members=["bob"], commands=["storage:mount"], apps=["*"]),
    ])
    return host


def test_document(policy):
    before = policy.snapshot()
    result = policy.run(MODULE)
    assert result["changed"] is False
    document = result["document"]
    assert "serial" not in document and document["version"] == 1
    assert sorted(document["users"]) == ["alice", "bob", "olivia", "root-admin"]
    assert document["teams"]["web"]["services"] == [{"type": "postgres", "name": "web-db"}]
    assert result["host_escape_grants"] == [{"team": "ops", "command": "storage:mount"}]
    assert policy.run(MODULE, check=True)["document"] == document
    assert policy.snapshot() == before


def test_rights(policy):
    result = policy.run(MODULE, user="alice")
    rights = result["rights"]
    assert rights["user"] == "alice" and rights["admin"] is False
    assert rights["view"]["member_of"] == ["web"]
    assert rights["view"]["teams"][0]["commands"] == ["apps:list", "config:*", "git-*"]
    assert sorted(rights["teams"]) == ["web"]
    assert policy.run(MODULE, user="olivia")["rights"]["view"]["owns"] == ["web"]
    assert policy.run(MODULE, user="root-admin")["rights"]["admin"] is True
    unknown = policy.run(MODULE, user="zed")
    assert unknown.get("failed") and "unknown user zed" in unknown["msg"]


COMMANDS = [
    ("alice", "config:set web GREETING=hi"),
    ("alice", "git-receive-pack 'web'"),
    ("alice", "ps:restart web"),
    ("alice", "config:set other A=1"),
    ("alice", "apps:list"),
    ("alice", "postgres:info web-db"),
    ("alice", "ls; rm -rf /"),
    ("alice", ""),
    ("bob", "storage:mount web /a:/b"),
    ("root-admin", "plugin:install x"),
    ("zed", "apps:list"),
]


@pytest.mark.parametrize("user,command", COMMANDS)
def test_decision_is_the_cli_answer(policy, user, command):
    result = policy.run(MODULE, user=user, command=command)
    assert result["changed"] is False
    cli = subprocess.run([os.path.join(ROOT, "bin", "dokku-teams"), "--state-dir", policy.state_dir,
                          "--config", policy.config, "check", "--user", user, "--format", "json", "--", command],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert result["decision"] == json.loads(cli.stdout)
    assert result["exit_code"] == cli.returncode


def test_decision_allow_details(policy):
    decision = policy.run(MODULE, user="alice", command="config:set web GREETING=hi")["decision"]
    assert decision["decision"] == "allow" and decision["team"] == "web"
    assert decision["argv"] == ["/usr/bin/dokku", "config:set", "web", "GREETING=hi"]


def test_without_state(host):
    result = host.run(MODULE)
    assert result["document"]["users"] == {} and "dokku@admin" in result["document"]["teams"]
    assert any("no dokku-teams state" in warning for warning in warnings_of(result))
    assert not os.path.exists(host.state_dir)
    decision = host.run(MODULE, user="alice", command="apps:list")
    assert decision["decision"]["decision"] == "error" and decision["exit_code"] == 75


def test_bad_input(policy):
    assert "invalid user name" in policy.run(MODULE, user="Alice")["msg"]
    result = policy.run(MODULE, command="apps:list")
    assert result.get("failed") and "missing parameter(s) required by 'command': user" in result["msg"]


def test_who_can(policy):
    before = policy.snapshot()
    result = policy.run(MODULE, who_can={"app": "web", "command": "git-receive-pack"})
    assert result["changed"] is False
    assert result["who_can"] == [{"user": "alice", "admin": False, "teams": ["web"]},
                                 {"user": "root-admin", "admin": True, "teams": ["dokku@admin"]}]
    # bob's ops team grants every app but only storage:mount: he may act on web, not push to it.
    anything = policy.run(MODULE, who_can={"app": "web"}, check=True)["who_can"]
    assert [entry["user"] for entry in anything] == ["alice", "bob", "root-admin"]
    assert anything[1]["teams"] == ["ops"]
    # olivia owns web but is no member: she is nowhere.
    assert all(entry["user"] != "olivia" for entry in anything)
    assert policy.snapshot() == before


def test_who_can_bad_input(policy):
    assert "invalid app name" in policy.run(MODULE, who_can={"app": "Web"})["msg"]
    assert "does not act on an app" in policy.run(MODULE, who_can={"app": "web", "command": "apps:list"})["msg"]
    result = policy.run(MODULE, who_can={"app": "web"}, user="alice")
    assert result.get("failed") and "mutually exclusive" in result["msg"]
    result = policy.run(MODULE, who_can={"command": "ps:restart"})
    assert result.get("failed") and "app" in result["msg"]
