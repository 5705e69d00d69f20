"""The dokku_teams role against the lab, end to end, as the example inventory's users.

Needs root (the lab). Never skips: a lab that cannot start is a failure.

The host is the session's shared one (conftest.py: lab `roletest` at index 20, or the lab
DOKKU_TEAMS_ROLE_LAB names). The fixture that converges it runs, on a fresh host, check mode,
the converge, a second converge and check mode again; the first tests here judge those runs.
The others run in file order and build on each other: the users' view over real `ssh` (what
reaches the Dokku stand-in, what is refused, git push, teams verbs), inventory changes, the
seed workflow and the hardening.
"""
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labhost import (DENIED, POLICY_ONLY, as_user, calls, example_vars, export, labctl,  # noqa: E402
                     new_calls, playbook, root)


# ------------------------------------------------------------------ converge

FRESH = ("the lab was converged before (DOKKU_TEAMS_ROLE_LAB or molecule): deselect this test there"
         " (-k 'not fresh_host and not no_change_converge_costs'); it needs a fresh host")


def test_check_mode_on_a_fresh_host(host):
    assert host.fresh, FRESH
    r = host.runs["check on a fresh host"]
    assert r.rc == 0 and r.failed == 0, str(r)
    assert r.changed > 0, r
    assert host.check_wrote == "", "check mode wrote to the host:\n" + host.check_wrote


def test_converge(host, record_property):
    r = host.run("converge")
    record_property("converge_seconds", round(r.seconds, 1))
    assert r.rc == 0 and r.failed == 0, str(r)


def test_second_converge_changes_nothing(host, record_property):
    r = host.run("second converge")
    record_property("second_converge_seconds", round(r.seconds, 1))
    assert r.rc == 0 and r.changed == 0, "changed: %s\n%s" % (r.changed_tasks(), r)


def test_check_diff_on_the_converged_host_reports_no_change(host):
    r = host.run("check on the converged host", "--check", "--diff")
    assert r.rc == 0 and r.changed == 0, "changed: %s\n%s" % (r.changed_tasks(), r)


def test_a_no_change_converge_runs_a_fraction_of_the_first(host):
    """The second run finds everything in place: the stamp skips every phase, so it runs at most
    half the tasks of the first, which wrote every file (counted, not timed: the seconds are
    bench/converge's, on a machine this test does not control)."""
    assert host.fresh, FRESH
    first, second = host.runs["converge"], host.runs["second converge"]
    assert first.ok and second.ok is not None, "no recap:\n%s\n%s" % (first, second)
    assert second.ok * 2 <= first.ok, "tasks run: first %d, second %d" % (first.ok, second.ok)


def test_the_host_holds_the_example_policy(lab, converged):
    doc = export(lab)
    assert sorted(doc["users"]) == ["alice", "bob", "deploy-bot", "olivia", "oscar", "root-admin"]
    assert doc["teams"]["dokku@admin"]["members"] == ["root-admin"]
    web = doc["teams"]["web"]
    assert (web["owners"], web["members"], sorted(web["apps"])) == (["olivia"], ["alice"], ["web", "web-api"])
    assert web["services"] == [{"type": "postgres", "name": "web-db"}]
    assert doc["users"]["deploy-bot"]["from"]


# ------------------------------------------------------------------ the host's layout

def test_ci_account(lab, converged):
    assert root(lab, "getent passwd ci").strip().split(":")[5:] == ["/home/ci", "/bin/sh"]
    assert root(lab, "getent shadow ci").split(":")[1] == "*"
    assert root(lab, "id -nG ci").split() == ["ci"], "ci must not be in docker or any other group"
    out = root(lab, "stat -c '%n %U %G %a' /home/ci /home/ci/.ssh /home/ci/.ssh/authorized_keys")
    assert out.split("\n")[:3] == ["/home/ci root root 755", "/home/ci/.ssh root root 755",
                                   "/home/ci/.ssh/authorized_keys root ci 640"], out
    # ci cannot change its own keys or drop files sshd reads
    r = labctl.ssh(lab, "runuser -u ci -- sh -c 'echo x >> /home/ci/.ssh/authorized_keys'")
    assert r.returncode != 0
    r = labctl.ssh(lab, "runuser -u ci -- sh -c 'touch /home/ci/.ssh/rc || touch /home/ci/x'")
    assert r.returncode != 0
    keys_text = root(lab, "cat /home/ci/.ssh/authorized_keys")
    lines = [l for l in keys_text.splitlines() if l and not l.startswith("#")]
    assert len(lines) == 6, keys_text
    for line in lines:
        assert line.startswith('restrict,') and 'command="/usr/bin/sudo -n /usr/local/lib/dokku-teams/gate --user ' in line, line
        assert ",pty" not in line.split(" ssh-")[0], line


def test_engine_and_config_files(lab, converged):
    out = root(lab, "stat -c '%n %U %G %a %F' /usr/local/lib/dokku-teams /usr/local/lib/dokku-teams/module_utils "
                    "/usr/local/lib/dokku-teams/gate /usr/local/lib/dokku-teams/dokku-teams "
                    "/etc/dokku-teams /etc/dokku-teams/gate.conf /var/lib/dokku-teams /var/log/dokku-teams "
                    "/var/lib/dokku-teams/spool /etc/sudoers.d/dokku-teams /etc/sudoers.d/dokku-teams-plugin "
                    "/home/dokku/.dokkurc /home/dokku/.dokkurc/00-dokku-teams")
    assert out.splitlines() == [
        "/usr/local/lib/dokku-teams root root 755 directory",
        "/usr/local/lib/dokku-teams/module_utils root root 755 directory",
        "/usr/local/lib/dokku-teams/gate root root 755 regular file",
        "/usr/local/lib/dokku-teams/dokku-teams root root 755 regular file",
        "/etc/dokku-teams root root 755 directory",
        "/etc/dokku-teams/gate.conf root root 644 regular file",
        "/var/lib/dokku-teams root root 700 directory",
        "/var/log/dokku-teams root root 700 directory",
        "/var/lib/dokku-teams/spool root root 700 directory",
        "/etc/sudoers.d/dokku-teams root root 440 regular file",
        "/etc/sudoers.d/dokku-teams-plugin root root 440 regular file",
        "/home/dokku/.dokkurc dokku dokku 755 directory",
        "/home/dokku/.dokkurc/00-dokku-teams root root 644 regular file",
    ]
    modes = set(root(lab, "stat -c '%U %G %a' /usr/local/lib/dokku-teams/module_utils/*.py").splitlines())
    assert modes == {"root root 644"}
    assert root(lab, "readlink /usr/local/sbin/dokku-teams /usr/local/sbin/dokku-ci-user").split() == [
        "/usr/local/lib/dokku-teams/dokku-teams", "/usr/local/lib/dokku-teams/dokku-ci-user"]
    conf = dict(l.split("=", 1) for l in root(lab, "cat /etc/dokku-teams/gate.conf").splitlines()
                if l and not l.startswith("#"))
    assert conf == {
        "state_dir": "/var/lib/dokku-teams", "audit_log": "/var/log/dokku-teams/audit.log",
        "dokku": "/usr/bin/dokku", "docker": "/usr/bin/docker",
        "docker_over_ssh": "/usr/local/bin/docker-over-ssh", "run_as": "dokku", "home": "/home/dokku",
        "path": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "spool_dir": "/var/lib/dokku-teams/spool", "max_image_bytes": "10737418240",
        "max_spool_bytes": "25769803776", "max_user_spool_bytes": "11811160064",
        "spool_reserve_bytes": "1073741824", "upload_idle_timeout": "300", "upload_timeout": "3600",
        "drop_privileges": "true", "authorized_keys": "/home/ci/.ssh/authorized_keys",
        "gate": "/usr/local/lib/dokku-teams/gate", "allow_pty": "false", "ci_user": "ci"}


def test_sudoers_hold_one_rule_for_ci_and_no_setenv(lab, converged):
    text = root(lab, "cat /etc/sudoers.d/dokku-teams")
    rules = [l for l in text.splitlines() if l.strip() and not l.startswith("#") and not l.startswith("Defaults")]
    assert rules == ["ci ALL=(root) NOPASSWD: /usr/local/lib/dokku-teams/gate"]
    assert ('Defaults!/usr/local/lib/dokku-teams/gate env_reset, !env_check, '
            'env_keep = "SSH_ORIGINAL_COMMAND SSH_CONNECTION"') in text
    listed = root(lab, "sudo -l -U ci")
    commands = [l.strip() for l in listed.split("may run the following commands")[1].splitlines()[1:] if l.strip()]
    assert commands == ["(root) NOPASSWD: /usr/local/lib/dokku-teams/gate"], listed
    # no SETENV anywhere (comments aside), in any sudoers file
    r = labctl.ssh(lab, "cat /etc/sudoers /etc/sudoers.d/* | grep -v '^[[:space:]]*#' | grep -c SETENV")
    assert r.stdout.strip() == "0", r.stdout
    assert root(lab, "visudo -c").count("parsed OK") >= 1
    plugin = root(lab, "cat /etc/sudoers.d/dokku-teams-plugin")
    assert [l for l in plugin.splitlines() if l and not l.startswith("#")] == [
        "Defaults!/usr/local/sbin/dokku-teams env_reset, !env_check, !env_keep",
        "dokku ALL=(root) NOPASSWD: /usr/local/sbin/dokku-teams teams\\:*"]


def test_sshd_settings_for_ci(lab, converged):
    out = root(lab, "sshd -T -C user=ci,host=client,addr=10.200.0.1").lower().splitlines()
    for want in ("pubkeyauthentication yes", "passwordauthentication no", "kbdinteractiveauthentication no",
                 "authenticationmethods publickey", "disableforwarding yes", "permittty no",
                 "permituserrc no", "permituserenvironment no", "maxstartups 30:30:100",
                 "authorizedkeysfile /home/ci/.ssh/authorized_keys", "trustedusercakeys none"):
        assert want in out, want
    assert "forcecommand none" in out  # the key lines carry command=, not sshd
    assert root(lab, "systemctl is-active ssh").strip() == "active"


def test_dokku_teams_plugin_on_the_host(lab, converged):
    out = root(lab, "dokku teams:list")
    for team in ("dokku@admin", "ops", "web", "web-deploy"):
        assert team in out.split(), out
    r = labctl.ssh(lab, "dokku teams:whois alice")
    assert r.returncode == 0 and "web" in r.stdout, r.stdout + r.stderr


# ------------------------------------------------------------------ as the users

def test_admin_creates_the_apps(lab, converged, keys):
    for app in ("web", "web-api", "other"):
        r = as_user(lab, keys, "root-admin", "apps:create %s" % app)
        assert r.returncode == 0 or "already" in r.stderr + r.stdout, r.stderr


def test_allowed_commands_reach_dokku_with_exact_argv_and_name(lab, converged, keys):
    cases = [("alice", "config:show web", ["config:show", "web"]),
             ("alice", 'config:set --no-restart web "GREETING=hello world"',
              ["config:set", "--no-restart", "web", "GREETING=hello world"]),
             ("alice", "apps:list", ["apps:list"]),
             ("oscar", "ps:restart other", ["ps:restart", "other"]),
             ("deploy-bot", "version", ["version"])]
    for user, cmd, argv in cases:
        before = len(calls(lab))
        r = as_user(lab, keys, user, cmd)
        got = new_calls(lab, before)
        assert len(got) == 1, "%s %r -> rc %d, %d calls\n%s" % (user, cmd, r.returncode, len(got), r.stderr)
        call = got[0]
        assert call["argv"][1:] == argv and call["argv"][0] == "/usr/bin/dokku", call["argv"]
        assert call["env"].get("NAME") == user, call["env"]
        assert call["user"] == "dokku" and call["euid"] != 0, call
        assert r.returncode == 0, "%s %r -> %d %s" % (user, cmd, r.returncode, r.stderr)


def test_apps_list_shows_only_the_users_apps(lab, converged, keys):
    r = as_user(lab, keys, "alice", "apps:list")
    assert r.returncode == 0
    assert "web" in r.stdout.split() and "other" not in r.stdout.split(), r.stdout


def test_refused_commands_get_the_opaque_answer_and_reach_nothing(lab, converged, keys):
    cases = [("alice", "config:show other", "!     App other does not exist"),
             ("alice", "config:show no-such-app", "!     App no-such-app does not exist"),
             ("alice", "ps:restart web", None),          # command not granted
             ("alice", "apps:destroy web --force", None),
             ("olivia", "config:show web", None),        # owner without member rights
             ("bob", "config:show web", "!     App web does not exist"),
             ("deploy-bot", "config:show web", None),
             ("deploy-bot", "git:from-image other dokku/other:1", "!     App other does not exist"),
             ("oscar", "config:show web", None),
             ("alice", "ps:restart --all", None),
             ("alice", "plugin:install https://example.org/x.git", None)]
    for user, cmd, message in cases:
        before = len(calls(lab))
        r = as_user(lab, keys, user, cmd)
        assert r.returncode == DENIED, "%s %r -> %d %s" % (user, cmd, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("!     "), r.stderr
        if message:
            assert lines[0] == message, (user, cmd, r.stderr)
        assert new_calls(lab, before) == [], "%s %r reached Dokku" % (user, cmd)


def test_values_that_would_end_go_basher_quoting_are_malformed_over_ssh(lab, converged, keys):
    # alice may config:set and run on web; the values, not the commands, are refused
    cases = ["config:set --no-restart web 'A=x\\'\"'\"'; id; #'",
             "config:set --no-restart --encoded web A=eFwnOyBpZDsgIw==",
             "run web true '--x=\\'\"'\"'; id; #'"]
    for cmd in cases:
        before = len(calls(lab))
        r = as_user(lab, keys, "alice", cmd)
        assert r.returncode == 64, "%r -> %d %s" % (cmd, r.returncode, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert new_calls(lab, before) == [], "%r reached Dokku" % cmd
    r = as_user(lab, keys, "alice", "config:set --no-restart web 'PYTHONUNBUFFERED=1'")
    assert r.returncode == 0, r.stderr


def _git(cwd, *args, env=None):
    return subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def repo(work):
    d = work / "repo"
    d.mkdir()
    for args in (("init", "-q", "-b", "main"), ("config", "user.email", "t@example.org"),
                 ("config", "user.name", "t")):
        assert _git(d, *args).returncode == 0
    (d / "README").write_text("hello\n")
    assert _git(d, "add", "README").returncode == 0
    assert _git(d, "commit", "-q", "-m", "first").returncode == 0
    return d


def push(lab, keys, user, repo, app):
    ssh = " ".join(shlex.quote(a) for a in labctl.ssh_argv(lab, user="ci", key=str(keys / user))[:-1])
    env = dict(os.environ, GIT_SSH_COMMAND=ssh)
    return _git(repo, "push", "ci@%s:%s" % (lab.address, app), "main:refs/heads/main", env=env)


def test_git_push_to_a_granted_app_lands_in_the_bare_repo(lab, converged, keys, repo):
    r = push(lab, keys, "alice", repo, "web")
    assert r.returncode == 0, r.stderr
    head = _git(repo, "rev-parse", "HEAD").stdout.strip()
    assert root(lab, "git --git-dir=/home/dokku/web rev-parse refs/heads/main").strip() == head


def test_git_push_to_a_foreign_app_is_refused(lab, converged, keys, repo):
    r = push(lab, keys, "alice", repo, "other")
    assert r.returncode != 0
    assert "App other does not exist" in r.stderr, r.stderr
    assert labctl.ssh(lab, "git --git-dir=/home/dokku/other rev-parse -q --verify refs/heads/main").returncode != 0


# ------------------------------------------------------------------ inventory changes

def test_changing_one_member_in_inventory_changes_exactly_that(lab, converged, inventory, keys, ansible_env):
    before = export(lab)
    vars_ = example_vars()
    teams = vars_["dokku_teams_teams"]
    for team in teams:
        if team["name"] == "ops":
            team["members"] = ["oscar", "alice"]
    r = playbook(ansible_env, inventory, keys, "--diff", extra_vars={"dokku_teams_teams": teams})
    assert r.rc == 0, r
    assert r.changed_tasks() == ["dokku_ci.teams.dokku_teams : Apply the declared teams"], r
    after = export(lab)
    before["teams"]["ops"]["members"] = ["alice", "oscar"]
    assert after == before
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_teams": teams})
    assert r.rc == 0 and r.changed == 0, r


def test_an_owner_adds_a_member_over_ssh_who_can_deploy_at_once(lab, converged, keys, repo):
    r = as_user(lab, keys, "olivia", "teams:member-add web bob")
    assert r.returncode == 0, r.stderr
    r = as_user(lab, keys, "bob", "teams:whoami")
    assert r.returncode == 0 and "bob" in r.stdout
    r = push(lab, keys, "bob", repo, "web-api")
    assert r.returncode == 0, r.stderr
    # a member may not add people: only owners
    r = as_user(lab, keys, "alice", "teams:member-add web oscar")
    assert r.returncode == DENIED, r.stderr


def test_dokku_admin_and_app_teams_survive_purge(lab, converged, inventory, keys, ansible_env):
    vars_ = example_vars()
    teams = vars_["dokku_teams_teams"] + [
        {"name": "makers", "owners": ["olivia"], "members": ["bob"], "commands": ["apps:create"], "apps": ["*"]}]
    # (the policy tasks: the whole role's run on a changed inventory is the test above's)
    r = playbook(ansible_env, inventory, keys, *POLICY_ONLY, extra_vars={"dokku_teams_teams": teams})
    assert r.rc == 0, r
    r = as_user(lab, keys, "bob", "apps:create bobs-app")
    assert r.returncode == 0, r.stderr
    assert "dokku@app--bobs-app" in export(lab)["teams"]
    # back to the example (purge): makers goes, dokku@app--bobs-app and dokku@admin stay
    r = playbook(ansible_env, inventory, keys, *POLICY_ONLY)
    assert r.rc == 0, r
    doc = export(lab)
    assert "makers" not in doc["teams"]
    assert doc["teams"]["dokku@app--bobs-app"]["owners"] == ["bob"]
    assert doc["teams"]["dokku@admin"]["members"] == ["root-admin"]


def test_removing_a_user_in_inventory_revokes_their_key(lab, converged, inventory, keys, ansible_env):
    assert as_user(lab, keys, "alice", "teams:whoami").returncode == 0
    vars_ = example_vars()
    users = [u for u in vars_["dokku_teams_users"] if u["name"] != "alice"]
    teams = vars_["dokku_teams_teams"]
    for team in teams:
        for field in ("owners", "members"):
            if "alice" in team.get(field, []):
                team[field] = [m for m in team[field] if m != "alice"]
    # keys are read on the controller here: the vars file carries the key lines themselves
    for u in users:
        u["keys"] = [(keys / ("%s.pub" % u["name"])).read_text().strip()]
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_users": users, "dokku_teams_teams": teams})
    assert r.rc == 0, r
    alice_key = (keys / "alice.pub").read_text().split()[1]
    assert alice_key not in root(lab, "cat /home/ci/.ssh/authorized_keys")
    r = as_user(lab, keys, "alice", "teams:whoami")
    assert r.returncode == 255 and "Permission denied" in r.stderr, r.stderr
    assert "alice" not in export(lab)["users"]
    # and back: the example inventory (its users and teams) brings her back
    r = playbook(ansible_env, inventory, keys, *POLICY_ONLY)
    assert r.rc == 0, r
    assert as_user(lab, keys, "alice", "teams:whoami").returncode == 0


def test_the_seed_workflow(lab, converged, keys, work):
    key = work / "carol"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol@ci", "-f", str(key)], check=True)
    pub = (work / "carol.pub").read_text()
    r = labctl.ssh(lab, "dokku-ci-user add:user --name carol --app web", input=pub)
    assert r.returncode == 0, r.stdout + r.stderr
    argv = labctl.ssh_argv(lab, user="ci", key=str(key))

    def carol(cmd):
        return subprocess.run(argv + ["--", cmd], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)

    before = len(calls(lab))
    r = carol("git:from-image web dokku/web:v1")
    got = new_calls(lab, before)
    assert len(got) == 1 and got[0]["argv"][1:] == ["git:from-image", "web", "dokku/web:v1"], (r.stderr, got)
    assert got[0]["env"]["NAME"] == "carol"
    assert carol("version").returncode == 0
    for cmd, message in (("git:from-image other dokku/other:v1", "!     App other does not exist"),
                         ("docker tag dokku/web:v1 dokku/other:v1", "!     App other does not exist"),
                         ("config:show web", None), ("apps:list", None)):
        before = len(calls(lab))
        r = carol(cmd)
        assert r.returncode == DENIED, (cmd, r.returncode, r.stderr)
        if message:
            assert r.stderr.strip() == message
        assert new_calls(lab, before) == []
    assert "carol" in root(lab, "dokku-ci-user list")


# ------------------------------------------------------------------ hardening

def test_no_shell(lab, converged, keys):
    r = as_user(lab, keys, "alice")
    assert (r.returncode, r.stderr.strip()) == (64, "!     no shell access"), r.stderr


def test_no_pty(lab, converged, keys):
    before = len(calls(lab))
    r = as_user(lab, keys, "alice", "config:show web", extra=("-tt",))
    assert "PTY allocation request failed" in r.stderr, r.stderr
    got = new_calls(lab, before)
    assert len(got) == 1 and got[0]["stdin_isatty"] is False


def test_no_forwarding(lab, converged, keys):
    r = as_user(lab, keys, "alice", extra=("-W", "127.0.0.1:22"))
    assert r.returncode == 255 and "forwarding failed" in r.stderr, r.stderr
    r = as_user(lab, keys, "alice", "teams:whoami",
                extra=("-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:28022:127.0.0.1:22"))
    assert r.returncode == 255 and "forwarding failed" in r.stderr, r.stderr


def test_no_sftp_no_scp(lab, converged, keys, work):
    base = labctl.ssh_argv(lab, user="ci", key=str(keys / "alice"))[1:-1]
    r = subprocess.run(["sftp", "-b", "-"] + base + ["ci@%s" % lab.address], input="ls /\n",
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode != 0, r.stdout
    f = work / "payload"
    f.write_text("x\n")
    r = subprocess.run(["scp", "-O"] + base + [str(f), "ci@%s:/tmp/payload" % lab.address],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode != 0
    r = subprocess.run(["scp"] + base + [str(f), "ci@%s:/tmp/payload" % lab.address],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode != 0
    assert labctl.ssh(lab, "test -e /tmp/payload").returncode != 0


def test_the_callers_environment_does_not_reach_dokku(lab, converged, keys):
    before = len(calls(lab))
    r = subprocess.run(
        labctl.ssh_argv(lab, user="ci", key=str(keys / "alice"),
                        options=("SendEnv=LC_ALL LANG FOO", "SetEnv=DOKKU_ROOT=/tmp LC_CTYPE=xx"))
        + ["--", "config:show web"],
        env=dict(os.environ, LC_ALL="de_DE.UTF-8", LANG="de_DE.UTF-8", FOO="bar"),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    got = new_calls(lab, before)
    assert len(got) == 1, r.stderr
    env = got[0]["env"]
    assert env["LC_ALL"] == "C.UTF-8" and env["NAME"] == "alice"
    for name in ("LANG", "FOO", "DOKKU_ROOT", "LC_CTYPE", "SSH_ORIGINAL_COMMAND", "SSH_CONNECTION",
                 "SUDO_COMMAND", "SUDO_USER"):
        assert name not in env, (name, env)
    assert set(env) <= {"PATH", "HOME", "LC_ALL", "NAME", "FINGERPRINT", "DOKKU_TEAMS_GATE"}, sorted(env)


HOLDER = "/run/dokku-teams-test-lock-holder"
# Holds the state lock from a process of its own, and returns only once the lock is taken.
HOLD_LOCK = """
setsid flock /var/lib/dokku-teams/state.lock sleep 120 </dev/null >/dev/null 2>&1 & echo $! > %s
for i in $(seq 200); do flock -n /var/lib/dokku-teams/state.lock true || exit 0; sleep 0.05; done
exit 1
""" % HOLDER
RELEASE_LOCK = "if [ -f %s ]; then h=$(cat %s); pkill -P $h; kill $h; rm -f %s; fi; true" % (HOLDER, HOLDER, HOLDER)


def _gate_environment(lab, script="", client=None):
    """Hold the state lock, then run ``script`` in the lab or start ``client`` (argv, on this
    machine), so that an owner's teams write waits inside the gate; the environment of every
    gate and sudo process for olivia. The client starts only once the lock is held: a gate that
    ran before would finish unseen."""
    # The lock is held until the gate has been seen waiting for it (a busy machine may take
    # seconds to connect); the gate gives up after OWNER_LOCK_SECONDS, so the wait has a bound.
    root(lab, HOLD_LOCK)
    started = None
    try:
        if client is not None:
            started = subprocess.Popen(client, env=dict(os.environ, **CLIENT_ENV), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = root(lab, """
%s
for i in $(seq 600); do
  pgrep -f '^/usr/bin/python3 -IS /usr/local/lib/dokku-teams/gate --user olivia ' >/dev/null && break
  sleep 0.1
done
for p in $(pgrep -f '^[^ ]*(sudo|python3) .*dokku-teams/gate --user olivia '); do
  echo "=== $(tr '\\0' ' ' < /proc/$p/cmdline)"
  tr '\\0' '\\n' < /proc/$p/environ
done
""" % script)
    finally:
        root(lab, RELEASE_LOCK)
        if started is not None:
            started.wait(timeout=60)
    processes = {}
    for block in out.split("=== ")[1:]:
        head, unused_sep, body = block.partition("\n")
        processes[head.strip()] = dict(l.split("=", 1) for l in body.splitlines() if "=" in l)
    return processes


CLIENT_ENV = {"LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8", "LC_CTYPE": "xx_XX", "TERM": "evil-term",
              "TZ": "Evil/Zone", "FOO": "bar"}


def _assert_clean_gate_environment(processes):
    gates = [env for cmd, env in processes.items() if cmd.startswith("/usr/bin/python3 -IS /usr/local/lib/dokku-teams/gate")]
    assert len(gates) == 1, processes
    env = gates[0]
    for name, value in CLIENT_ENV.items():
        assert env.get(name) != value, (name, env)
    assert env.get("TERM", "unknown") == "unknown", env          # sudo's own default, not the client's
    # sudo's own variables, and what PAM may set from the host's files (/etc/default/locale)
    assert set(env) <= {"SSH_ORIGINAL_COMMAND", "SSH_CONNECTION", "HOME", "LOGNAME", "USER", "SHELL", "MAIL",
                        "PATH", "TERM", "SUDO_COMMAND", "SUDO_USER", "SUDO_UID", "SUDO_GID", "LANG",
                        "LANGUAGE"}, sorted(env)
    assert env["SSH_ORIGINAL_COMMAND"] == "teams:member-add web alice"


def test_sudo_gives_the_gate_no_client_variables(lab, converged):
    """sudo's built-in lists keep LANG, LC_*, TERM, TZ (env_check) for any rule: `env_keep +=`
    was not enough. The ci account runs sudo here with them set, as sshd would pass them."""
    fp = re.search(r'--user olivia --key (\S+)"', root(lab, "cat /home/ci/.ssh/authorized_keys")).group(1)
    script = ("runuser -u ci -- env %s SSH_ORIGINAL_COMMAND='teams:member-add web alice' "
              "SSH_CONNECTION='10.0.0.1 1 10.0.0.2 22' /usr/bin/sudo -n /usr/local/lib/dokku-teams/gate "
              "--user olivia --key %s >/dev/null 2>&1 &"
              % (" ".join("%s=%s" % item for item in CLIENT_ENV.items()), fp))
    _assert_clean_gate_environment(_gate_environment(lab, script))


def test_sshd_accepts_no_client_variables_for_ci(lab, converged, keys):
    """Debian's sshd_config accepts LANG LC_* from every client; for ci nothing gets through
    sshd (the sudo process's environment is what sshd handed over)."""
    argv = labctl.ssh_argv(lab, user="ci", key=str(keys / "olivia"),
                           options=("SendEnv=LANG LC_ALL TZ FOO", "SetEnv=LC_CTYPE=xx_XX TERM=evil-term"))
    processes = _gate_environment(lab, client=argv + ["--", "teams:member-add web alice"])
    sudo = [env for cmd, env in processes.items() if cmd.startswith("/usr/bin/sudo -n ")]
    assert len(sudo) == 1, processes
    for name, value in CLIENT_ENV.items():       # (PAM may set LANG from /etc/default/locale)
        assert sudo[0].get(name) != value, (name, sudo[0])
    _assert_clean_gate_environment(processes)


def test_the_dokku_users_sudo_rule_runs_teams_verbs_only(lab, converged):
    r = labctl.ssh(lab, "runuser -u dokku -- sudo -n /usr/local/sbin/dokku-teams teams:list")
    assert r.returncode == 0 and "web" in r.stdout.split(), r.stderr
    for args in ("export", "user:list", "--state-dir /tmp teams:list", "import /etc/hostname", "recover",
                 "check --user alice -- version", "help", "audit"):
        r = labctl.ssh(lab, "runuser -u dokku -- sudo -n /usr/local/sbin/dokku-teams %s" % args)
        assert r.returncode == 1 and "password is required" in r.stderr, (args, r.returncode, r.stdout, r.stderr)


SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-dokku-teams-test-early.conf"
# sshd re-executes itself on SIGHUP and listens again only then: the next connection waits for it.
RELOAD_SSHD = ("systemctl reload ssh && sleep 1 && for i in $(seq 300); do"
               " timeout 1 bash -c '</dev/tcp/127.0.0.1/22' 2>/dev/null && exit 0; sleep 0.1; done; exit 1")
TEST_CA = "/etc/ssh/dokku-teams-test-ca.pub"


def test_an_earlier_match_block_opens_nothing_for_ci(lab, converged, inventory, keys, ansible_env, work):
    """Until 0.2 the ci block came last, and sshd keeps the first value it reads: a drop-in
    `Match Address *` (Debian includes sshd_config.d/ on its first line) with TrustedUserCAKeys
    let a certificate for ci in (and a ci shell is every user: the gate believes its argv), and
    PermitTTY yes gave a terminal. Now the ci block is read first, whatever else is there."""
    ca, holder = work / "test-ca", work / "cert-holder"
    for path in (ca, holder):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-I", "dokku-teams-test", "-n", "ci,root",
                    str(holder) + ".pub"], check=True)
    # (the block applies to root too, who runs these tests: nothing in it may lock root out)
    early = ("Match Address *\n    TrustedUserCAKeys %s\n    PermitTTY yes\n"
             "    PermitUserRC yes\n    AllowTcpForwarding yes\n" % TEST_CA)
    root(lab, "cat > %s" % TEST_CA, input=(work / "test-ca.pub").read_text())
    root(lab, "cat > %s && %s" % (SSHD_DROPIN, RELOAD_SSHD), input=early)
    try:
        # the control: the certificate works where the block applies (root)
        r = labctl.ssh(lab, "true", user="root", key=str(holder))
        assert r.returncode == 0, r.stderr
        # for ci it opens nothing: no certificate login, no terminal, the keys file stays ours
        r = labctl.ssh(lab, "teams:whoami", user="ci", key=str(holder))
        assert r.returncode == 255 and "Permission denied" in r.stderr, (r.returncode, r.stdout, r.stderr)
        assert as_user(lab, keys, "alice", "teams:whoami --username").stdout.strip() == "alice"
        r = as_user(lab, keys, "alice", "config:show web", extra=("-tt",))
        assert "PTY allocation request failed" in r.stderr, r.stderr
        out = root(lab, "sshd -T -C user=ci,host=x,addr=10.200.80.1,laddr=10.200.80.2,lport=22").lower()
        for want in ("trustedusercakeys none", "permittty no", "permituserrc no", "allowtcpforwarding no",
                     "authorizedkeysfile /home/ci/.ssh/authorized_keys"):
            assert want in out.splitlines(), want
        # the role accepts this configuration: nothing in it wins over the ci block
        r = playbook(ansible_env, inventory, keys, "--tags", "dokku_teams_sshd")
        assert r.rc == 0, r
        # AcceptEnv adds up over Match blocks, so one there adds names for ci: refused
        root(lab, "echo '    AcceptEnv LANG LC_*' >> %s" % SSHD_DROPIN)
        r = playbook(ansible_env, inventory, keys, "--tags", "dokku_teams_sshd")
        assert r.rc != 0 and "also accepted from the client: acceptenv lang" in r.out, r
        root(lab, "rm -f %s" % SSHD_DROPIN)
        # anything above the ci block's Include could override it: refused
        root(lab, "sed -i '1i PermitTTY yes' /etc/ssh/sshd_config")
        r = playbook(ansible_env, inventory, keys, "--tags", "dokku_teams_sshd")
        assert r.rc != 0 and "The first directive of /etc/ssh/sshd_config must be" in r.out, r
        root(lab, "sed -i '1d' /etc/ssh/sshd_config")
    finally:
        labctl.ssh(lab, "rm -f %s %s; [ \"$(head -1 /etc/ssh/sshd_config)\" = 'PermitTTY yes' ] &&"
                        " sed -i '1d' /etc/ssh/sshd_config; %s" % (SSHD_DROPIN, TEST_CA, RELOAD_SSHD))
    r = playbook(ansible_env, inventory, keys, "--tags", "dokku_teams_sshd")
    assert r.rc == 0 and r.changed == 0, r
    assert root(lab, "grep -v '^#' /etc/ssh/sshd_config | grep -v '^$' | head -1").strip() == \
        "Include /etc/ssh/dokku-teams-ci.conf"


def test_the_audit_log_rotates_and_audit_reads_the_copies(lab, converged, keys):
    text = root(lab, "cat /etc/logrotate.d/dokku-teams")
    assert "/var/log/dokku-teams/audit.log {" in text
    for word in ("nocreate", "nocopytruncate", "compress", "delaycompress", "nodateext", "rotate 52", "weekly"):
        assert word in [line.strip() for line in text.splitlines()], word
    # what logrotate does (rename; compress the older copy): the gate starts a new file itself
    root(lab, "cd /var/log/dokku-teams && rm -f audit.log.* && mv audit.log audit.log.2 && gzip audit.log.2")
    assert as_user(lab, keys, "alice", "teams:whoami").returncode == 0
    root(lab, "cd /var/log/dokku-teams && mv audit.log audit.log.1")
    assert as_user(lab, keys, "bob", "teams:whoami").returncode == 0
    assert root(lab, "stat -c '%U %G %a' /var/log/dokku-teams/audit.log").strip() == "root root 600"
    lines = [json.loads(l) for l in root(lab, "dokku-teams audit --format json").splitlines()]
    assert [l["user"] for l in lines[-2:]] == ["alice", "bob"]
    assert len(lines) > 2 and lines[0]["time"] < lines[-2]["time"]        # the compressed copy came first
    assert [json.loads(l)["user"] for l in root(lab, "dokku-teams audit --tail 1 --format json").splitlines()] == ["bob"]
    human = root(lab, "dokku-teams audit --user alice --since 10m --tail 1")
    assert human.count("\n") == 1 and " alice " in human and "teams:whoami" in human
