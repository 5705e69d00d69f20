# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin CLI as a real process: verbs, exit codes, one-line errors, state left unchanged."""

import io
import json
import os
import subprocess

import pytest

from keyutil import ed25519_line
from module_utils import compat, gateconfig
from module_utils.store import Store

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "bin", "dokku-teams")
CI_USER = os.path.join(ROOT, "bin", "dokku-ci-user")
# An account that exists here, standing in for ci: authorized_keys is root:ci 0640.
CI_ACCOUNT = "nobody"


def run(state_dir, *args, stdin=None, program=CLI, config=None):
    argv = [program]
    if config:
        argv += ["--config", config] if program == CLI else []
    if state_dir and program == CLI:
        argv += ["--state-dir", str(state_dir)]
    result = subprocess.run(argv + list(args), input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def policy(tmp_path):
    """A state with the SPEC's example team ``web`` and an unrelated team ``ops``."""
    state_dir = tmp_path / "state"
    assert run(state_dir, "init").returncode == 0
    for user in ("alice", "olivia", "bob", "carol", "root-admin"):
        result = run(state_dir, "user:add", user, stdin=ed25519_line(user) + "\n")
        assert result.returncode == 0, result.stderr
    steps = [
        ("teams:create", "web"), ("teams:owner-add", "web", "olivia"), ("teams:member-add", "web", "alice"),
        ("teams:command-add", "web", "git-*", "apps:list", "config:*"), ("teams:app-add", "web", "web", "web-api"),
        ("teams:service-add", "web", "postgres", "web-db"),
        ("teams:create", "ops"), ("teams:owner-add", "ops", "carol"), ("teams:member-add", "ops", "carol"),
        ("teams:command-add", "ops", "*"), ("teams:app-add", "ops", "ops-app"),
        ("teams:member-add", "dokku@admin", "root-admin"),
    ]
    for step in steps:
        result = run(state_dir, *step)
        assert result.returncode == 0, (step, result.stderr)
    return state_dir


def export(state_dir):
    result = run(state_dir, "export")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_export_is_the_policy_document(policy):
    document = export(policy)
    assert list(document) == ["version", "users", "teams"]
    assert document["version"] == 1
    assert document["teams"]["web"] == {
        "owners": ["olivia"], "members": ["alice"], "commands": ["apps:list", "config:*", "git-*"],
        "apps": ["web", "web-api"], "services": [{"type": "postgres", "name": "web-db"}]}
    assert document["teams"]["dokku@admin"]["members"] == ["root-admin"]
    assert "serial" not in document


@pytest.mark.parametrize("user,command,code,reason", [
    ("alice", "config:set web 'A=hello world'", 0, "granted by team web"),
    ("alice", "git-receive-pack 'web-api'", 0, "granted by team web"),
    ("alice", "ps:restart web", 77, "You are not allowed to run ps:restart on web"),
    ("alice", "ps:restart ops-app", 77, "App ops-app does not exist"),
    ("alice", "ps:restart no-such-app", 77, "App no-such-app does not exist"),
    ("olivia", "config:show web", 77, "App web does not exist"),
    ("carol", "ps:restart ops-app", 0, "granted by team ops"),
    ("carol", "storage:mount ops-app /:/host", 77, "storage:mount reaches the host: a team must grant it by its exact name"),
    ("root-admin", "ssh-keys:list", 0, "admin (member of dokku@admin)"),
    ("alice", "config:set web A=1;reboot", 64, "the character ';' is not accepted outside quotes"),
    ("nobody", "version", 77, "unknown user nobody"),
])
def test_check_decisions_and_exit_codes(policy, user, command, code, reason):
    result = run(policy, "check", "--user", user, "--format", "json", "--", command)
    assert result.returncode == code, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["reason"] == reason
    assert answer["decision"] == {0: "allow", 77: "deny", 64: "malformed"}[code]


def test_check_without_a_command_is_no_shell_access(policy):
    result = run(policy, "check", "--user", "alice", "--format", "json")
    assert result.returncode == 64
    assert json.loads(result.stdout)["reason"] == "no shell access"


def test_check_shows_the_argv_it_would_exec(policy):
    result = run(policy, "check", "--user", "alice", "--format", "json", "--", "git-receive-pack '/web'")
    assert json.loads(result.stdout)["argv"] == ["/usr/bin/dokku", "git-receive-pack", "'web'"]
    human = run(policy, "check", "--user", "alice", "--", "config:get web KEY")
    assert human.stdout.startswith("=====> Check\n")
    assert "/usr/bin/dokku config:get web KEY" in human.stdout


def test_opaque_denial_is_identical_for_foreign_and_missing_apps(policy):
    foreign = run(policy, "check", "--user", "alice", "--format", "json", "--", "logs ops-app")
    missing = run(policy, "check", "--user", "alice", "--format", "json", "--", "logs ops-apq")
    assert foreign.returncode == missing.returncode == 77
    assert json.loads(foreign.stdout)["reason"].replace("ops-app", "X") == \
        json.loads(missing.stdout)["reason"].replace("ops-apq", "X")


@pytest.mark.parametrize("args,code,fragment", [
    (("teams:create", "dokku@mine"), 65, "reserved"),
    (("teams:create", "Web"), 65, "invalid team name"),
    (("teams:create", "web\n"), 65, "invalid team name"),
    (("teams:app-add", "web", "../etc"), 65, "invalid app name"),
    (("teams:command-add", "web", "ps:restart;x"), 65, "invalid command name"),
    (("teams:service-add", "web", "Postgres", "db"), 65, "invalid service type"),
    (("teams:member-add", "web", "ghost"), 65, "ghost"),
    (("teams:owner-remove", "web", "olivia"), 65, "at least one owner"),
    (("teams:command-add", "dokku@admin", "*"), 65, "cannot be changed"),
    (("teams:frobnicate",), 64, "unknown command"),
    (("teams:create",), 64, "usage"),
    (("user:add", "Alice"), 65, "invalid user name"),
    (("user:remove", "ghost"), 65, "ghost"),
    (("check", "alice", "--", "version"), 64, "usage"),
    (("export", "--bogus"), 64, "unknown option"),
    (("nonsense",), 64, "unknown command"),
])
def test_bad_input_is_one_line_and_changes_nothing(policy, args, code, fragment):
    before = export(policy)
    result = run(policy, *args, stdin="")
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("!     "), result.stderr
    assert fragment in lines[0]
    assert export(policy) == before


def test_keys_with_options_or_two_lines_are_refused(policy):
    before = export(policy)
    with_options = 'command="/bin/sh" ' + ed25519_line("x")
    assert run(policy, "user:add", "dave", with_options).returncode == 65
    two = ed25519_line("a") + "\n" + ed25519_line("b")
    result = run(policy, "user:add", "dave", two)
    assert result.returncode == 65 and len(result.stderr.splitlines()) == 1
    assert export(policy) == before


def test_same_key_never_in_two_users(policy):
    key = export(policy)["users"]["alice"]["keys"][0]
    result = run(policy, "user:add", "mallory", key)
    assert result.returncode == 65
    assert "mallory" not in export(policy)["users"]


def test_state_problems_exit_75_and_doctor_names_them(policy):
    state_file = policy / "state.json"
    os.chmod(state_file, 0o620)
    check = run(policy, "check", "--user", "alice", "--", "version")
    assert check.returncode == 75
    doctor = run(policy, "doctor")
    assert doctor.returncode == 75 and "writable" in doctor.stderr
    os.chmod(state_file, 0o600)
    state_file.write_text('{"version": 2, "users": {}, "teams": {}}')
    assert run(policy, "check", "--user", "alice", "--", "version").returncode == 75
    assert "version" in run(policy, "doctor").stderr


def test_import_export_round_trip(policy, tmp_path):
    document = export(policy)
    target = tmp_path / "other"
    assert run(target, "init").returncode == 0
    result = run(target, "import", "-", stdin=json.dumps(document))
    assert result.returncode == 0, result.stderr
    assert export(target) == document
    bad = dict(document, version=7)
    result = run(target, "import", "-", stdin=json.dumps(bad))
    assert result.returncode != 0 and len(result.stderr.splitlines()) == 1
    assert export(target) == document


def test_list_and_reports_in_json(policy):
    teams = json.loads(run(policy, "teams:list", "--format", "json").stdout)
    assert teams == ["dokku@admin", "ops", "web"]
    report = json.loads(run(policy, "teams:team-report", "web", "--format", "json").stdout)
    assert report["team-owners"] == "olivia" and report["team-apps"] == "web web-api"
    whois = json.loads(run(policy, "teams:whois", "alice", "--format", "json").stdout)
    assert whois["user-membership"] == "web" and whois["user-is-global-admin"] == "false"
    users = json.loads(run(policy, "user:list", "--format", "json").stdout)
    assert [u["user"] for u in users] == ["alice", "bob", "carol", "olivia", "root-admin"]


def test_plural_aliases(policy):
    assert run(policy, "teams:members-add", "web", "bob").returncode == 0
    assert "bob" in export(policy)["teams"]["web"]["members"]
    assert run(policy, "teams:apps-remove", "web", "web-api").returncode == 0
    assert export(policy)["teams"]["web"]["apps"] == ["web"]


def test_host_escape_grants_are_flagged(policy):
    assert run(policy, "teams:command-add", "ops", "docker-options:add").returncode == 0
    report = run(policy, "teams:team-report", "ops").stdout
    assert "Team host escapes:" in report and "docker-options:add" in report.split("Team host escapes:")[1]


def test_seed_workflow_add_user_with_key_on_stdin(policy, tmp_path):
    config = tmp_path / "gate.conf"
    keys_dir = tmp_path / "ci-ssh"
    keys_dir.mkdir(mode=0o755)
    config.write_text("state_dir=%s\nauthorized_keys=%s/authorized_keys\nci_user=%s\n"
                      % (policy, keys_dir, CI_ACCOUNT))
    os.chmod(config, 0o644)
    key = ed25519_line("ci-job")
    argv = ["add:user", "--name", "deploy-bot", "--app", "web", "--app", "api"]
    # On a host dokku-ci-user reads /etc/dokku-teams/gate.conf; here the library entry point
    # is handed the test's store and config.
    out, err = io.StringIO(), io.StringIO()
    code = compat.main(argv, store=Store(str(policy)), config=gateconfig.load(str(config)),
                       stdin=io.StringIO(key + "\n"), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    document = export(policy)
    assert document["teams"]["ci-deploy-bot"]["apps"] == ["api", "web"]
    assert "git:from-image" in document["teams"]["ci-deploy-bot"]["commands"]
    lines = (keys_dir / "authorized_keys").read_text().splitlines()
    mine = [line for line in lines if "--user deploy-bot " in line]
    assert len(mine) == 1 and mine[0].startswith('restrict,command="/usr/bin/sudo -n ')
    allowed = run(policy, "check", "--user", "deploy-bot", "--", "docker-over-ssh pull dokku/web:1")
    assert allowed.returncode == 0
    assert run(policy, "check", "--user", "deploy-bot", "--", "docker-over-ssh pull dokku/ops-app:1").returncode == 77
    assert run(policy, "check", "--user", "deploy-bot", "--", "config:show web").returncode == 77
    code = compat.main(["remove:user", "--name", "deploy-bot"], store=Store(str(policy)),
                       config=gateconfig.load(str(config)), stdin=io.StringIO(), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "ci-deploy-bot" not in export(policy)["teams"]
    assert "deploy-bot" not in (keys_dir / "authorized_keys").read_text()


def test_dokku_ci_user_entry_point_answers_usage_errors_in_one_line():
    result = run(None, "add:user", "--name", "x", program=CI_USER, stdin="")
    assert result.returncode != 0 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("!     ")


def test_recover_leaves_a_usable_state_alone(policy):
    before = export(policy)
    result = run(policy, "recover")
    assert result.returncode == 0 and "nothing to recover" in result.stdout
    assert export(policy) == before
    result = run(policy, "recover", "--format", "json")
    assert json.loads(result.stdout) == {"outcome": "usable", "reason": None, "was": None, "kept": None}


def test_recover_reseals_a_valid_state_copied_back(policy, tmp_path):
    state_file = policy / "state.json"
    data = state_file.read_bytes()
    state_file.unlink()
    state_file.write_bytes(data)            # the same content in a file the writers never wrote
    os.chmod(state_file, 0o600)
    assert run(policy, "doctor").returncode == 75
    assert run(policy, "recover").returncode == 0
    assert run(policy, "doctor").returncode == 0
    assert export(policy)["teams"]["web"]["members"] == ["alice"]


@pytest.mark.parametrize("breakage", ["corrupt", "symlink"])
def test_recover_sets_an_unusable_state_aside_and_starts_empty(policy, tmp_path, breakage):
    state_file = policy / "state.json"
    outside = tmp_path / "outside.json"
    outside.write_text("keep me")
    if breakage == "corrupt":
        state_file.write_text('{"version": 1, garbage')
    elif breakage == "symlink":
        state_file.unlink()
        os.symlink(outside, state_file)
    else:
        os.chmod(state_file, 0o620)
    assert run(policy, "check", "--user", "alice", "--", "version").returncode == 75
    # the role reads the JSON outcome; people read the lines
    result = run(policy, "recover", *(["--format", "json"] if breakage == "symlink" else []))
    assert result.returncode == 0, result.stderr
    kept = [name for name in os.listdir(policy) if name.startswith("state.json.broken-")]
    assert len(kept) == 1
    if breakage == "symlink":
        outcome = json.loads(result.stdout)
        assert outcome["outcome"] == "rebuilt" and outcome["kept"] == str(policy / kept[0]) and outcome["reason"]
    else:
        assert "Rebuilt an empty state" in result.stdout
        assert "dokku-teams import %s" % (policy / kept[0]) in result.stdout
    assert outside.read_text() == "keep me"          # a link is moved, never followed
    assert run(policy, "doctor").returncode == 0
    assert export(policy)["users"] == {}
    assert run(policy, "check", "--user", "alice", "--", "version").returncode == 77


def test_whoami_answers_without_reading_the_state():
    # The gate's cheapest answer: no load (and validation) of the whole policy behind it.
    from module_utils import teamverbs

    class Unreadable(object):
        def load(self):
            raise AssertionError("teams:whoami read the state")

    assert teamverbs.execute(Unreadable(), "alice", ["teams:whoami", "--username"]) == (0, "alice\n", "")
    # The gate hands over the caller's compiled view: every field comes from it.
    view = {"admin": False, "member_of": ["web"], "owns": []}
    code, out, err = teamverbs.execute(Unreadable(), "alice", ["teams:whoami", "--format", "json"], view=view)
    assert code == 0 and err == "" and json.loads(out)["user-membership"] == "web"
    assert json.loads(out)["username"] == "alice"


def test_doctor_compares_authorized_keys_with_the_state(policy, tmp_path):
    keys_dir = tmp_path / "ci-ssh"
    keys_dir.mkdir(mode=0o755)
    config = tmp_path / "gate.conf"
    # the programs the grants need exist (doctor checks them too)
    config.write_text("state_dir=%s\nauthorized_keys=%s/authorized_keys\nci_user=%s\ndokku=/bin/true\n"
                      "docker=/bin/true\ndocker_over_ssh=/bin/true\n" % (policy, keys_dir, CI_ACCOUNT))
    os.chmod(config, 0o644)
    add = run(None, "--config", str(config), "user:add", "dave", stdin=ed25519_line("dave") + "\n")
    assert add.returncode == 0, add.stderr
    assert run(None, "--config", str(config), "doctor").returncode == 0
    with open(keys_dir / "authorized_keys", "a") as handle:
        handle.write(ed25519_line("smuggled") + "\n")
    doctor = run(None, "--config", str(config), "doctor")
    assert doctor.returncode == 75 and "does not match the state" in doctor.stderr


def test_check_refuses_like_the_gate_on_a_state_copied_back_behind_the_writers(policy, tmp_path):
    """The gate refuses everything (75) on a state.json the writers did not seal; check gives the
    gate's decision, so it answers 75 too (it used to allow on a tampered file)."""
    path = os.path.join(str(policy), "state.json")
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    with open(path, "wb") as handle:           # the same bytes, another file: not the sealed one
        handle.write(data)
    os.chmod(path, 0o600)
    result = run(policy, "check", "--user", "alice", "--format", "json", "--", "config:set web A=1")
    assert result.returncode == 75, result.stdout + result.stderr
    assert json.loads(result.stdout)["decision"] == "error"
    assert run(policy, "recover").returncode == 0
    assert run(policy, "check", "--user", "alice", "--", "config:set web A=1").returncode == 0


def test_check_shows_the_admin_the_real_reason_behind_an_opaque_answer(policy):
    result = run(policy, "check", "--user", "alice", "--format", "json", "--", "ps:restart ops-app")
    assert result.returncode == 77
    answer = json.loads(result.stdout)
    assert answer["reason"] == "App ops-app does not exist"
    assert answer["detail"] == "no team of alice grants the app ops-app"
    text = run(policy, "check", "--user", "alice", "--", "ps:restart ops-app").stdout
    assert "Why:" in text and "no team of alice grants the app ops-app" in text


@pytest.mark.parametrize("mode", [0o660, 0o620])
def test_recover_repairs_the_mode_of_a_valid_state_and_doctor_names_the_fix(policy, mode):
    """Issue 16 item 5: a valid state with a loose mode is repaired, never set aside."""
    before = export(policy)
    os.chmod(policy / "state.json", mode)
    assert run(policy, "check", "--user", "alice", "--", "version").returncode == 75
    doctor = run(policy, "doctor")
    assert doctor.returncode == 75 and "fix: chown root:root and chmod 0600" in doctor.stderr, doctor.stderr
    result = run(policy, "recover")
    assert result.returncode == 0, result.stderr
    assert "Repaired the state's owner and mode (it had uid %d, mode %04o" % (os.geteuid(), mode) in result.stdout
    assert json.loads(run(policy, "recover", "--format", "json").stdout)["outcome"] == "usable"
    assert not [name for name in os.listdir(policy) if name.startswith("state.json.broken-")]
    assert os.stat(policy / "state.json").st_mode & 0o777 == 0o600
    assert run(policy, "doctor").returncode == 0
    assert export(policy) == before
    assert run(policy, "check", "--user", "alice", "--", "git-receive-pack web").returncode == 0


def test_the_exit_codes_the_help_names_are_the_engines():
    from module_utils import cli, errors
    assert "(exit %d allow, %d deny, %d malformed, %d state)" % (
        errors.EX_OK, errors.EX_DENIED, errors.EX_MALFORMED, errors.EX_STATE) in cli.HELP
