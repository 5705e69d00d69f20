# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dokku_team_plan: the whole declaration checked and previewed, nothing written."""

from __future__ import annotations

import os

import pytest

from conftest import key_line, warnings_of

MODULE = "dokku_team_plan"
USERS = [{"name": "alice", "keys": [key_line(1)]}, {"name": "olivia", "keys": [key_line(2)]}]
TEAMS = [{"name": "web", "owners": ["olivia"], "members": ["alice"], "commands": ["git-*"], "apps": ["web"]},
         {"name": "dokku@admin", "members": ["olivia"]}]


@pytest.mark.parametrize("check", [True, False])
def test_a_fresh_host_previews_the_teams_against_the_planned_users(host, check):
    result = host.run(MODULE, check=check, diff=True, users=USERS, teams=TEAMS, purge=True)
    assert not result.get("failed"), result
    assert result["users"] == {"added": ["alice", "olivia"], "removed": [], "updated": []}
    assert result["teams"] == {"created": ["web"], "destroyed": [], "updated": ["dokku@admin"]}
    assert result["changed"] is check
    assert result["diff"]["after"]["teams"]["web"]["members"] == ["alice"]
    assert result["state_usable"] is True
    assert not os.path.exists(host.state_dir) and host.keys_text() is None


def test_an_applied_declaration_plans_no_change(host):
    host.run("dokku_ci_user", users=USERS, purge=True)
    host.run("dokku_team", teams=TEAMS, purge=True)
    result = host.run(MODULE, check=True, users=USERS, teams=TEAMS, purge=True)
    assert result["changed"] is False
    assert result["users"]["added"] == result["teams"]["created"] == result["teams"]["updated"] == []


@pytest.mark.parametrize("users, teams, message", [
    ([{"name": "alice", "keys": ["ssh-ed25519 AAAA"]}], [], "user alice: keys[0]"),
    (USERS, [{"name": "Web"}], "invalid team name"),
    (USERS, [{"name": "web", "members": ["alicee"]}], "Owners or members that are not declared users: alicee."),
    (USERS, [{"name": "web", "commands": ["apps:list"], "apps": ["Shop"]}], "Shop"),
    (USERS + [{"name": "bob", "keys": [key_line(1)]}], [], "already belongs to user"),
    ([{"name": "alice", "keys": [key_line(1)], "from": ["10.0.0.1/8"]}], [], "host bits"),
])
def test_a_bad_declaration_fails_and_writes_nothing(host, users, teams, message):
    host.run("dokku_ci_user", users=USERS)
    before = host.snapshot()
    result = host.run(MODULE, users=users, teams=teams, purge=True)
    assert result.get("failed") and message in result["msg"], result
    assert host.snapshot() == before


def test_what_only_the_whole_declaration_shows_is_reported_at_once(host):
    users = USERS + [{"name": "alice", "keys": [key_line(3)]}, {"name": "gone", "state": "absent"}]
    teams = TEAMS + [{"name": "web", "members": ["zed"]}, {"name": "ops", "owners": ["yan", "gone"]},
                     {"name": "old", "state": "absent", "members": ["nobody"]}]
    before = host.snapshot()
    result = host.run(MODULE, users=users, teams=teams, purge=True)
    assert result.get("failed"), result
    assert result["msg"] == ("Fix the declared users and teams. Users declared more than once: alice. Teams"
                             " declared more than once: web. Owners or members that are not declared users:"
                             " gone, yan, zed.")
    assert host.snapshot() == before
    # without purge, users the host knows may be named; a user marked absent may not
    result = host.run(MODULE, users=users[2:], teams=[{"name": "ops", "owners": ["gone", "olivia"]}])
    assert result.get("failed") and result["msg"].endswith(
        "Owners or members that are not declared users or are marked absent: gone."), result


def test_a_plan_that_wipes_everything_is_refused(host):
    host.run("dokku_ci_user", users=USERS)
    host.run("dokku_team", teams=TEAMS)
    result = host.run(MODULE, users=[], teams=[], purge=True)
    assert result.get("failed") and "every user (alice, olivia)" in result["msg"]
    allowed = host.run(MODULE, check=True, users=[], teams=[], purge=True, allow_mass_removal=True)
    assert allowed["users"]["removed"] == ["alice", "olivia"] and allowed["teams"]["destroyed"] == ["web"]


def test_without_purge_teams_may_name_users_the_host_knows(host):
    host.run("dokku_ci_user", users=USERS)
    result = host.run(MODULE, users=[], teams=[{"name": "web", "members": ["alice"]}])
    assert result["teams"]["created"] == ["web"]


def test_an_unusable_state_is_checked_as_empty_with_a_warning(host):
    host.run("dokku_ci_user", users=USERS)
    os.chmod(os.path.join(host.state_dir, "state.json"), 0o660)
    result = host.run(MODULE, users=USERS, teams=TEAMS, purge=True)
    assert not result.get("failed"), result
    assert result["state_usable"] is False and result["users"]["added"] == ["alice", "olivia"]
    assert any("checked against an empty state" in warning for warning in warnings_of(result))


def test_the_role_readme_cookbook_is_a_valid_declaration(host):
    import re
    import yaml
    from conftest import ROOT
    text = open(os.path.join(ROOT, "roles", "dokku_teams", "README.md")).read()
    block = re.search(r"## Cookbook.*?```yaml\n(.*?)```", text, re.S).group(1)
    doc = yaml.safe_load(block)
    for number, user in enumerate(doc["dokku_teams_users"]):
        user["keys"] = [key_line(100 + number)]
    result = host.run(MODULE, check=True, users=doc["dokku_teams_users"], teams=doc["dokku_teams_teams"], purge=True)
    assert not result.get("failed"), result
    assert result["teams"]["created"] == ["dbas", "deployers", "readers", "shop-deploy"]
    assert [w for w in warnings_of(result) if "knows no command" in w or "matches no command" in w] == []


@pytest.mark.parametrize("module", ["dokku_ci_user", "dokku_team_plan"])
def test_a_duplicate_key_names_the_user_whose_declaration_is_wrong(host, module):
    """Issue 16: the state's check blamed whichever user sorted first (alice, not aaron)."""
    host.run("dokku_ci_user", users=[{"name": "alice", "keys": [key_line(1)]}])
    result = host.run(module, users=[{"name": "alice", "keys": [key_line(1)]}, {"name": "aaron", "keys": [key_line(1)]}])
    assert result.get("failed") and result["msg"].startswith("user aaron: keys[0]: key SHA256:"), result
    assert "already belongs to user alice" in result["msg"]
