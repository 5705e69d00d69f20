# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The purge guard: an inventory that did not load must not wipe every user, team or admin."""

from __future__ import annotations

import pytest

from conftest import key_line

PEOPLE = ["admin", "alice", "bob", "olivia"]
USERS = [{"name": name, "keys": [key_line(index)]} for index, name in enumerate(PEOPLE)]
TEAMS = [dict(name="dokku@admin", members=["admin"]),
         dict(name="web", owners=["olivia"], members=["alice"], commands=["git-*"], apps=["web"]),
         dict(name="ops", members=["bob"], commands=["ps:*"], apps=["*"]),
         dict(name="db", members=["bob"], commands=["postgres:*"], apps=["*"])]


@pytest.fixture
def company(host):
    assert not host.run("dokku_ci_user", users=USERS, purge=True).get("failed")
    assert not host.run("dokku_team", teams=TEAMS, purge=True).get("failed")
    return host


def refused(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], (fragment, result["msg"])


@pytest.mark.parametrize("check", [True, False])
def test_empty_user_list_with_purge_is_refused_and_names_every_user(company, check):
    before = company.snapshot()
    result = company.run("dokku_ci_user", check=check, users=[], purge=True)
    refused(result, "every user (admin, alice, bob, olivia)", "every admin (the members of dokku@admin: admin)",
            "dokku_teams_allow_mass_removal: true")
    assert "max_removal_share" not in result["msg"]
    assert company.snapshot() == before


@pytest.mark.parametrize("check", [True, False])
def test_empty_team_list_with_purge_is_refused_and_names_every_team(company, check):
    """The `dokku_teams_team:` typo: dokku_teams_teams is then the default []."""
    before = company.snapshot()
    result = company.run("dokku_team", check=check, teams=[], purge=True)
    refused(result, "every team (db, ops, web)", "allow_mass_removal=true")
    assert company.snapshot() == before


def test_more_than_the_share_is_refused_up_to_it_allowed(company):
    before = company.snapshot()
    three = company.run("dokku_ci_user", users=USERS[:1], purge=True)
    refused(three, "3 of 4 users (alice, bob, olivia), more than the allowed share 0.5",
            "max_removal_share (dokku_teams_max_removal_share")
    two_teams = company.run("dokku_team", teams=TEAMS[:2], purge=True)
    refused(two_teams, "2 of 3 teams (db, ops)")
    assert company.snapshot() == before
    one_team = company.run("dokku_team", teams=TEAMS[:3], purge=True)
    assert one_team["destroyed"] == ["db"]
    raised = company.run("dokku_ci_user", users=USERS[:1], purge=True, max_removal_share=0.75)
    assert raised["removed"] == ["alice", "bob", "olivia"]


def test_losing_every_admin_is_refused_even_without_purge(company):
    before = company.snapshot()
    refused(company.run("dokku_ci_user", name="admin", state="absent"), "every admin")
    refused(company.run("dokku_team", name="dokku@admin", members=[]), "every admin")
    assert company.snapshot() == before
    handed_over = company.run("dokku_team", name="dokku@admin", members=["bob"])
    assert handed_over["changed"] and company.state()["teams"]["dokku@admin"]["members"] == ["bob"]


def test_explicit_allowance_removes_everything(company):
    users = company.run("dokku_ci_user", users=[], purge=True, allow_mass_removal=True)
    assert users["removed"] == PEOPLE and company.state()["users"] == {}
    teams = company.run("dokku_team", teams=[], purge=True, allow_mass_removal=True)
    assert teams["destroyed"] == ["db", "ops", "web"]
    assert sorted(company.state()["teams"]) == ["dokku@admin"]


def test_a_share_outside_zero_to_one_is_refused(company):
    refused(company.run("dokku_ci_user", users=USERS, purge=True, max_removal_share=1.5), "between 0 and 1")


def test_a_fresh_host_has_nothing_to_lose(host):
    assert not host.run("dokku_ci_user", users=[], purge=True).get("failed")
    assert not host.run("dokku_team", teams=[], purge=True).get("failed")
