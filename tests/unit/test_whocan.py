# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``who-can APP [COMMAND]``: the users the policy lets act on an app, and through which team."""

from __future__ import annotations

import json

import pytest

from module_utils import evaluate as ev
from module_utils import policy, teamverbs, whocan
from module_utils.errors import Malformed


def team(members=(), owners=(), commands=(), apps=(), services=()):
    return {"owners": list(owners), "members": list(members), "commands": list(commands),
            "apps": list(apps), "services": [{"type": t, "name": n} for t, n in services]}


def world():
    users = ("root", "alice", "bob", "carol", "dave", "erin", "olivia")
    return {"version": 1, "users": dict((u, {"keys": [], "from": []}) for u in users), "teams": {
        "dokku@admin": team(members=["root"]),
        "web": team(owners=["olivia"], members=["alice", "bob"], commands=["git-*", "ps:*"], apps=["web", "api"]),
        "deploy": team(members=["bob"], commands=["git-*"], apps=["web"]),
        "ops": team(members=["carol"], commands=["*"], apps=["*"]),
        "escapes": team(members=["dave"], commands=["docker-options:add"], apps=["web"]),
        "empty": team(members=["dave"], commands=[], apps=["web"]),
        "dokku@app--web": team(owners=["erin"], members=["erin"], commands=["*"], apps=["web"]),
    }}


def who(app, command=None):
    return [(entry["user"], entry["teams"]) for entry in whocan.who_can(world(), app, command)]


def test_everyone_who_may_act_on_the_app_and_through_which_team():
    # olivia owns web but is no member: owners get no member rights. dave's "empty" team grants no command.
    assert who("web") == [("alice", ["web"]), ("bob", ["deploy", "web"]), ("carol", ["ops"]),
                          ("dave", ["escapes"]), ("erin", ["dokku@app--web"]), ("root", ["dokku@admin"])]


def test_a_command_names_only_the_teams_that_grant_it_on_that_app():
    assert who("web", "ps:restart") == [("alice", ["web"]), ("bob", ["web"]), ("carol", ["ops"]),
                                        ("erin", ["dokku@app--web"]), ("root", ["dokku@admin"])]
    assert who("web", "git-receive-pack") == [("alice", ["web"]), ("bob", ["deploy", "web"]), ("carol", ["ops"]),
                                              ("erin", ["dokku@app--web"]), ("root", ["dokku@admin"])]
    assert who("api", "ps:restart") == [("alice", ["web"]), ("bob", ["web"]), ("carol", ["ops"]), ("root", ["dokku@admin"])]


def test_a_host_escape_needs_its_literal_grant():
    # carol's "*" and erin's app team never grant a host escape: only dave's literal grant does.
    assert who("web", "docker-options:add") == [("dave", ["escapes"]), ("root", ["dokku@admin"])]


def test_an_admin_only_or_unknown_command_is_for_admins():
    assert who("web", "storage:create") == [("root", ["dokku@admin"])]
    assert who("web", "frobnicate") == [("root", ["dokku@admin"])]


def test_the_answer_is_the_policy_s_decision():
    st = world()
    for command, raw in (("ps:restart", "ps:restart web"), ("config:show", "config:show web"),
                         ("git-receive-pack", "git-receive-pack 'web'"), ("logs", "logs web --tail"),
                         ("docker-options:add", "docker-options:add web deploy --shm-size=1g"),
                         ("storage:create", "storage:create web")):
        allowed = sorted(user for user in st["users"]
                         if ev.evaluate(policy.compile_view(st, user, []), raw).allowed)
        assert [entry["user"] for entry in whocan.who_can(st, "web", command)] == allowed, command


def test_an_alias_is_the_command_dokku_runs():
    assert who("web", "dockerfile:report") == who("web", "builder-dockerfile:report")


@pytest.mark.parametrize("app,command,message", [
    ("Web", None, "invalid app name"), ("web", "ps:restart;x", "invalid command name"),
    ("web", "apps:list", "apps:list does not act on an app"), ("web", "apps:create", "does not act on an app"),
    ("web", "teams:whoami", "does not act on an app"), ("web", "postgres:info", "does not act on an app"),
    ("web", "version", "does not act on an app"),
])
def test_bad_questions_are_malformed(app, command, message):
    with pytest.raises(Malformed) as caught:
        whocan.who_can(world(), app, command)
    assert message in caught.value.message


class FakeStore(object):
    def load(self):
        return world()


def test_teams_who_can_is_for_admins_and_prints_text_or_json():
    code, out, err = teamverbs.execute(FakeStore(), "alice", ["teams:who-can", "web"])
    assert (code, out) == (77, "") and "restricted to admins" in err
    code, out, err = teamverbs.execute(FakeStore(), "root", ["teams:who-can", "web", "ps:restart"], admin=True)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "=====> Who can run ps:restart on web"
    assert out.splitlines()[1].split() == ["alice", "web"]
    assert out.splitlines()[-1].split() == ["root", "dokku@admin", "(admin)"]
    assert "erin" in out and "dokku@app--web (app team)" in out
    code, out, err = teamverbs.execute(FakeStore(), "root", ["teams:who-can", "web", "--format", "json"], admin=True)
    assert json.loads(out)[0] == {"user": "alice", "admin": False, "teams": ["web"]}
    assert json.loads(out)[-1] == {"user": "root", "admin": True, "teams": ["dokku@admin"]}
    code, out, err = teamverbs.execute(FakeStore(), "root", ["teams:who-can"], admin=True)
    assert code == 64 and err == "!     usage: teams:who-can APP [COMMAND] [--format json]\n"
    code, out, err = teamverbs.execute(FakeStore(), "root", ["teams:who-can", "web", "apps:list"], admin=True)
    assert code == 64 and "does not act on an app" in err


def test_over_ssh_only_admins_may_ask():
    st = world()
    assert ev.evaluate(policy.compile_view(st, "carol", []), "teams:who-can web").code == 77
    assert ev.evaluate(policy.compile_view(st, "root", []), "teams:who-can web ps:restart --format json").code == 0
