# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team_grant: commands, apps and services of a team."""

from __future__ import annotations

import pytest

from conftest import assert_refused, key_line, warnings_of

MODULE = "dokku_team_grant"


@pytest.fixture
def web(host):
    host.run("dokku_ci_user", name="alice", keys=[key_line(1)])
    host.run("dokku_team", name="web", members=["alice"])
    return host


def test_grant_then_noop(web):
    result = web.run(MODULE, team="web", commands=["git-*", "config:*"], apps=["web"],
                     services=[{"type": "postgres", "name": "web-db"}])
    assert result["changed"]
    assert result["team"] == {"name": "web", "owners": [], "members": ["alice"], "commands": ["config:*", "git-*"],
                              "apps": ["web"], "services": [{"type": "postgres", "name": "web-db"}]}
    assert result["host_escape_commands"] == []
    assert web.run(MODULE, team="web", commands=["git-*"], apps=["web"])["changed"] is False


def test_revoke_is_literal(web):
    web.run(MODULE, team="web", commands=["apps:*", "apps:list"])
    result = web.run(MODULE, team="web", commands=["apps:list"], state="absent")
    assert result["changed"] and result["team"]["commands"] == ["apps:*"]
    assert web.run(MODULE, team="web", commands=["apps:list"], state="absent")["changed"] is False


def test_exclusive_touches_only_given_kinds(web):
    web.run(MODULE, team="web", commands=["git-*"], apps=["web", "api"], services=[{"type": "redis", "name": "c"}])
    result = web.run(MODULE, team="web", apps=["web"], exclusive=True)
    assert result["changed"]
    assert result["team"]["apps"] == ["web"] and result["team"]["commands"] == ["git-*"]
    assert result["team"]["services"] == [{"type": "redis", "name": "c"}]
    cleared = web.run(MODULE, team="web", services=[], exclusive=True)
    assert cleared["changed"] and cleared["team"]["services"] == []


def test_host_escape_warns(web):
    result = web.run(MODULE, team="web", commands=["storage:mount"])
    assert result["host_escape_commands"] == ["storage:mount"]
    assert any("host-escape command storage:mount" in warning for warning in warnings_of(result))
    quiet = web.run(MODULE, team="web", apps=["web"])
    assert not warnings_of(quiet)


def test_check_mode_and_diff(web):
    before = web.snapshot()
    result = web.run(MODULE, check=True, diff=True, team="web", commands=["ps:*"])
    assert result["changed"] and web.snapshot() == before
    assert result["diff"]["before"]["teams"]["web"]["commands"] == []
    assert result["diff"]["after"]["teams"]["web"]["commands"] == ["ps:*"]


def test_bad_input_writes_nothing(web):
    web.run(MODULE, team="web", commands=["git-*"])
    cases = [
        (dict(team="nope", commands=["git-*"]), "Team nope does not exist"),
        (dict(team="web", commands=["git push"]), "invalid command"),
        (dict(team="web", apps=["-web"]), "invalid app"),
        (dict(team="web", services=[{"type": "postgres", "name": "Bad"}]), "invalid service name"),
        (dict(team="dokku@admin", commands=["*"]), "cannot be changed"),
        (dict(team="web"), "one of the following is required"),
    ]
    assert_refused(web, MODULE, cases)


def test_app_team_takes_services_only(web):
    from ansible_collections.dokku_ci.teams.plugins.module_utils import state as statelib
    from ansible_collections.dokku_ci.teams.plugins.module_utils.store import Store
    with Store(web.state_dir).transaction() as tx:
        tx.state = statelib.create_app_team(tx.state, "shop", "alice")
    ok = web.run(MODULE, team="dokku@app--shop", services=[{"type": "redis", "name": "cache"}])
    assert ok["changed"]
    refused = web.run(MODULE, team="dokku@app--shop", apps=["other"])
    assert refused.get("failed") and "app team" in refused["msg"]
