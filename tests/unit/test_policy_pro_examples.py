# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Worked examples of the team model, as table-driven tests (state -> compile_view -> evaluate).

Source of the examples
----------------------
Dokku Pro's own teams page (pro.dokku.com/docs/features/teams) could not be found in any
reference this project could reach; only Pro's *user management* page was (it says users build
on ssh-keys, that the teams plugin must be enabled, that only admins create users "by default",
and that "the user commands can be added to a given team"), plus the 2019 public draft of the
team system by Dokku's maintainer (``team:*`` verbs, and "user-auth-app: exits with an *opaque*
error message if the user does not have access to the app"; the same for services).

So the main tables below are **SPEC §4's model, encoded with three example teams** in the
shape of SPEC §8's policy document (team ``web`` is §8's example verbatim), not Pro's text.
The few statements that do come from the public Pro/draft material are in the last section
and say so.

Where Pro's public material and SPEC differ (reported, not tested as Pro's behaviour):

* The 2019 draft names the verbs ``team:*`` (singular) with ``admin-add``/``user-add``/``leave``
  /``access-report``; SPEC uses Pro's ``teams:*`` with owners and members. Through the gate a
  ``team:*`` command is an ordinary (unknown) Dokku command: app-scoped, fail closed.
* Pro lets an admin add the ``users:*`` commands to a team. Open-source Dokku has no such
  commands; here ``users:create NAME`` is an unknown command scoped on its first positional
  (NAME taken as an app), so it is refused unless that "app" is granted. Users are managed
  with ``dokku-teams user:*`` (root) instead.
"""

from __future__ import annotations

import json

import pytest

import casefile

from module_utils import evaluate as ev
from module_utils import policy

ADMIN = "root-admin"


def _team(owners=(), members=(), commands=(), apps=(), services=()):
    return {"owners": list(owners), "members": list(members), "commands": list(commands),
            "apps": list(apps), "services": [{"type": t, "name": n} for t, n in services]}


# --- SPEC §4 model, three example teams (not Pro's text: see the module docstring) ---------------
STATE = {
    "version": 1,
    "users": {},
    "teams": {
        "dokku@admin": _team(members=[ADMIN]),
        # SPEC §8's example team, verbatim.
        "web": _team(owners=["olivia"], members=["alice"],
                     commands=["git-*", "apps:list", "config:*"],
                     apps=["web", "web-api"], services=[("postgres", "web-db")]),
        # An app team with a service-type wildcard.
        "api": _team(owners=["bob"], members=["bob", "carol"],
                     commands=["git-receive-pack", "ps:*", "logs", "postgres:*", "apps:list"],
                     apps=["api"], services=[("postgres", "*")]),
        # An operations team: every app and service, a few commands, host escapes only by name.
        "ops": _team(owners=[ADMIN], members=["carol", "dave"],
                     commands=["ps:restart", "logs", "apps:list", "storage:*", "storage:mount",
                               "docker-options:*"],
                     apps=["*"], services=[("*", "*")]),
        # What the gate creates when a non-admin creates an app (SPEC §4).
        "dokku@app--sandbox": _team(owners=["erin"], members=["erin"], commands=["*"], apps=["sandbox"]),
    },
}

# The seed's (dokku-ci-user's) five command shapes, as the personal team `add:user` creates.
SEED_STATE = {
    "version": 1,
    "users": {},
    "teams": {
        "dokku@admin": _team(members=[ADMIN]),
        "ci-deployer": _team(owners=[], members=["deployer"],
                             commands=["docker:pull", "docker:tag", "tags:deploy", "docker:version", "version"],
                             apps=["a", "b"]),
    },
}


def decide(state, user, raw):
    return ev.evaluate(policy.compile_view(state, user, ["SHA256:x"]), raw)


ALLOWED = 0
DENIED = 77
MALFORMED = 64

# (where, outcome, user, team that grants or None, raw command, reason or None), from the case file
EXAMPLES = casefile.read("pro-examples.txt", 5, cited=False)


@pytest.mark.parametrize("where,code,user,team,raw,reason",
                         [[where] + fields[:5] for where, fields in EXAMPLES],
                         ids=["%s: %s" % (fields[1], fields[3]) for _where, fields in EXAMPLES])
def test_spec_model_examples(where, code, user, team, raw, reason):
    decision = decide(STATE, user, raw)
    assert decision.code == code, (where, decision.reason)
    if reason is not None:
        assert decision.reason == reason
    if code == ALLOWED and team is not None:
        assert decision.team == team
    if code != ALLOWED:
        assert decision.argv is None


def test_alice_listing_is_her_teams_apps():
    decision = decide(STATE, "alice", "apps:list")
    assert decision.filter_apps == ["web", "web-api"] and decision.filter_all is False


def test_ops_listing_is_every_app():
    decision = decide(STATE, "dave", "apps:list")
    assert decision.filter_all is True


def test_carol_listing_joins_the_teams_that_grant_the_listing():
    decision = decide(STATE, "carol", "apps:list")
    assert decision.filter_all is True     # ops holds *


def test_quoted_config_value_reaches_dokku_as_one_word():
    decision = decide(STATE, "alice", 'config:set web "GREETING=hello world"')
    assert decision.argv == ["/usr/bin/dokku", "config:set", "web", "GREETING=hello world"]


def test_owner_who_is_not_member_has_no_member_view():
    view = policy.compile_view(STATE, "olivia", [])
    assert view["owns"] == ["web"] and view["member_of"] == [] and view["teams"] == []
    assert view["admin"] is False


def test_app_team_view():
    view = policy.compile_view(STATE, "erin", [])
    assert view["teams"] == [{"team": "dokku@app--sandbox", "commands": ["*"], "apps": ["sandbox"],
                              "all_apps": False, "services": []}]


# --- the seed's five shapes (SPEC §1), for its personal team -----------------------------------
# (where, outcome, raw command, the argv the gate executes as JSON or None), from the case file
SEED_EXAMPLES = casefile.read("pro-seed.txt", 3, cited=False)


@pytest.mark.parametrize("where,code,raw,argv", [[where] + fields[:3] for where, fields in SEED_EXAMPLES],
                         ids=[fields[1] for _where, fields in SEED_EXAMPLES])
def test_seed_shapes(where, code, raw, argv):
    decision = decide(SEED_STATE, "deployer", raw)
    assert decision.code == code, (where, decision.reason)
    assert decision.argv == (None if argv is None else json.loads(argv)), where


def test_every_example_file_is_read_whole():
    assert len(EXAMPLES) == casefile.count("pro-examples.txt") > 0
    assert len(SEED_EXAMPLES) == casefile.count("pro-seed.txt") > 0


def test_an_empty_command_is_no_shell():
    # the one example a case line cannot hold: an empty command (an SSH login without one)
    decision = decide(STATE, "alice", "")
    assert decision.code == MALFORMED and decision.reason == "no shell access"
    assert decision.argv is None


# --- what the public Pro / draft material does say -----------------------------------------------

def test_draft_user_auth_app_is_opaque():
    """2019 draft: user-auth-app 'exits with an opaque error message'. An app the user may not
    touch gets Dokku's own words whether another team holds it or nobody does."""
    held = decide(STATE, "alice", "ps:restart api")        # api belongs to team api
    nobody = decide(STATE, "alice", "ps:restart ghost")    # no team holds ghost
    assert held.reason == "App api does not exist"
    assert nobody.reason == "App ghost does not exist"
    assert held.code == nobody.code == DENIED


def test_draft_user_auth_service_is_opaque():
    held = decide(STATE, "alice", "postgres:info api-db")   # api holds (postgres, *)
    nobody = decide(STATE, "alice", "postgres:info ghost")
    assert held.reason == "Postgres service api-db does not exist"
    assert nobody.reason == "Postgres service ghost does not exist"


def test_pro_users_commands_are_not_dokku_commands_here():
    """Pro: 'the user commands can be added to a given team'. Open-source Dokku has no users:*;
    the gate treats users:create NAME as an unknown command: admin-only (fail closed, issue 11)."""
    state = {"version": 1, "users": {}, "teams": {
        "dokku@admin": _team(members=[ADMIN]),
        "people": _team(members=["pat"], commands=["users:*"], apps=["web"])}}
    assert decide(state, "pat", "users:create camilla").reason == \
        "'users:create' is not a command the gate knows; it is restricted to admins"
    assert decide(state, "pat", "users:list").code == DENIED


def test_draft_singular_team_verbs_are_unknown_commands_through_the_gate():
    assert decide(STATE, "olivia", "team:user-add web bob").code == DENIED
    # the CLI's team: prefix is a spelling of teams: over SSH too (commands.lookup, issue 11)
    assert decide(STATE, "alice", "team:list").code == ALLOWED
