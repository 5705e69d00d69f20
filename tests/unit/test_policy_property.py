# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests: random small policies and random commands, checked against a reference model.

The model below is written from SPEC §4 alone and shares no code with ``policy.py``: glob
matching is ``fnmatch.fnmatchcase`` (after escaping ``[`` and ``?``), and what a command
touches comes from how the generator built it, not from ``request.py``. Only the *command
table's data* (which names exist, their shapes) is read from ``commands.py``, to build commands.
"""

from __future__ import annotations

import fnmatch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from module_utils import commands
from module_utils import evaluate as ev
from module_utils import policy

ADMIN_TEAM = "dokku@admin"
USERS = ["u", "v", "w"]
APPS = ["web", "api", "db-app", "other"]
KINDS = ["postgres", "redis", "mysql"]
SERVICE_NAMES = ["db", "cache"]

ADMIN_ONLY = sorted(commands.admin_only_commands())
ESCAPES = sorted(commands.host_escape_commands())
CORE = commands.core_commands()


def _bare(command):
    """Whether the command's row needs no word after its scope's own (its values are typed:
    test_values.py and test_valuetypes.py build those)."""
    spec = commands.lookup(command)
    return spec.properties is None and all(card in ("?", "*") for unused_kind, card in spec.positionals)


APP_SHAPED = sorted(c for c in CORE if commands.lookup(c).shape == "app" and _bare(c))
APP_ESCAPES = sorted(c for c in CORE if commands.lookup(c).shape == "escape" and _bare(c))
ADMIN_ESCAPES = sorted(c for c in CORE if commands.lookup(c).shape == "escape-admin")
VERBS = {verb: commands.lookup("postgres:" + verb).shape for verb in commands.datastore_verbs()
         if _bare("postgres:" + verb)}

COMMAND_POOL = (["*", "*:*", "git-*", "apps:*", "ps:*", "config:*", "storage:*", "docker-options:*", "git:*",
                 "postgres:*", "redis:*", "*:backup-*", "docker:*", "p*:re*", "*-pack", "*:list", "*s:*"]
                + ["ps:restart", "logs", "apps:list", "apps:create", "apps:rename", "version", "help",
                   "git-receive-pack", "docker:tag", "docker:pull", "docker:version", "foo:bar",
                   "postgres:info", "postgres:link", "redis:link", "postgres:clone", "postgres:list",
                   "postgres:backup-schedule", "storage:mount", "docker-options:add", "git:sync",
                   "git:from-archive", "storage:create", "shell", "plugin:install", "events", "ssh-keys:add",
                   "trace:on", "git:load-image", "git:from-image", "config:set", "run"])
APP_POOL = APPS + ["*"]
SERVICE_POOL = [(k, n) for k in KINDS for n in SERVICE_NAMES] + [(k, "*") for k in KINDS] + [("*", "*"), ("*", "db")]


# --- the reference model ----------------------------------------------------------------------

def _glob(pattern, name):
    escaped = pattern.replace("[", "[[]").replace("?", "[?]")
    return fnmatch.fnmatchcase(name, escaped)


def _team_grants_command(team, command, literal_only):
    for pattern in team["commands"]:
        if pattern == command:
            return True
        if not literal_only and _glob(pattern, command):
            return True
    return False


def _team_grants_app(team, app):
    return "*" in team["apps"] or app in team["apps"]


def _team_grants_service(team, service):
    kind, name = service
    return any(g["type"] in ("*", kind) and g["name"] in ("*", name) for g in team["services"])


def model(state, user, touch):
    """``("allow", {teams})`` / ``("opaque", reason)`` / ``("deny", None)`` for a built command."""
    if user in state["teams"][ADMIN_TEAM]["members"]:
        return "allow", {ADMIN_TEAM}
    if touch["admin_only"]:
        return "deny", None
    teams = {name: t for name, t in state["teams"].items() if name != ADMIN_TEAM and user in t["members"]}
    for app in touch["apps"]:
        if not any(_team_grants_app(t, app) for t in teams.values()):
            return "opaque", "App %s does not exist" % app
    for service in touch["services"]:
        if not any(_team_grants_service(t, service) for t in teams.values()):
            return "opaque", "%s service %s does not exist" % (service[0].capitalize(), service[1])
    granting = {name for name, t in teams.items()
                if _team_grants_command(t, touch["command"], touch["escape"])
                and all(_team_grants_app(t, a) for a in touch["apps"])
                and all(_team_grants_service(t, s) for s in touch["services"])}
    return ("allow", granting) if granting else ("deny", None)


# --- generators -------------------------------------------------------------------------------

def _touch(command, apps=(), services=(), admin_only=False, escape=False):
    return {"command": command, "apps": list(dict.fromkeys(apps)), "services": list(services),
            "admin_only": admin_only, "escape": escape}


@st.composite
def policies(draw):
    teams = {ADMIN_TEAM: {"owners": [], "members": ["root"] + (["u"] if draw(st.integers(0, 19)) == 0 else []),
                          "commands": [], "apps": [], "services": []}}
    for index in range(draw(st.integers(2, 4))):
        members = draw(st.lists(st.sampled_from(USERS), max_size=3, unique=True))
        if index == 0 and draw(st.booleans()):
            members = sorted(set(members) | {"u"})
        teams["t%d" % index] = {
            "owners": draw(st.lists(st.sampled_from(USERS), max_size=2, unique=True)),
            "members": members,
            "commands": draw(st.lists(st.sampled_from(COMMAND_POOL), max_size=5, unique=True)),
            "apps": draw(st.lists(st.sampled_from(APP_POOL), max_size=3, unique=True)),
            "services": [{"type": k, "name": n}
                         for k, n in draw(st.lists(st.sampled_from(SERVICE_POOL), max_size=3, unique=True))],
        }
    return {"version": 1, "users": {}, "teams": teams}


@st.composite
def built_commands(draw):
    """``(raw, touch)``: a command line and, from how it was built, what it touches."""
    app = draw(st.sampled_from(APPS))
    app2 = draw(st.sampled_from(APPS))
    kind = draw(st.sampled_from(KINDS))
    name = draw(st.sampled_from(SERVICE_NAMES))
    name2 = draw(st.sampled_from(SERVICE_NAMES))
    shape = draw(st.sampled_from(["app", "app-admin-flag", "app-no-app", "dashapp", "admin", "escape",
                                  "escape-admin", "datastore", "git", "docker", "new", "rename", "unknown",
                                  "none", "list", "image"]))
    if shape == "app":
        command = draw(st.sampled_from(APP_SHAPED))
        prefix = draw(st.sampled_from(["", "dokku "]))
        return "%s%s %s" % (prefix, command, app), _touch(command, [app])
    if shape == "app-admin-flag":
        command = draw(st.sampled_from(APP_SHAPED))
        flag = draw(st.sampled_from(sorted(commands.ADMIN_OPTIONS)))
        # After the app of a 'rest' command (run, enter) the words are the container's command line.
        before = commands.lookup(command).opts_stop or draw(st.booleans())
        raw = "%s %s %s" % ((command, flag, app) if before else (command, app, flag))
        return raw, _touch(command, admin_only=True)
    if shape == "app-no-app":
        command = draw(st.sampled_from(APP_SHAPED + ["foo:bar"]))
        return command, _touch(command, admin_only=True)
    if shape == "dashapp":
        command = draw(st.sampled_from(APP_SHAPED))
        return "--app %s %s" % (app, command), _touch(command, [app])
    if shape == "admin":
        command = draw(st.sampled_from(ADMIN_ONLY))
        return draw(st.sampled_from([command, "%s %s" % (command, app)])), _touch(command, admin_only=True)
    if shape == "escape":
        command = draw(st.sampled_from(APP_ESCAPES))
        return "%s %s" % (command, app), _touch(command, [app], escape=True)
    if shape == "escape-admin":
        command = draw(st.sampled_from(ADMIN_ESCAPES))
        return "%s %s" % (command, app), _touch(command, admin_only=True, escape=True)
    if shape == "datastore":
        verb = draw(st.sampled_from(sorted(VERBS)))
        command = "%s:%s" % (kind, verb)
        vshape = VERBS[verb]
        if vshape == "app":
            return "%s %s" % (command, app), _touch(command, [app])
        if vshape == "servicelist":
            return command, _touch(command)
        if vshape == "service,app":
            return "%s %s %s" % (command, name, app), _touch(command, [app], [(kind, name)])
        if vshape == "service,new":
            return "%s %s %s" % (command, name, name2), _touch(command, [], [(kind, name), (kind, name2)])
        if vshape == "escape":
            return "%s %s" % (command, name), _touch(command, [], [(kind, name)], escape=True)
        if vshape == "admin":                                       # promote: admin-only before any service
            return "%s %s" % (command, name), _touch(command, admin_only=True)
        if draw(st.booleans()):
            return command, _touch(command, admin_only=True)        # a service command without its service
        return "%s %s" % (command, name), _touch(command, [], [(kind, name)])
    if shape == "git":
        command = draw(st.sampled_from(["git-receive-pack", "git-upload-pack"]))
        spelled = draw(st.sampled_from(["'%s'", "'/%s'", "%s"])) % app
        return "%s %s" % (command, spelled), _touch(command, [app])
    if shape == "docker":
        form = draw(st.sampled_from(["tag", "pull", "version"]))
        if form == "tag":
            return "docker tag dokku/%s:1 dokku/%s:2" % (app, app2), _touch("docker:tag", [app, app2])
        if form == "pull":
            return "docker-over-ssh pull dokku/%s:1" % app, _touch("docker:pull", [app])
        return "docker version", _touch("docker:version")
    if shape == "new":
        return "apps:create %s" % app, _touch("apps:create")
    if shape == "rename":
        command = draw(st.sampled_from(["apps:rename", "apps:clone"]))
        return "%s %s %s-new" % (command, app, app2), _touch(command, [app])
    if shape == "unknown":
        return "foo:bar %s" % app, _touch("foo:bar", [app], admin_only=True)    # unknown: admin-only
    if shape == "none":
        command = draw(st.sampled_from(["version", "help"]))
        return command, _touch(command)
    if shape == "list":
        return draw(st.sampled_from(["apps:list", "apps:list --format json"])), _touch("apps:list")
    command = draw(st.sampled_from(["git:load-image", "git:from-image"]))
    return "%s %s dokku/%s:v1" % (command, app, app), _touch(command, [app])


# --- properties -------------------------------------------------------------------------------

MODEL_SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MODEL_SETTINGS
@given(policies(), built_commands())
def test_evaluate_matches_the_reference_model(state, built):
    raw, touch = built
    view = policy.compile_view(state, "u", [])
    decision = ev.evaluate(view, raw)
    verdict, detail = model(state, "u", touch)
    if verdict == "allow":
        assert decision.code == 0, (raw, decision.reason)
        assert decision.team in detail
        assert decision.argv is not None and decision.argv[0].startswith("/")
    elif verdict == "opaque":
        assert decision.code == 77, raw
        assert decision.reason == detail
    else:
        assert decision.code == 77, (raw, decision.reason)
        assert not decision.reason.endswith(" does not exist"), (raw, decision.reason)
        assert decision.argv is None


@SETTINGS
@given(policies(), built_commands())
def test_every_built_command_parses_and_admins_may_run_it(state, built):
    raw, unused_touch = built
    state["teams"][ADMIN_TEAM]["members"].append("u")
    decision = ev.evaluate(policy.compile_view(state, "u", []), raw)
    assert decision.code == 0 and decision.team == ADMIN_TEAM


@SETTINGS
@given(policies(), built_commands(), st.sampled_from(USERS))
def test_no_allow_unless_one_single_team_grants_everything(state, built, user):
    raw, unused_touch = built
    decision = ev.evaluate(policy.compile_view(state, user, []), raw)
    if decision.code != 0 or user in state["teams"][ADMIN_TEAM]["members"]:
        return
    touched = decision.as_dict()
    request = decision.request
    apps = list(request.apps)
    services = [tuple(s) for s in request.services] + [tuple(s) for s in request.new_services]
    assert touched["command"] == request.command
    team = state["teams"][decision.team]
    assert user in team["members"] and decision.team != ADMIN_TEAM
    assert _team_grants_command(team, request.command, request.escape)
    assert all(_team_grants_app(team, a) for a in apps)
    assert all(_team_grants_service(team, s) for s in services)
    assert not commands.is_admin_only(request.command)


@SETTINGS
@given(policies(), built_commands())
def test_decision_depends_only_on_the_users_own_teams(state, built):
    """Teams the user is not a member of (apps held by others) never change the answer."""
    raw, unused_touch = built
    before = ev.evaluate(policy.compile_view(state, "u", []), raw)
    for name, team in list(state["teams"].items()):
        if name != ADMIN_TEAM and "u" not in team["members"]:
            team["apps"] = sorted(set(team["apps"]) | set(APPS))
            team["services"].append({"type": "postgres", "name": "db"})
    after = ev.evaluate(policy.compile_view(state, "u", []), raw)
    assert (before.code, before.reason) == (after.code, after.reason)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(COMMAND_POOL), st.sampled_from(sorted(set(CORE) | set(ESCAPES) | {"git-receive-pack"})))
def test_glob_matching_agrees_with_fnmatch(pattern, command):
    literal_only = command in ESCAPES
    expected = pattern == command or (not literal_only and _glob(pattern, command))
    assert policy.grants_command([pattern], command, literal_only) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab:*-", max_size=8), st.text(alphabet="ab:-", max_size=8))
def test_glob_match_is_anchored_fnmatch(pattern, text):
    assert policy.glob_match(pattern, text) is _glob(pattern, text)


@SETTINGS
@given(policies(), st.sampled_from(APPS), st.sampled_from(APPS), st.sampled_from(["docker:tag", "*", "docker:*"]))
def test_two_app_commands_need_both_apps_from_one_team(state, first, second, grant):
    state["teams"]["t0"]["commands"].append(grant)
    raw = "docker tag dokku/%s:1 dokku/%s:2" % (first, second)
    decision = ev.evaluate(policy.compile_view(state, "u", []), raw)
    verdict, detail = model(state, "u", _touch("docker:tag", [first, second]))
    assert decision.code == (0 if verdict == "allow" else 77)
    if verdict == "opaque":
        assert decision.reason == detail
    if verdict == "allow":
        assert decision.team in detail
