# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dokku Pro's teams CLI field for field, on the example teams of Pro's teams documentation.

Pro's documentation (docs/features/team-management) shows ``teams:whoami``/``teams:whois`` for
root (a global admin, member and owner of ``elevated-access``) and ``teams:team-report`` for
``dokku@admin``; its three example teams are built here. Every field, its flag, the JSON key
and the text line are checked; then the same verbs through the SSH door's parser and policy.
"""

from __future__ import annotations

import io
import json

import pytest

from keyutil import ed25519_line
from module_utils import commands, teamverbs
from module_utils import evaluate as ev
from module_utils import policy
from module_utils import state as statelib
from module_utils.store import Store

USERS = ("root", "camila", "jose", "michael", "eli", "danielle", "zoe")


def _seed_state():
    st = statelib.empty_state()
    for user in USERS:
        st = statelib.add_user(st, user, [ed25519_line(user)])
    st = statelib.add_members(st, "dokku@admin", ["root"])
    for name, members, cmds, apps in (
            ("elevated-access", ["jose", "michael", "root"], ["*"], ["*"]),
            ("restricted-users", ["eli", "danielle"], ["git-*", "postgres:create", "apps:list"], ["node-js-app"]),
            ("fancy-users", ["eli"], ["git-*", "apps:*"], ["ruby-app"])):
        st = statelib.create_team(st, name)
        st = statelib.add_members(st, name, ["camila"], "owner")
        st = statelib.add_members(st, name, members)
        st = statelib.add_grants(st, name, commands=cmds, apps=apps)
    st = statelib.add_members(st, "elevated-access", ["root"], "owner")
    st = statelib.add_grants(st, "elevated-access", services=[{"type": "*", "name": "*"}])
    # eli created the app "blog" over SSH: its app team holds them as owner and member.
    return statelib.create_app_team(st, "blog", "eli")


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path / "state"))
    store.init()
    with store.transaction() as tx:
        tx.state = _seed_state()
    return store


def run(store, actor, *words, admin=False, **kwargs):
    return teamverbs.execute(store, actor, list(words), admin=admin, **kwargs)


def lines(text):
    """Report lines with runs of blanks made one (Pro's page lost the padding)."""
    return [" ".join(line.split()) for line in text.splitlines()]


# --- teams:whoami / teams:whois ------------------------------------------------------------------

PRO_ROOT = """=====> root user information
User app membership:
User app ownership:
User is global admin: true
User membership: elevated-access
User ownership: elevated-access
User service membership:
User service ownership:
Username: root"""


def test_whois_root_is_the_page_s_example(store):
    code, out, err = run(store, "root", "teams:whois", "root", admin=True)
    assert (code, err) == (0, "")
    assert lines(out) == PRO_ROOT.splitlines()
    code, out, err = run(store, "root", "teams:whoami", admin=True)
    assert lines(out) == PRO_ROOT.splitlines()


def test_report_lines_are_padded_like_dokku_s_report(store):
    # dokku/dokku plugins/common/common.go ReportSingleApp: 7 blanks, "Label:" padded to 31.
    out = run(store, "root", "teams:whois", "eli", admin=True)[1]
    assert out.splitlines()[1] == "       " + "User app membership:".ljust(31) + "blog"
    assert out.splitlines()[-1] == "       " + "Username:".ljust(31) + "eli"


ELI = {
    "--user-app-membership": "blog", "--user-app-ownership": "blog", "--user-is-global-admin": "false",
    "--user-membership": "fancy-users restricted-users", "--user-ownership": "",
    "--user-service-membership": "", "--user-service-ownership": "", "--username": "eli",
}
ROOT = {
    "--user-app-membership": "", "--user-app-ownership": "", "--user-is-global-admin": "true",
    "--user-membership": "elevated-access", "--user-ownership": "elevated-access",
    "--user-service-membership": "", "--user-service-ownership": "", "--username": "root",
}
CAMILA = dict(ROOT, **{"--user-is-global-admin": "false", "--user-membership": "", "--username": "camila",
                       "--user-ownership": "elevated-access fancy-users restricted-users"})


def test_the_user_flags_are_pro_s():
    assert teamverbs.USER_FLAGS == tuple(sorted(ELI))
    assert [teamverbs.USER_FLAGS.index(f) for f in sorted(teamverbs.USER_FLAGS)] == list(range(8))


@pytest.mark.parametrize("user,expected", [("eli", ELI), ("root", ROOT), ("camila", CAMILA)])
@pytest.mark.parametrize("flag", sorted(ELI))
def test_each_user_flag_prints_its_value(store, user, expected, flag):
    assert run(store, "root", "teams:whois", user, flag, admin=True) == (0, expected[flag] + "\n", "")
    # the flag may come first, as Dokku's report flags may
    assert run(store, "root", "teams:whois", flag, user, admin=True) == (0, expected[flag] + "\n", "")
    # and the user asks about themselves
    assert run(store, user, "teams:whoami", flag, admin=user == "root") == (0, expected[flag] + "\n", "")


@pytest.mark.parametrize("user,expected", [("eli", ELI), ("root", ROOT), ("camila", CAMILA)])
def test_whois_json_has_pro_s_keys_and_string_values(store, user, expected):
    code, out, err = run(store, "root", "teams:whois", user, "--format", "json", admin=True)
    assert (code, err) == (0, "")
    assert json.loads(out) == dict((flag[2:], value) for flag, value in expected.items())
    assert list(json.loads(out)) == sorted(flag[2:] for flag in expected)
    code, out, err = run(store, user, "teams:whoami", "--format=json", admin=user == "root")
    assert json.loads(out) == dict((flag[2:], value) for flag, value in expected.items())


def test_whois_a_user_that_does_not_exist_is_empty_not_an_error(store):
    code, out, err = run(store, "root", "teams:whois", "ghost", "--format", "json", admin=True)
    assert code == 0 and err == ""
    assert json.loads(out) == {"user-app-membership": "", "user-app-ownership": "", "user-is-global-admin": "false",
                               "user-membership": "", "user-ownership": "", "user-service-membership": "",
                               "user-service-ownership": "", "username": "ghost"}


def test_whois_another_user_is_for_admins(store):
    assert run(store, "eli", "teams:whois", "eli", "--username") == (0, "eli\n", "")
    code, out, err = run(store, "eli", "teams:whois", "jose")
    assert code == 77 and out == "" and "restricted to admins" in err


@pytest.mark.parametrize("words,message", [
    (("teams:whoami", "--team-apps"), "Invalid flag passed, valid flags: --user-app-membership, "),
    (("teams:whois", "eli", "--user-teams"), "Invalid flag passed"),
    (("teams:whoami", "--username", "--format", "json"),
     "--format flag cannot be specified when specifying an info flag"),
    (("teams:whoami", "--username", "--user-membership"), "teams:whoami takes one field flag"),
    (("teams:whoami", "--format", "yaml"), "option --format takes one of json, stdout"),
    (("teams:whoami", "--format"), "option --format needs a value"),
    (("teams:whoami", "--force"), "unknown option --force for teams:whoami"),
    (("teams:whoami", "extra"), "usage: teams:whoami"),
    (("teams:list", "--username"), "unknown option --username for teams:list"),
])
def test_bad_flags_are_one_line_malformed(store, words, message):
    code, out, err = run(store, "root", *words, admin=True)
    assert code == 64 and out == "" and err.startswith("!     " + message) and err.count("\n") == 1


def test_whoami_over_the_gate_reads_the_view_not_the_state(store):
    class Unreadable(object):
        def load(self):
            raise AssertionError("teams:whoami read the state")

    view = policy.compile_view(store.load(), "eli", [])
    for flag in sorted(ELI):
        assert run(Unreadable(), "eli", "teams:whoami", flag, view=view) == (0, ELI[flag] + "\n", "")
    assert lines(run(Unreadable(), "eli", "teams:whoami", view=view)[1])[4] == "User membership: fancy-users restricted-users"
    assert run(Unreadable(), "eli", "teams:whoami", "--username") == (0, "eli\n", "")


# --- teams:team-report -----------------------------------------------------------------------------

PRO_ADMIN_TEAM = """=====> dokku@admin team information
Team apps:
Team commands:
Team host escapes:
Team is internal: true
Team is internal app team: false
Team is internal service team: false
Team members: root
Team name: dokku@admin
Team owners:
Team services:"""

RESTRICTED = {
    "--team-apps": "node-js-app", "--team-commands": "apps:list git-* postgres:create",
    "--team-host-escapes": "", "--team-is-internal": "false", "--team-is-internal-app-team": "false",
    "--team-is-internal-service-team": "false", "--team-members": "danielle eli", "--team-name": "restricted-users",
    "--team-owners": "camila", "--team-services": "",
}
BLOG = dict(RESTRICTED, **{"--team-apps": "blog", "--team-commands": "*", "--team-is-internal": "true",
                           "--team-is-internal-app-team": "true", "--team-members": "eli",
                           "--team-name": "dokku@app--blog", "--team-owners": "eli"})
ELEVATED = dict(RESTRICTED, **{"--team-apps": "*", "--team-commands": "*", "--team-members": "jose michael root",
                               "--team-name": "elevated-access", "--team-owners": "camila root",
                               "--team-services": "*:*"})


def test_team_report_of_the_admin_team_is_the_page_s_example(store):
    # The page's dokku@admin has owners; this collection's has none (it is the admins' team).
    code, out, err = run(store, "root", "teams:team-report", "dokku@admin", admin=True)
    assert (code, err) == (0, "")
    assert lines(out) == PRO_ADMIN_TEAM.splitlines()


def test_the_team_flags_are_pro_s_and_one_extra():
    assert teamverbs.TEAM_FLAGS == tuple(sorted(RESTRICTED))
    pro = ["--team-apps", "--team-commands", "--team-is-internal", "--team-is-internal-app-team",
           "--team-is-internal-service-team", "--team-members", "--team-name", "--team-owners", "--team-services"]
    assert [flag for flag in teamverbs.TEAM_FLAGS if flag != "--team-host-escapes"] == pro


@pytest.mark.parametrize("team,expected", [("restricted-users", RESTRICTED), ("dokku@app--blog", BLOG),
                                           ("elevated-access", ELEVATED)])
@pytest.mark.parametrize("flag", sorted(RESTRICTED))
def test_each_team_flag_prints_its_value(store, team, expected, flag):
    assert run(store, "root", "teams:team-report", team, flag, admin=True) == (0, expected[flag] + "\n", "")


@pytest.mark.parametrize("team,expected", [("restricted-users", RESTRICTED), ("dokku@app--blog", BLOG)])
def test_team_report_json_has_pro_s_keys(store, team, expected):
    code, out, err = run(store, "root", "teams:team-report", team, "--format", "json", admin=True)
    assert json.loads(out) == dict((flag[2:], value) for flag, value in expected.items())


def test_team_report_flags_the_host_escapes(store):
    with store.transaction() as tx:
        tx.state = statelib.add_grants(tx.state, "fancy-users", commands=["docker-options:add"])
    assert run(store, "root", "teams:team-report", "fancy-users", "--team-host-escapes", admin=True)[1] == \
        "docker-options:add\n"


def test_team_report_is_for_the_team_s_people_and_admins(store):
    assert run(store, "eli", "teams:team-report", "fancy-users", "--team-name")[1] == "fancy-users\n"
    assert run(store, "camila", "teams:team-report", "fancy-users", "--team-owners")[1] == "camila\n"
    code, out, err = run(store, "jose", "teams:team-report", "fancy-users")
    assert (code, out, err) == (77, "", "!     Team fancy-users does not exist\n")


@pytest.mark.parametrize("spelling", ["teams:team-report", "teams:report", "teams:access-report",
                                      "team:team-report", "team:access-report"])
def test_team_report_aliases_answer_the_same(store, spelling):
    expected = run(store, "root", "teams:team-report", "fancy-users", admin=True)
    assert run(store, "root", spelling, "fancy-users", admin=True) == expected
    assert run(store, "root", spelling, "fancy-users", "--team-members", admin=True) == (0, "eli\n", "")


# --- teams:list --------------------------------------------------------------------------------------

@pytest.mark.parametrize("user,admin,expected", [
    ("root", True, ["dokku@admin", "dokku@app--blog", "elevated-access", "fancy-users", "restricted-users"]),
    ("camila", False, ["elevated-access", "fancy-users", "restricted-users"]),    # owner only
    ("eli", False, ["dokku@app--blog", "fancy-users", "restricted-users"]),
    ("jose", False, ["elevated-access"]),
    ("zoe", False, []),
])
def test_list_shows_admins_every_team_and_others_their_own(store, user, admin, expected):
    code, out, err = run(store, user, "teams:list", "--format", "json", admin=admin)
    assert (code, json.loads(out), err) == (0, expected, "")
    assert run(store, user, "teams:list", admin=admin)[1] == "=====> Teams\n" + "".join(t + "\n" for t in expected)


# --- teams:destroy -----------------------------------------------------------------------------------

def test_destroy_without_a_terminal_needs_force(store):
    code, out, err = run(store, "camila", "teams:destroy", "fancy-users")
    assert code == 64 and "needs --force" in err
    assert "fancy-users" in store.load()["teams"]
    assert run(store, "camila", "teams:destroy", "fancy-users", "--force")[0] == 0
    assert "fancy-users" not in store.load()["teams"]


def test_destroy_on_a_terminal_asks_for_the_team_s_name(store):
    asked = []

    def confirm(team):
        asked.append(team)
        return "fancy"

    code, out, err = run(store, "root", "teams:destroy", "fancy-users", admin=True, confirm=confirm)
    assert (code, out, err) == (1, "", "!     Confirmation did not match test. Aborted.\n")
    assert asked == ["fancy-users"] and "fancy-users" in store.load()["teams"]
    code, out, err = run(store, "root", "teams:destroy", "fancy-users", admin=True, confirm=lambda team: team)
    assert code == 0 and "fancy-users" not in store.load()["teams"]
    # --force skips the question
    assert run(store, "root", "teams:destroy", "restricted-users", "--force", admin=True, confirm=asked.append)[0] == 0
    assert asked == ["fancy-users"]


def test_destroy_asks_nothing_about_a_team_the_actor_cannot_see(store):
    code, out, err = run(store, "jose", "teams:destroy", "fancy-users", confirm=lambda team: pytest.fail("asked"))
    assert (code, err) == (77, "!     Team fancy-users does not exist\n")


def test_terminal_confirm_speaks_like_dokku():
    stdout, stderr = io.StringIO(), io.StringIO()
    assert teamverbs.terminal_confirm("elevated-access", io.StringIO("elevated-access\n"), stdout, stderr) == \
        "elevated-access"
    assert stderr.getvalue() == (" !     WARNING: Potentially Destructive Action\n"
                                 " !     This command will destroy the team elevated-access.\n"
                                 " !     To proceed, type \"elevated-access\"\n")
    assert stdout.getvalue() == "> "
    assert teamverbs.terminal_confirm("x", io.StringIO(""), io.StringIO(), io.StringIO()) is None


# --- one implementation: the registry's verbs, the SSH door's parser and policy --------------------

def test_the_verbs_and_their_rights_are_the_registry_s():
    verbs = commands.teams_verbs()
    assert sorted(teamverbs.USAGE) == sorted(verbs)
    assert teamverbs.ADMIN_VERBS == frozenset(v for v in verbs if commands.lookup("teams:" + v).who == "admin")
    assert "who-can" in teamverbs.ADMIN_VERBS and "destroy" in teamverbs.OWNER_VERBS
    assert not hasattr(teamverbs, "VERBS") and not hasattr(teamverbs, "ALIASES")


@pytest.mark.parametrize("user,raw,code,reason", [
    ("camila", "teams:destroy fancy-users --force", 0, "owner of team fancy-users"),
    ("camila", "teams:destroy --force fancy-users", 0, "owner of team fancy-users"),
    ("eli", "teams:destroy --force fancy-users", 77, "only owners of team fancy-users may do that"),
    ("eli", "teams:whois eli --user-membership", 0, None),
    ("eli", "teams:whoami --format json", 0, None),
    ("eli", "team:whoami --username", 0, None),
    ("eli", "teams:team-report fancy-users --team-apps", 0, None),
    ("eli", "teams:access-report fancy-users --format=json", 0, None),
    ("eli", "teams:list --bogus", 64, "unknown option --bogus for teams:list"),
    # a report's field flags are the report's to check (as Dokku's are): refused when it runs
    ("eli", "teams:whoami --bogus", 0, None),
    ("eli", "teams:destroy fancy-users --forced", 64, "unknown option --forced for teams:destroy"),
    ("eli", "teams:whoami --format yaml", 64, "option --format takes one of json, stdout"),
    ("eli", "teams:who-can blog", 77, "teams:who-can is restricted to admins"),
    ("root", "teams:who-can blog ps:restart --format json", 0, None),
])
def test_the_ssh_door_parses_the_same_flags(store, user, raw, code, reason):
    decision = ev.evaluate(policy.compile_view(store.load(), user, []), raw)
    assert decision.code == code, decision.reason
    if reason is not None:
        assert decision.reason == reason


@pytest.mark.parametrize("raw", ["teams:list --bogus", "teams:whoami --bogus", "teams:destroy fancy-users --forced",
                                 "teams:whoami --format yaml", "teams:whois eli --username --format json"])
def test_both_doors_refuse_a_bad_flag_with_the_same_line(store, raw):
    door = ev.evaluate(policy.compile_view(store.load(), "root", []), raw)
    cli = run(store, "root", *raw.split(), admin=True)
    assert cli[0] == 64
    if door.code == 64:
        assert cli[2] == "!     %s\n" % door.reason
    else:   # a flag combination only the report itself knows: refused when it runs
        assert door.code == 0
        gate = run(store, "root", *raw.split(), admin=True, view=policy.compile_view(store.load(), "root", []))
        assert gate == cli and ("Invalid flag passed" in cli[2] or "--format flag cannot" in cli[2])


def test_the_gate_and_the_cli_print_the_same_whoami(store):
    view = policy.compile_view(store.load(), "eli", [])
    for flags in ((), ("--format", "json"), ("--user-app-membership",)):
        assert run(store, "eli", "teams:whoami", *flags, view=view) == run(store, "eli", "teams:whoami", *flags)


# --- the CLI as a process: the same verbs, and who-can -----------------------------------------------

def cli(store, *args, stdin=""):
    import os
    import subprocess
    program = os.path.join(os.path.dirname(__file__), "..", "..", "bin", "dokku-teams")
    result = subprocess.run([program, "--state-dir", store.state_dir] + list(args), input=stdin,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_the_cli_prints_pro_s_fields_and_who_can(store):
    result = cli(store, "teams:whois", "eli", "--user-membership")
    assert (result.returncode, result.stdout) == (0, "fancy-users restricted-users\n")
    result = cli(store, "who-can", "node-js-app", "git-receive-pack", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [(e["user"], e["teams"]) for e in json.loads(result.stdout)] == [
        ("danielle", ["restricted-users"]), ("eli", ["restricted-users"]), ("jose", ["elevated-access"]),
        ("michael", ["elevated-access"]), ("root", ["dokku@admin"])]
    assert cli(store, "who-can", "ruby-app", "apps:report").stdout == cli(
        store, "teams:who-can", "ruby-app", "apps:report").stdout
    # not a terminal: --force is needed, and nothing is read from stdin
    result = cli(store, "teams:destroy", "fancy-users", stdin="fancy-users\n")
    assert result.returncode == 64 and "needs --force" in result.stderr
    assert cli(store, "teams:destroy", "fancy-users", "--force").returncode == 0
    assert "fancy-users" not in store.load()["teams"]


@pytest.mark.parametrize("typed,code", [("fancy-users", 0), ("fancy", 1)])
def test_the_cli_asks_on_a_terminal(store, typed, code):
    import os
    import subprocess
    master, slave = os.openpty()
    program = os.path.join(os.path.dirname(__file__), "..", "..", "bin", "dokku-teams")
    try:
        os.write(master, (typed + "\n").encode())
        result = subprocess.run([program, "--state-dir", store.state_dir, "teams:destroy", "fancy-users"], stdin=slave,
                                capture_output=True, text=True, timeout=60, check=False)
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(" !     WARNING: Potentially Destructive Action\n")
    assert result.stdout.startswith("> ")
    assert ("fancy-users" in store.load()["teams"]) is (code != 0)


# --- over SSH: the real gate process ---------------------------------------------------------------

@pytest.fixture
def gate_world():
    import gate_helpers as H
    w = H.World()
    w.fp = dict((user, w.add_user(user)) for user in ("eli", "camila", "root-admin"))
    w.admin("root-admin")
    w.team("fancy-users", members=["eli"], owners=["camila"], commands=["git-*", "apps:*"], apps=["ruby-app"])
    yield w
    w.cleanup()


def test_over_the_gate_the_same_fields_flags_and_destroy_rule(gate_world):
    w = gate_world
    result = w.run("eli", w.fp["eli"], "teams:whoami --user-membership")
    assert (result.returncode, result.stdout) == (0, b"fancy-users\n"), result.stderr
    result = w.run("eli", w.fp["eli"], "teams:whoami --format json")
    assert json.loads(result.stdout)["user-membership"] == "fancy-users"
    result = w.run("eli", w.fp["eli"], "team:access-report fancy-users --team-owners")
    assert (result.returncode, result.stdout) == (0, b"camila\n")
    result = w.run("camila", w.fp["camila"], "teams:destroy fancy-users")
    assert result.returncode == 64 and b"needs --force" in result.stderr
    result = w.run("eli", w.fp["eli"], "teams:who-can ruby-app")
    assert result.returncode == 77 and b"restricted to admins" in result.stderr
    result = w.run("root-admin", w.fp["root-admin"], "teams:who-can ruby-app git-receive-pack --format json")
    assert [e["user"] for e in json.loads(result.stdout)] == ["eli", "root-admin"]
    result = w.run("camila", w.fp["camila"], "teams:destroy --force fancy-users")
    assert result.returncode == 0, result.stderr
    assert "fancy-users" not in w.store.load()["teams"]
    assert w.calls_made() == []


def test_whoami_at_the_gate_imports_nothing_heavy():
    import os
    import subprocess
    import sys
    plugins = os.path.join(os.path.dirname(__file__), "..", "..", "plugins")
    code = ("import sys; sys.path.insert(0, %r); from module_utils import gate, teamverbs\n"
            "view = {'admin': False, 'member_of': ['web'], 'owns': []}\n"
            "for flags in ([], ['--format', 'json'], ['--user-membership']):\n"
            "    assert teamverbs.execute(None, 'eli', ['teams:whoami'] + flags, view=view)[0] == 0\n"
            "print(' '.join(sorted(sys.modules)))" % plugins)
    loaded = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "module_utils.teamverbs" in loaded
    for heavy in ("json", "re", "module_utils.state", "module_utils.whocan"):
        assert heavy not in loaded


def test_the_host_plugin_s_help_names_every_verb_of_the_registry():
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "dokku_teams", "templates", "commands.j2")
    with open(path) as handle:
        helped = set(line.split()[0].rstrip(",") for line in handle if line.startswith("    teams:"))
    assert helped == set("teams:" + verb for verb in commands.teams_verbs())
