# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may take an app name, and what an app team grants (issue 11 class 9, issue 17 item 2).

- A new name another team holds, or an app that exists on the host, is answered like a missing
  app: creating it must neither take it over (an app team keeps its members across apps:destroy)
  nor tell that it exists (Dokku's "already taken").
- ``apps:clone --ignore-existing`` exits 0 without creating anything when the new name exists
  (dokku/dokku plugins/apps/subcommands.go:30-34): the gate would then record the caller as owner
  of that app's team. It is admin-only.
- An app team (``dokku@app--APP``) grants its ``*`` only for commands on its own app: never
  apps:create, a listing, ``version`` or any other command that touches no app.
- The admin sees the real reason; the user keeps the opaque one.
"""

from __future__ import annotations

import pytest

from module_utils import evaluate as ev
from module_utils import policy
from module_utils.newapps import held_by_others

OK, DENIED, MALFORMED = 0, 77, 64


def _state():
    state = {"version": 1, "users": {}, "teams": {
        "dokku@admin": {"owners": [], "members": ["root"], "commands": [], "apps": [], "services": []},
        "web": {"owners": [], "members": ["alice"], "commands": ["*"], "apps": ["web", "web-next"], "services": []},
        "creators": {"owners": [], "members": ["carol"], "commands": ["apps:create", "apps:list"], "apps": [],
                     "services": []},
        "other": {"owners": [], "members": ["bob"], "commands": ["*"], "apps": ["secret"], "services": []},
        "ops": {"owners": [], "members": ["olga"], "commands": ["ps:*"], "apps": ["*"], "services": []},
        # bob created (and later destroyed) "gone"; his app team survives apps:destroy.
        "dokku@app--gone": {"owners": ["bob"], "members": ["bob"], "commands": ["*"], "apps": ["gone"],
                            "services": []},
        # carol created "mine": only her app team holds it.
        "dokku@app--mine": {"owners": ["carol"], "members": ["carol"], "commands": ["*"], "apps": ["mine"],
                            "services": []},
    }}
    return state


def _decide(user, raw, apps_root=None):
    state = _state()
    view = policy.compile_view(state, user, ["SHA256:x"])
    return ev.evaluate(view, raw, None, held_by_others(state, user, apps_root))


@pytest.mark.parametrize("user,raw,code", [
    ("alice", "apps:create brand-new", OK),                 # nobody holds it
    ("alice", "apps:create web-next", OK),                  # an admin granted the name to her team first
    ("alice", "apps:create secret", DENIED),                # another team holds it
    ("alice", "apps:create gone", DENIED),                  # bob's app team survives its destroy
    ("bob", "apps:create gone", OK),                        # ... and bob may create it again
    ("alice", "apps:rename web secret", DENIED),
    ("alice", "apps:clone web gone", DENIED),
    ("alice", "apps:clone web web-copy", OK),
    ("alice", "apps:clone --ignore-existing web web-copy", DENIED),   # admin-only option (takeover)
    ("alice", "apps:clone web web-copy --ignore-existing", DENIED),
    ("olga", "apps:create anything", DENIED),               # ops holds ps:* only
])
def test_new_app_names(user, raw, code):
    decision = _decide(user, raw)
    assert decision.code == code, decision.reason


def test_a_held_name_is_answered_like_a_missing_app_and_the_admin_sees_why():
    held = _decide("alice", "apps:create secret")
    free_but_foreign = _decide("alice", "ps:restart secret")
    missing = _decide("alice", "ps:restart no-such-app")
    assert held.reason == "App secret does not exist"
    assert free_but_foreign.reason == "App secret does not exist"
    assert missing.reason == "App no-such-app does not exist"
    assert "held by another team" in held.detail
    assert held.as_dict()["detail"] == held.detail
    assert "no team of alice grants the app secret" == free_but_foreign.detail


def test_an_app_that_exists_on_the_host_is_held(tmp_path):
    (tmp_path / "admins-app").mkdir()
    assert _decide("alice", "apps:create admins-app", str(tmp_path)).code == DENIED
    assert _decide("alice", "apps:create admins-app").code == OK           # the host not consulted
    # Her own app team's app that still exists: Dokku answers "already taken", which tells her nothing.
    (tmp_path / "mine").mkdir()
    assert _decide("carol", "apps:create mine", str(tmp_path)).code == OK
    # A team holding every app holds nothing against its members.
    assert held_by_others(_state(), "olga", str(tmp_path))("admins-app") is False


def test_admins_create_anything():
    assert _decide("root", "apps:create secret").code == OK


@pytest.mark.parametrize("raw,code", [
    ("ps:restart mine", OK),                    # its own app: the app team's * applies
    ("config:set mine A=1", OK),
    ("apps:create other-name", OK),             # through her ordinary team's explicit grant
    ("apps:list", OK),
    ("ps:restart web", DENIED),                 # not her app
    ("version", DENIED),                        # touches no app: the app team's * does not reach it
    ("apps:clone mine mine-copy", DENIED),      # creates an app: needs an ordinary grant of apps:clone
    ("apps:rename mine mine-2", DENIED),
])
def test_an_app_team_grants_its_own_apps_commands_only(raw, code):
    assert _decide("carol", raw).code == code


def test_an_app_team_alone_never_grants_apps_create():
    state = _state()
    state["teams"]["creators"]["members"] = []          # the admin revoked carol's creation right
    view = policy.compile_view(state, "carol", ["SHA256:x"])
    decision = ev.evaluate(view, "apps:create another", None, held_by_others(state, "carol", None))
    assert decision.code == DENIED
    assert decision.reason == "You are not allowed to run apps:create"


def test_a_listing_shows_the_apps_a_user_created():
    state = _state()
    view = policy.compile_view(state, "carol", ["SHA256:x"])
    decision = ev.evaluate(view, "apps:list")
    assert decision.allowed and not decision.filter_all
    assert decision.filter_apps == ["mine"]


@pytest.mark.parametrize("raw,hint", [
    ("docker:version", "docker version"),
    ("docker:pull dokku/web:v1", "docker-over-ssh pull dokku/APP:TAG"),
    ("docker:tag dokku/web:v1 dokku/web:v2", "docker tag dokku/APP:TAG dokku/APP:TAG"),
])
def test_typing_a_grant_name_says_what_to_type(raw, hint):
    """Issue 16 item 11: the grant is docker:pull, the command is docker-over-ssh pull."""
    decision = _decide("alice", raw)
    assert decision.code == MALFORMED
    assert decision.reason.endswith("type: " + hint)
