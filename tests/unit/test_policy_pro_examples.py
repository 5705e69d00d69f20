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

import pytest

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

# (user, raw command, exit code, reason or None, team that grants or None)
EXAMPLES = [
    # alice: member of web (§8): git-*, apps:list, config:* on web and web-api, postgres web-db.
    ("alice", "git-receive-pack 'web'", ALLOWED, "granted by team web", "web"),
    ("alice", "git-upload-pack 'web-api'", ALLOWED, None, "web"),
    ("alice", "git-receive-pack '/web'", ALLOWED, None, "web"),
    ("alice", 'config:set web "GREETING=hello world"', ALLOWED, None, "web"),
    ("alice", "config:set --no-restart web-api A=1", ALLOWED, None, "web"),
    ("alice", "dokku config:get web GREETING", ALLOWED, None, "web"),
    ("alice", "--app web config:show", ALLOWED, None, "web"),
    ("alice", "apps:list", ALLOWED, None, "web"),
    ("alice", "ps:restart web", DENIED, "You are not allowed to run ps:restart on web", None),
    ("alice", "postgres:info web-db", DENIED, "You are not allowed to run postgres:info", None),
    ("alice", "git-receive-pack 'api'", DENIED, "App api does not exist", None),
    ("alice", "config:set api A=1", DENIED, "App api does not exist", None),
    ("alice", "config:set web --global A=1", DENIED, "--global is restricted to admins", None),
    ("alice", "config:show", DENIED, "config:show without an app is restricted to admins", None),
    ("alice", "git:sync web https://github.com/x/y.git", DENIED, None, None),
    ("alice", "git:allow-host github.com", DENIED, "git:allow-host is restricted to admins", None),
    ("alice", "shell", DENIED, "shell is restricted to admins", None),
    ("alice", "teams:whoami", ALLOWED, None, None),
    ("alice", "teams:member-add web bob", DENIED, "only owners of team web may do that", None),
    ("alice", "teams:app-add web api", DENIED, "teams:app-add is restricted to admins", None),
    # olivia owns web but is not a member: people management only, no member rights.
    ("olivia", "git-receive-pack 'web'", DENIED, "App web does not exist", None),
    ("olivia", "apps:list", DENIED, "You are not allowed to run apps:list", None),
    ("olivia", "teams:member-add web bob", ALLOWED, "owner of team web", "web"),
    ("olivia", "teams:member-remove web alice", ALLOWED, None, "web"),
    ("olivia", "teams:owner-add web alice", ALLOWED, None, "web"),
    ("olivia", "teams:destroy web", ALLOWED, None, "web"),
    ("olivia", "teams:command-add web 'ps:*'", DENIED, "teams:command-add is restricted to admins", None),
    ("olivia", "teams:app-add web api", DENIED, "teams:app-add is restricted to admins", None),
    ("olivia", "teams:service-add web postgres x", DENIED, None, None),
    ("olivia", "teams:create web2", DENIED, "teams:create is restricted to admins", None),
    ("olivia", "teams:member-add api olivia", DENIED, "Team api does not exist", None),
    # bob: owner and member of api.
    ("bob", "ps:restart api", ALLOWED, None, "api"),
    ("bob", "ps:scale api web=2", ALLOWED, None, "api"),
    ("bob", "logs -n 100 -t api", ALLOWED, None, "api"),
    ("bob", "postgres:info any-db", ALLOWED, None, "api"),
    ("bob", "postgres:link api-db api", ALLOWED, None, "api"),
    ("bob", "postgres:link api-db web", DENIED, "App web does not exist", None),
    ("bob", "redis:info cache", DENIED, "Redis service cache does not exist", None),
    ("bob", "git-upload-pack 'api'", DENIED, "You are not allowed to run git-upload-pack on api", None),
    ("bob", "config:set api A=1", DENIED, "You are not allowed to run config:set on api", None),
    ("bob", "teams:member-add api dave", ALLOWED, None, "api"),
    # carol: member of api and ops. Each decision comes from one team; teams never combine.
    ("carol", "ps:restart web", ALLOWED, None, "ops"),
    ("carol", "ps:restart api", ALLOWED, None, "api"),
    ("carol", "git-receive-pack 'api'", ALLOWED, None, "api"),
    # ops holds the app web (apps *), api holds the command git-receive-pack: no single team has both.
    ("carol", "git-receive-pack 'web'", DENIED, "You are not allowed to run git-receive-pack on web", None),
    # api grants ps:* on api only, ops grants every app but only ps:restart.
    ("carol", "ps:stop web", DENIED, "You are not allowed to run ps:stop on web", None),
    ("carol", "teams:member-add api dave", DENIED, "only owners of team api may do that", None),
    # dave: ops. Host escapes only by their literal names.
    ("dave", "storage:mount web /var/lib/dokku/data/storage/web:/data", ALLOWED, None, "ops"),
    ("dave", "storage:list web", ALLOWED, None, "ops"),
    ("dave", "docker-options:clear web deploy", DENIED,
     "docker-options:clear reaches the host: a team must grant it by its exact name", None),
    ("dave", "storage:create web-data", DENIED, "storage:create is restricted to admins", None),
    ("dave", "ps:restart --all", DENIED, "--all is restricted to admins", None),
    ("dave", "ps:restart", DENIED, "ps:restart without an app is restricted to admins", None),
    ("dave", "apps:list", ALLOWED, None, "ops"),
    ("dave", "redis:info cache", DENIED, "You are not allowed to run redis:info", None),
    ("dave", "teams:member-add ops carol", DENIED, "only owners of team ops may do that", None),
    # erin created sandbox through the gate: dokku@app--sandbox, commands *, admin-only still excluded.
    ("erin", "ps:restart sandbox", ALLOWED, None, "dokku@app--sandbox"),
    ("erin", "config:set sandbox A=1", ALLOWED, None, "dokku@app--sandbox"),
    ("erin", "apps:destroy --force sandbox", ALLOWED, None, "dokku@app--sandbox"),
    ("erin", "ps:restart web", DENIED, "App web does not exist", None),
    ("erin", "plugin:install https://github.com/dokku/dokku-postgres.git", DENIED,
     "plugin:install is restricted to admins", None),
    ("erin", "ssh-keys:add k", DENIED, "ssh-keys:add is restricted to admins", None),
    ("erin", "events", DENIED, "events is restricted to admins", None),
    ("erin", "storage:mount sandbox /:/host", DENIED,
     "storage:mount reaches the host: a team must grant it by its exact name", None),
    ("erin", "teams:member-add dokku@app--sandbox alice", ALLOWED, None, "dokku@app--sandbox"),
    # someone in no team at all.
    ("mallory", "apps:list", DENIED, "You are not allowed to run apps:list", None),
    ("mallory", "version", DENIED, "You are not allowed to run version", None),
    ("mallory", "git-receive-pack 'web'", DENIED, "App web does not exist", None),
    ("mallory", "teams:whoami", ALLOWED, None, None),
    ("mallory", "teams:destroy web", DENIED, "Team web does not exist", None),
    # the admin: anything that parses.
    (ADMIN, "plugin:install https://github.com/dokku/dokku-postgres.git", ALLOWED, None, "dokku@admin"),
    (ADMIN, "config:set --global A=1", ALLOWED, None, "dokku@admin"),
    (ADMIN, "ps:restart --all", ALLOWED, None, "dokku@admin"),
    (ADMIN, "docker-options:add web deploy '-v /:/host'", ALLOWED, None, "dokku@admin"),
    (ADMIN, "git-receive-pack 'anything'", ALLOWED, None, "dokku@admin"),
    (ADMIN, "teams:create newteam", ALLOWED, None, "dokku@admin"),
    # malformed is malformed for everyone, the admin too.
    (ADMIN, "ps:restart web; reboot", MALFORMED, None, None),
    ("alice", "config:set web A=$(id)", MALFORMED, None, None),
    ("alice", "", MALFORMED, "no shell access", None),
]


@pytest.mark.parametrize("user,raw,code,reason,team", EXAMPLES,
                         ids=["%s: %s" % (e[0], e[1]) for e in EXAMPLES])
def test_spec_model_examples(user, raw, code, reason, team):
    decision = decide(STATE, user, raw)
    assert decision.code == code, decision.reason
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
SEED_EXAMPLES = [
    ("docker-over-ssh pull dokku/a:v1", ALLOWED, ["/usr/local/bin/docker-over-ssh", "pull", "dokku/a:v1"]),
    ("docker tag dokku/a:v1 dokku/b:v1", ALLOWED, ["/usr/bin/docker", "tag", "dokku/a:v1", "dokku/b:v1"]),
    ("dokku tags:deploy a v1", ALLOWED, ["/usr/bin/dokku", "tags:deploy", "a", "v1"]),
    ("docker version", ALLOWED, ["/usr/bin/docker", "version"]),
    ("dokku version", ALLOWED, ["/usr/bin/dokku", "version"]),
    ("version", ALLOWED, ["/usr/bin/dokku", "version"]),
    ("docker-over-ssh pull dokku/c:v1", DENIED, None),
    ("docker tag dokku/a:v1 dokku/c:v1", DENIED, None),
    ("docker tag dokku/a:v1 evil/b:v1", MALFORMED, None),
    ("docker run dokku/a:v1", MALFORMED, None),
    ("docker-over-ssh push dokku/a:v1", MALFORMED, None),
    ("ps:restart a", DENIED, None),
    ("tags:deploy c v1", DENIED, None),
]


@pytest.mark.parametrize("raw,code,argv", SEED_EXAMPLES, ids=[e[0] for e in SEED_EXAMPLES])
def test_seed_shapes(raw, code, argv):
    decision = decide(SEED_STATE, "deployer", raw)
    assert decision.code == code, decision.reason
    assert decision.argv == argv


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
