# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules the policy engine must hold (SPEC §4, §5, §6), one group of tests per rule."""

from __future__ import annotations

import pytest

from module_utils import commands
from module_utils import evaluate as ev
from module_utils import policy

ADMIN = "root"
ALLOWED, DENIED, MALFORMED = 0, 77, 64


def team(members=(), owners=(), commands=(), apps=(), services=()):
    return {"owners": list(owners), "members": list(members), "commands": list(commands),
            "apps": list(apps), "services": [{"type": t, "name": n} for t, n in services]}


def state(**teams):
    out = {"version": 1, "users": {}, "teams": {"dokku@admin": team(members=[ADMIN])}}
    for name, value in teams.items():
        out["teams"][name.replace("_", "-")] = value
    return out


def run(st, user, raw):
    return ev.evaluate(policy.compile_view(st, user, []), raw)


def one_team(commands_=("*",), apps=("web",), services=(), user="u"):
    return state(t=team(members=[user], commands=commands_, apps=apps, services=services))


# --- no escalation by combining teams ----------------------------------------------------------

COMBINED = state(
    cmds=team(members=["u"], commands=["*"], apps=["sandbox"]),          # every command, one app
    apps2=team(members=["u"], commands=["logs"], apps=["web", "api"]),   # the apps, one command
    svc=team(members=["u"], commands=["postgres:*"], apps=[], services=[("postgres", "db")]),
    other=team(members=["v"], commands=["*"], apps=["api"]),
)


@pytest.mark.parametrize("raw", [
    "ps:restart web",                      # command from cmds, app from apps2
    "config:set web A=1",
    "postgres:link db web",                # service from svc, app from apps2, command from cmds/svc
    "docker tag dokku/web:1 dokku/sandbox:1",
    "docker tag dokku/sandbox:1 dokku/web:1",
    "apps:rename web sandbox2",
])
def test_teams_never_combine(raw):
    decision = run(COMBINED, "u", raw)
    assert decision.code == DENIED and decision.argv is None
    assert decision.reason.startswith("You are not allowed to run ")


def test_each_team_alone_still_works():
    assert run(COMBINED, "u", "ps:restart sandbox").team == "cmds"
    assert run(COMBINED, "u", "logs web").team == "apps2"
    assert run(COMBINED, "u", "postgres:info db").team == "svc"


def test_docker_tag_between_two_teams_apps_is_denied():
    st = state(a=team(members=["u"], commands=["docker:tag"], apps=["web"]),
               b=team(members=["u"], commands=["docker:tag"], apps=["api"]))
    assert run(st, "u", "docker tag dokku/web:1 dokku/api:1").code == DENIED
    assert run(st, "u", "docker tag dokku/api:1 dokku/web:1").code == DENIED
    assert run(st, "u", "docker tag dokku/web:1 dokku/web:2").code == ALLOWED
    assert run(st, "u", "docker tag dokku/api:1 dokku/api:2").team == "b"


def test_docker_tag_with_a_foreign_app_is_opaque():
    st = state(a=team(members=["u"], commands=["docker:tag"], apps=["web"]),
               b=team(members=["v"], commands=["docker:tag"], apps=["api"]))
    assert run(st, "u", "docker tag dokku/web:1 dokku/api:1").reason == "App api does not exist"


# --- owners ------------------------------------------------------------------------------------

def test_owner_without_membership_gets_no_member_rights():
    st = state(web=team(owners=["o"], members=["m"], commands=["*"], apps=["*"], services=[("*", "*")]))
    for raw in ("ps:restart web", "apps:list", "version", "postgres:info db", "git-receive-pack 'web'"):
        assert run(st, "o", raw).code == DENIED, raw
        assert run(st, "m", raw).code == ALLOWED, raw
    assert run(st, "o", "teams:member-add web x").code == ALLOWED


# --- apps: * -----------------------------------------------------------------------------------

def test_star_app_grants_every_app_and_shadows_the_list():
    st = one_team(commands_=["ps:restart"], apps=["*", "web"])
    view = policy.compile_view(st, "u", [])
    assert view["teams"][0]["all_apps"] is True and view["teams"][0]["apps"] == ["web"]
    for app in ("web", "api", "not-created-yet", "a.b"):
        assert run(st, "u", "ps:restart %s" % app).code == ALLOWED


def test_star_app_does_not_grant_app_less_commands():
    st = one_team(apps=["*"])
    assert run(st, "u", "ps:restart").code == DENIED
    assert run(st, "u", "ps:restart --all").code == DENIED
    assert run(st, "u", "ps:restart --all web").code == DENIED
    assert run(st, "u", "builds:prune --all-apps").code == DENIED


# --- host escapes: no glob matches them, the literal does ------------------------------------

GLOBS = ["*", "storage:*", "docker-options:*", "git:*", "*:*", "*-*", "*:*-*", "postgres:*", "redis:*", "*o*",
         "*:backup-*"]


def _escape_raw(command):
    kind = command.partition(":")[0]
    if kind in commands.DATASTORE_TYPES:
        return "%s db '0 3 * * *' bucket" % command  # <type>:backup-schedule SERVICE SCHEDULE BUCKET
    if command == "storage:mount":
        return "storage:mount web /var/lib/dokku/data/storage/web:/data"
    if command == "git:sync":
        return "git:sync web https://github.com/x/y.git"
    if command == "git:from-archive":
        return "git:from-archive web https://example.com/a.tar"
    if command == "docker-options:clear":
        return "docker-options:clear web deploy"
    if command.startswith("docker-options:"):
        return "%s web deploy --cpus=1" % command
    return "%s web" % command


ESCAPES = sorted(commands.host_escape_commands())
APP_ESCAPES = [c for c in ESCAPES if c not in commands.admin_only_commands()]


def test_escape_list_is_the_specs():
    core = {c for c in ESCAPES if c.partition(":")[0] not in commands.DATASTORE_TYPES}
    # docker-options:report prints the app's own options only (docker-options/report.go): no escape.
    assert core == {"docker-options:add", "docker-options:clear", "docker-options:remove",
                    "storage:mount", "storage:create", "storage:exec", "storage:ensure-directory",
                    "git:from-archive", "git:sync"}


@pytest.mark.parametrize("command", ESCAPES)
@pytest.mark.parametrize("glob", GLOBS)
def test_no_glob_grants_a_host_escape(command, glob):
    st = one_team(commands_=[glob], apps=["*"], services=[("*", "*")])
    assert policy.grants_command([glob], command, True) is False
    decision = run(st, "u", _escape_raw(command))
    assert decision.code == DENIED, decision.reason


@pytest.mark.parametrize("command", APP_ESCAPES)
def test_the_literal_name_grants_a_host_escape(command):
    st = one_team(commands_=[command], apps=["web"], services=[("*", "db")])
    decision = run(st, "u", _escape_raw(command))
    assert decision.code == ALLOWED, decision.reason
    assert decision.request.escape is True


@pytest.mark.parametrize("command", sorted(set(ESCAPES) - set(APP_ESCAPES)))
def test_the_literal_name_of_an_app_less_escape_is_still_admin_only(command):
    st = one_team(commands_=[command, "*"], apps=["*"])
    assert run(st, "u", _escape_raw(command)).code == DENIED
    assert run(st, ADMIN, _escape_raw(command)).code == ALLOWED


def test_glob_denial_of_an_escape_says_why():
    st = one_team(commands_=["storage:*"], apps=["web"])
    assert run(st, "u", _escape_raw("storage:mount")).reason == \
        "storage:mount reaches the host: a team must grant it by its exact name"


def test_datastore_backup_schedule_is_scoped_on_its_service():
    # Fixed: it was scoped on an "app" named after the service.
    st = one_team(commands_=["postgres:backup-schedule"], apps=["db"], services=[])
    raw = "postgres:backup-schedule db '0 3 * * *' bucket"
    assert run(st, "u", raw).reason == "Postgres service db does not exist"
    st = one_team(commands_=["postgres:backup-schedule"], apps=[], services=[("postgres", "db")])
    assert run(st, "u", raw).code == ALLOWED
    # the schedule is typed even under the literal grant: a sixth field is cron's user (common-functions:412)
    assert run(st, "u", "postgres:backup-schedule db '* * * * * root id' bucket").code == MALFORMED


def test_literal_docker_options_grant_accepts_a_docker_option():
    # The words after the app are Docker's own options: they pass through, and only the
    # literal grant allows the command at all.
    st = one_team(commands_=["docker-options:add"], apps=["web"])
    assert run(st, "u", "docker-options:add web deploy '-v /srv/web:/data'").code == ALLOWED
    assert run(one_team(commands_=["docker-options:*"], apps=["web"]), "u",
               "docker-options:add web deploy '-v /srv/web:/data'").code != ALLOWED


def test_an_option_value_cannot_hide_an_admin_option():
    st = one_team(commands_=["ps:*"], apps=["web"])
    assert run(st, "u", "ps:restart --parallel --all web").code == 64


# --- admin-only: commands, options -----------------------------------------------------------

ADMIN_ONLY = sorted(commands.admin_only_commands())


@pytest.mark.parametrize("command", ADMIN_ONLY)
@pytest.mark.parametrize("grant", ["*", "*:*", "literal", "prefix"])
def test_admin_only_commands_are_never_granted(command, grant):
    pattern = {"*": "*", "*:*": "*:*", "literal": command,
               "prefix": command.partition(":")[0] + (":*" if ":" in command else "*")}[grant]
    st = one_team(commands_=[pattern], apps=["*"], services=[("*", "*")])
    for raw in (command, "%s web" % command):
        decision = run(st, "u", raw)
        assert decision.code in (DENIED, MALFORMED), raw
        assert decision.code == DENIED or run(st, ADMIN, raw).code == MALFORMED
    assert run(st, ADMIN, command).code in (ALLOWED, MALFORMED)


@pytest.mark.parametrize("raw", [
    "config:set --global A=1", "config:get --global KEY", "config:show --global", "ps:set --global x y",
    "ps:restart --all", "ps:rebuild --all", "proxy:build-config --all", "logs:failed --all",
    "storage:migrate --all", "builds:prune --all-apps", "apps:list --all", "version --global",
    "config:set web --global A=1", "ps:restart web --all", "apps:report --all", "logs --global web",
    "nginx:set --global hsts true", "ps:restart --parallel 2 --all", "config:set --global=1 web A=1",
])
def test_global_all_and_all_apps_are_admin_only(raw):
    st = one_team(commands_=["*", "config:set", "ps:restart"], apps=["*"])
    decision = run(st, "u", raw)
    assert decision.code == DENIED, decision.reason
    assert not decision.reason.startswith("App ")


@pytest.mark.parametrize("raw", ["config:set --global A=1", "config:get --global KEY", "ps:restart --all",
                                 "builds:prune --all-apps", "config:set --global --no-restart A=1 B=2"])
def test_admins_may_use_global_options(raw):
    # Fixed: 'config:set --global A=1' was malformed (A=1 was taken for an app name).
    decision = run(one_team(), ADMIN, raw)
    assert decision.code == ALLOWED
    assert decision.argv == ["/usr/bin/dokku"] + raw.split()


def test_admin_only_properties():
    st = one_team(apps=["web"])
    assert run(st, "u", "nginx:set web access-log-path /etc/shadow").code == DENIED
    assert run(st, "u", "openresty:set web error-log-path /x").code == DENIED
    assert run(st, "u", "nginx:set web hsts true").code == ALLOWED


def test_enter_container_id_is_typed_after_the_app_too():
    # Fixed: 'rest' passed --container-id through unchecked after the app. The id is a hex
    # prefix grep'd against the app's own container ids (scheduler-enter:79-85): `.*` would be a regex.
    st = one_team(apps=["web"])
    for raw in ("enter web --container-id abc", "enter web '--container-id=.*'", "enter --container-id abc web"):
        assert run(st, "u", raw).code == MALFORMED, raw
        assert run(st, ADMIN, raw).code == ALLOWED
    for raw in ("enter web --container-id 0123456789ab", "enter --container-id=0123456789ab web web"):
        assert run(st, "u", raw).code == ALLOWED, raw
    assert run(st, "u", "enter web web").code == ALLOWED
    assert run(st, "u", "run web ls --container-id").code == ALLOWED    # run has no such option


# --- refused for everyone ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "ps:restart web --trace", "--trace ps:restart web", "ps:restart --app web", "ps:restart web --app web",
    "ps:restart web --help", "--help", "ps:restart -- web", "ps:restart web --", "--", "dokku --trace ps:restart web",
    "config:set web --trace=1", "run web ls --help", "run web -- ls", "--app web ps:restart --trace",
    "dokku --app web ps:restart --help", "--version", "-h",
])
@pytest.mark.parametrize("user", ["u", ADMIN])
def test_refused_for_everyone(raw, user):
    decision = run(one_team(apps=["*"]), user, raw)
    assert decision.code == MALFORMED, decision.reason
    assert decision.argv is None


# --- app commands without an app ----------------------------------------------------------------

APP_COMMANDS = [c for c in commands.core_commands() if commands.lookup(c).shape == "app"]


@pytest.mark.parametrize("command", APP_COMMANDS)
def test_app_command_without_app_is_admin_only(command):
    st = one_team(commands_=["*", command], apps=["*"])
    decision = run(st, "u", command)
    assert decision.code == DENIED
    assert decision.reason == "%s without an app is restricted to admins" % command
    assert run(st, ADMIN, command).code == ALLOWED


# An everyday value of each type a row requires (docs/VALUES.md).
SAMPLE = {"config-pair": "A=1", "config-key": "A", "word": "A", "cronid": "abc", "buildid": "current",
          "buildpack": "heroku/nodejs", "registry-host": "docker.io", "registry-user": "user", "secret": "pass",
          "storage-ref": "data", "choice:crt|key": "crt", "tag": "v1", "domain": "example.com",
          "portmap": "http:80:5000", "portspec": "80", "own-image": "dokku/web:1", "image": "dokku/web:1",
          "url": "https://example.com/a.tar", "phases": "deploy", "text": "x"}


def _with_its_app(command):
    spec = commands.lookup(command)
    if spec.properties is not None:
        return "%s web %s" % (command, sorted(spec.properties)[0])      # PROPERTY alone unsets it
    words = [SAMPLE[kind] for kind, card in spec.positionals if card in ("1", "+")]
    return " ".join([command, "web"] + words)


@pytest.mark.parametrize("command", APP_COMMANDS)
def test_app_command_with_its_app(command):
    raw = _with_its_app(command)
    assert run(one_team(commands_=[command], apps=["web"]), "u", raw).code == ALLOWED
    assert run(one_team(commands_=[command], apps=["api"]), "u", raw).reason == "App web does not exist"


# --- unknown commands: admin-only (issue 11: the registry types every verb a team may run) ------

UNKNOWN = "'%s' is not a command the gate knows; it is restricted to admins"


@pytest.mark.parametrize("raw,code,reason", [
    ("foo:bar web", DENIED, UNKNOWN % "foo:bar"),
    ("foo:bar api", DENIED, UNKNOWN % "foo:bar"),
    ("foo:bar", DENIED, UNKNOWN % "foo:bar"),
    ("foo:bar --baz web", DENIED, UNKNOWN % "foo:bar"),
    ("foo:bar web --global", DENIED, UNKNOWN % "foo:bar"),
    ("postgres:frobnicate web", DENIED, UNKNOWN % "postgres:frobnicate"),
    ("caddy:logs web", DENIED, UNKNOWN % "caddy:logs"),    # ignores its app (caddy-vhosts/internal-functions:7-17)
    ("foo:bar Web", DENIED, None),
    ("foo:bar ../web", DENIED, None),
    ("Foo:bar web", MALFORMED, None),
])
def test_unknown_commands_fail_closed(raw, code, reason):
    assert commands.lookup(raw.split()[0]) is None
    decision = run(one_team(commands_=["*"], apps=["web"]), "u", raw)
    assert decision.code == code, decision.reason
    if reason:
        assert decision.reason == reason
    if code == DENIED:
        assert run(one_team(commands_=["*"], apps=["web"]), ADMIN, raw).code == ALLOWED


# --- admins --------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", commands.core_commands())
def test_admins_may_run_every_core_command_that_parses(command):
    view = policy.compile_view(state(), ADMIN, [])
    for raw in (command, "%s web" % command):
        decision = ev.evaluate(view, raw)
        if decision.code == MALFORMED:
            continue                     # e.g. apps:rename needs two apps; git:load-image an image
        assert decision.code == ALLOWED and decision.team == "dokku@admin"
        assert decision.argv == ["/usr/bin/dokku"] + raw.split()


def test_admin_sees_every_app():
    decision = run(state(), ADMIN, "apps:list")
    assert decision.filter_all is True


# --- opaque denials --------------------------------------------------------------------------------

FOREIGN = state(mine=team(members=["u"], commands=["*"], apps=["web"], services=[("postgres", "db")]),
                theirs=team(members=["v"], commands=["*"], apps=["secret"], services=[("postgres", "secret-db")]))
MISSING = state(mine=team(members=["u"], commands=["*"], apps=["web"], services=[("postgres", "db")]),
                theirs=team(members=["v"], commands=["*"], apps=["other"], services=[("postgres", "other-db")]))


@pytest.mark.parametrize("raw", [
    "ps:restart secret", "git-receive-pack 'secret'", "config:set secret A=1", "logs -t secret",
    "docker tag dokku/web:1 dokku/secret:1", "docker-over-ssh pull dokku/secret:1", "apps:rename secret x",
    "apps:clone secret x", "postgres:link db secret", "postgres:info secret-db", "postgres:link secret-db web",
    "--app secret ps:restart", "git:from-image secret dokku/secret:1", "tags:deploy secret v1",
    "postgres:clone db secret-db",
])
def test_opaque_denial_is_identical_for_foreign_and_missing(raw):
    foreign, missing = run(FOREIGN, "u", raw), run(MISSING, "u", raw)
    assert foreign.code == missing.code == DENIED
    assert foreign.reason.encode() == missing.reason.encode()
    assert foreign.reason.endswith(" does not exist")
    assert foreign.as_dict() == missing.as_dict()


def test_opaque_texts_are_dokkus_own():
    assert run(FOREIGN, "u", "ps:restart secret").reason == "App secret does not exist"
    assert run(FOREIGN, "u", "postgres:info secret-db").reason == "Postgres service secret-db does not exist"
    assert run(FOREIGN, "u", "mongo:info secret-db").reason == "Mongo service secret-db does not exist"


def test_opaque_app_comes_before_the_command_check():
    st = state(mine=team(members=["u"], commands=["logs"], apps=["web"]))
    assert run(st, "u", "ps:restart secret").reason == "App secret does not exist"
    assert run(st, "u", "ps:restart web").reason == "You are not allowed to run ps:restart on web"


# --- services ------------------------------------------------------------------------------------

@pytest.mark.parametrize("grant,raw,code", [
    (("postgres", "db"), "postgres:info db", ALLOWED),
    (("postgres", "db"), "postgres:info db2", DENIED),
    (("postgres", "db"), "redis:info db", DENIED),
    (("postgres", "*"), "postgres:info anything", ALLOWED),
    (("postgres", "*"), "mysql:info anything", DENIED),
    (("*", "*"), "mysql:info anything", ALLOWED),
    (("*", "*"), "redis:link cache web", ALLOWED),
    (("*", "*"), "redis:link cache api", DENIED),
    (("postgres", "db"), "postgres:link db web", ALLOWED),
    (("postgres", "db"), "postgres:clone db db-copy", DENIED),
    (("postgres", "*"), "postgres:clone db db-copy", ALLOWED),
    (("postgres", "db"), "postgres:create db", ALLOWED),
    # the plugin reads $1 as the service (subcommands/destroy:16-27): options go after it
    (("postgres", "db"), "postgres:destroy db --force", ALLOWED),
    (("postgres", "db"), "postgres:destroy --force db", DENIED),
    (("postgres", "db"), "postgres:info", DENIED),
    (("postgres", "db"), "postgres:app-links web", ALLOWED),
    (("postgres", "db"), "postgres:app-links api", DENIED),
])
def test_service_grants(grant, raw, code):
    st = one_team(commands_=["*"], apps=["web"], services=[grant])
    assert run(st, "u", raw).code == code


def test_service_list_is_filtered():
    st = one_team(commands_=["*"], apps=["web"], services=[("postgres", "db"), ("redis", "cache")])
    decision = run(st, "u", "postgres:list")
    assert decision.code == ALLOWED and decision.filter_apps == ["db"] and decision.filter_all is False
    st = one_team(commands_=["*"], apps=["web"], services=[("*", "*")])
    assert run(st, "u", "redis:list").filter_all is True


# --- apps:list scope ------------------------------------------------------------------------------

def test_apps_list_shows_only_the_apps_of_teams_that_grant_it():
    st = state(a=team(members=["u"], commands=["apps:list", "ps:*"], apps=["web", "web-api"]),
               b=team(members=["u"], commands=["ps:*"], apps=["api"]),
               c=team(members=["u"], commands=["apps:*"], apps=["blog"]),
               d=team(members=["v"], commands=["*"], apps=["*"]))
    decision = run(st, "u", "apps:list --format json")
    assert decision.code == ALLOWED
    assert decision.filter_apps == ["blog", "web", "web-api"] and decision.filter_all is False


def test_apps_list_needs_a_grant():
    st = state(a=team(members=["u"], commands=["ps:*"], apps=["web"]))
    assert run(st, "u", "apps:list").code == DENIED


# --- teams:* ------------------------------------------------------------------------------------

TEAMS = state(web=team(owners=["o"], members=["m"]), other=team(owners=["x"], members=["x"]))


@pytest.mark.parametrize("user,raw,code", [
    ("m", "teams:whoami", ALLOWED), ("nobody", "teams:whoami", ALLOWED), ("m", "teams:list", ALLOWED),
    ("m", "teams:team-report web", ALLOWED), ("m", "teams:whois m", ALLOWED),
    ("o", "teams:member-add web a", ALLOWED), ("o", "teams:member-remove web m", ALLOWED),
    ("o", "teams:owner-add web m", ALLOWED), ("o", "teams:owner-remove web o", ALLOWED),
    ("o", "teams:destroy web", ALLOWED), ("o", "teams:members-add web a", ALLOWED),
    ("m", "teams:member-add web a", DENIED), ("m", "teams:destroy web", DENIED),
    ("o", "teams:member-add other o", DENIED), ("o", "teams:member-add", DENIED),
    ("o", "teams:create t", DENIED), ("o", "teams:command-add web ps:restart", DENIED),
    ("o", "teams:app-add web api", DENIED), ("o", "teams:service-add web postgres db", DENIED),
    ("o", "teams:apps-remove web api", DENIED), ("o", "teams:frobnicate web", DENIED),
    (ADMIN, "teams:create t", ALLOWED), (ADMIN, "teams:command-add web ps:restart", ALLOWED),
    ("o", "teams:member-add web A", MALFORMED), ("o", "teams:member-add web 'a b'", MALFORMED),
])
def test_teams_verbs(user, raw, code):
    decision = run(TEAMS, user, raw)
    assert decision.code == code, decision.reason
    assert decision.argv is None


def test_teams_foreign_team_is_opaque():
    assert run(TEAMS, "o", "teams:member-add other o").reason == "Team other does not exist"
    assert run(TEAMS, "o", "teams:member-add ghost o").reason == "Team ghost does not exist"


def test_owning_the_admin_team_does_not_make_an_admin():
    # Fixed: an owner of dokku@admin (the state should never hold one) was allowed teams:member-add on it.
    st = state()
    st["teams"]["dokku@admin"]["owners"] = ["o"]
    for raw in ("teams:member-add dokku@admin o", "teams:owner-add dokku@admin o", "teams:destroy dokku@admin"):
        assert run(st, "o", raw).code == DENIED, raw


# --- exact argv of every SPEC §5 form -----------------------------------------------------------

EVERYTHING = one_team(commands_=["*", "docker:pull", "docker:tag", "docker:version"], apps=["web", "api"],
                      services=[("postgres", "db")])


@pytest.mark.parametrize("raw,argv", [
    ("git-receive-pack 'web'", ["/usr/bin/dokku", "git-receive-pack", "'web'"]),
    ("git-receive-pack '/web'", ["/usr/bin/dokku", "git-receive-pack", "'web'"]),
    ("git-receive-pack web", ["/usr/bin/dokku", "git-receive-pack", "'web'"]),
    ("git-upload-pack 'web'", ["/usr/bin/dokku", "git-upload-pack", "'web'"]),
    ("git-upload-pack /web", ["/usr/bin/dokku", "git-upload-pack", "'web'"]),
    ("ps:restart web", ["/usr/bin/dokku", "ps:restart", "web"]),
    ("dokku ps:restart web", ["/usr/bin/dokku", "ps:restart", "web"]),
    ("--app web ps:restart", ["/usr/bin/dokku", "ps:restart", "web"]),
    ("dokku --app web config:set A=1 B=2", ["/usr/bin/dokku", "config:set", "web", "A=1", "B=2"]),
    ("--app web logs -n 100 -t", ["/usr/bin/dokku", "logs", "web", "-n", "100", "-t"]),
    ("ps:restart --parallel 2 web", ["/usr/bin/dokku", "ps:restart", "--parallel", "2", "web"]),
    ("logs -n 100 -t web", ["/usr/bin/dokku", "logs", "-n", "100", "-t", "web"]),
    ("config:set --no-restart web A=1", ["/usr/bin/dokku", "config:set", "--no-restart", "web", "A=1"]),
    ('config:set web "GREETING=hello world"', ["/usr/bin/dokku", "config:set", "web", "GREETING=hello world"]),
    ("apps:list --format json", ["/usr/bin/dokku", "apps:list", "--format", "json"]),
    ("apps:destroy --force web", ["/usr/bin/dokku", "apps:destroy", "--force", "web"]),
    ("docker-over-ssh pull dokku/web:v1", ["/usr/local/bin/docker-over-ssh", "pull", "dokku/web:v1"]),
    ("docker tag dokku/web:v1 dokku/api:v1", ["/usr/bin/docker", "tag", "dokku/web:v1", "dokku/api:v1"]),
    ("docker version", ["/usr/bin/docker", "version"]),
    ("version", ["/usr/bin/dokku", "version"]),
    ("dokku version", ["/usr/bin/dokku", "version"]),
    ("tags:deploy web v1", ["/usr/bin/dokku", "tags:deploy", "web", "v1"]),
    ("git:load-image web dokku/web:v1", ["/usr/bin/dokku", "git:load-image", "web", "dokku/web:v1"]),
    ("git:from-image web dokku/web:v1", ["/usr/bin/dokku", "git:from-image", "web", "dokku/web:v1"]),
    ("git:from-image web registry.example.com/team/web:v1",
     ["/usr/bin/dokku", "git:from-image", "web", "registry.example.com/team/web:v1"]),
    ("git:from-image web registry.example.com:5000/team/web:v1",
     ["/usr/bin/dokku", "git:from-image", "web", "registry.example.com:5000/team/web:v1"]),
    ("git:from-image web docker.io/dokku/web:v1", ["/usr/bin/dokku", "git:from-image", "web", "docker.io/dokku/web:v1"]),
    ("postgres:link db web", ["/usr/bin/dokku", "postgres:link", "db", "web"]),
    ("run web rails db:migrate", ["/usr/bin/dokku", "run", "web", "rails", "db:migrate"]),
])
def test_exact_argv(raw, argv):
    decision = run(EVERYTHING, "u", raw)
    assert decision.code == ALLOWED, decision.reason
    assert decision.argv == argv


def test_argv_with_other_programs():
    programs = {"dokku": "/opt/dokku", "docker": "/opt/docker", "docker-over-ssh": "/opt/dos"}
    view = policy.compile_view(EVERYTHING, "u", [])
    assert ev.evaluate(view, "ps:restart web", programs).argv == ["/opt/dokku", "ps:restart", "web"]
    assert ev.evaluate(view, "docker version", programs).argv == ["/opt/docker", "version"]


@pytest.mark.parametrize("raw", [
    "git:from-image web docker.io/dokku/api:v1",
    "git:from-image web index.docker.io/dokku/api:v1",
    "git:from-image web registry-1.docker.io/dokku/api:v1",
    "git:from-image web DOCKER.IO/dokku/api:v1",
    "git:from-image web dokku/api:v1",
    "git:from-image web dokku/api@sha256:" + "a" * 64,
    "git:from-image web debian:12",
    "git:from-image web dokku/web",
    "git:from-image web gliderlabs/herokuish:latest",
    "git:from-image web heroku/heroku:24-build",
    "git:from-image web ubuntu",
    "git:from-image web registry.example.com/team/web",
    "git:from-image web registry.example.com/../web:v1",
    "git:from-image web docker.io./dokku/api:v1",
    "git:from-image web",
    "git:load-image web dokku/api:v1",
    "git:load-image web docker.io/dokku/web:v1",
    "git:load-image web registry.example.com/dokku/web:v1",
    "git:load-image web",
    "git:load-image web dokku/web",
    "docker tag web:1 dokku/web:1",
    "docker tag dokku/web dokku/web:1",
    "docker tag dokku/web:1 docker.io/dokku/api:1",
    "docker-over-ssh pull docker.io/dokku/web:1",
    "docker-over-ssh pull dokku/web",
    "docker-over-ssh pull dokku/web:1 extra",
    "docker version --format x",
    "docker images",
])
def test_image_forms_refused(raw):
    decision = run(EVERYTHING, "u", raw)
    assert decision.code == MALFORMED, decision.reason


def test_from_image_of_own_app_under_hub_spellings():
    for host in ("docker.io/", "index.docker.io/", "registry-1.docker.io/", ""):
        raw = "git:from-image web %sdokku/web:v1" % host
        assert run(EVERYTHING, "u", raw).code == ALLOWED, raw
