# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team_member: add and remove members and owners."""

from __future__ import annotations

import pytest

from conftest import assert_refused, key_line

MODULE = "dokku_team_member"


@pytest.fixture
def web(host):
    host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]}
                                     for index, name in enumerate(["alice", "bob", "olivia", "carol"])])
    host.run("dokku_team", name="web", commands=["git-*"], apps=["web"])
    return host


def test_add_then_noop(web):
    result = web.run(MODULE, team="web", users=["alice", "bob"])
    assert result["changed"] and result["added"] == ["alice", "bob"] and result["removed"] == []
    assert result["team"]["members"] == ["alice", "bob"] and result["team"]["name"] == "web"
    assert web.state()["teams"]["web"]["members"] == ["alice", "bob"]
    again = web.run(MODULE, team="web", users=["bob"])
    assert again["changed"] is False and again["added"] == []


def test_owners_exclusive_and_removal(web):
    web.run(MODULE, team="web", users=["olivia", "carol"], role="owner")
    result = web.run(MODULE, team="web", users=["olivia"], role="owner", exclusive=True)
    assert result["changed"] and result["removed"] == ["carol"] and result["team"]["owners"] == ["olivia"]
    assert web.run(MODULE, team="web", users=["olivia"], role="owner", exclusive=True)["changed"] is False
    last = web.run(MODULE, team="web", users=["olivia"], role="owner", state="absent")
    assert last.get("failed") and "must keep at least one owner" in last["msg"]
    # an admin's exact declaration may leave the team to admins
    cleared = web.run(MODULE, team="web", users=[], role="owner", exclusive=True)
    assert cleared["changed"] and cleared["team"]["owners"] == []


def test_remove_members(web):
    web.run(MODULE, team="web", users=["alice", "bob"])
    result = web.run(MODULE, team="web", users=["bob", "carol"], state="absent")
    assert result["changed"] and result["removed"] == ["bob"]
    assert web.state()["teams"]["web"]["members"] == ["alice"]
    assert web.run(MODULE, team="web", users=["bob"], state="absent")["changed"] is False


def test_check_mode_and_diff(web):
    web.run(MODULE, team="web", users=["alice"])
    before = web.snapshot()
    result = web.run(MODULE, check=True, diff=True, team="web", users=["bob"])
    assert result["changed"] and result["team"]["members"] == ["alice", "bob"]
    assert web.snapshot() == before
    assert result["diff"]["before"]["teams"]["web"]["members"] == ["alice"]
    assert result["diff"]["after"]["teams"]["web"]["members"] == ["alice", "bob"]
    assert set(result["diff"]["after"]["teams"]) == {"web"}


def test_bad_input_writes_nothing(web):
    cases = [
        (dict(team="nope", users=["alice"]), "Team nope does not exist"),
        (dict(team="web", users=["zed"]), "unknown user zed"),
        (dict(team="web", users=["Zed"]), "invalid user name"),
        (dict(team="Web", users=["alice"]), "invalid team name"),
        (dict(team="dokku@admin", users=["alice"], role="owner"), "no owners"),
        (dict(team="web", users=["alice"], role="admin"), "value of role must be one of"),
    ]
    assert_refused(web, MODULE, cases)


def test_admins(web):
    result = web.run(MODULE, team="dokku@admin", users=["carol"])
    assert result["changed"] and web.state()["teams"]["dokku@admin"]["members"] == ["carol"]
