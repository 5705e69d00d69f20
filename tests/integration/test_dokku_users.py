"""dokku@ users obey the teams: the role against the lab, then real `ssh dokku@LAB`.

The lab's Dokku stand-in reproduces what Dokku does in front of a command (sshcommand's forced
command, Dokku's own re-split, parse_args, dokku_auth, filterApps: tests/lab/dokku.py) and the
role installs the teams plugin's user-auth triggers. Before the role runs, the host has one
Dokku ssh-keys user, `legacy`: enabling must make it an admin. Inventory: the example's, with
`dokku_teams_dokku_ssh_keys: true` so its users can push to dokku@.

Needs root. Never skips. Lab `du0` at index 100 unless DOKKU_TEAMS_DU_LAB names one already up
(fresh: the role must not have run on it).
"""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labhost import inventory_dir, labctl, own_lab, playbook, root  # noqa: E402


@pytest.fixture(scope="module")
def lab():
    """A lab of its own: enabling adopts the ssh-keys users only the first time the role runs."""
    yield from own_lab("du0", 100, "the dokku@ tests", existing=os.environ.get("DOKKU_TEAMS_DU_LAB"))


@pytest.fixture(scope="module")
def legacy_key(work):
    path = work / "legacy"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "legacy", "-f", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="module")
def host(lab, work, keys, legacy_key, ansible_env):
    """Apps web and secret, a Dokku ssh-keys user `legacy`, then the role."""
    root(lab, "dokku apps:create web && dokku apps:create secret")
    with open(str(legacy_key) + ".pub") as f:
        root(lab, "dokku ssh-keys:add legacy", input=f.read())
    inventory = inventory_dir(lab, work / "du-inventory")
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_dokku_ssh_keys": True})
    assert r.rc == 0 and r.failed == 0, str(r)
    again = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_dokku_ssh_keys": True})
    assert again.rc == 0 and again.failed == 0 and again.changed == 0, (again.changed_tasks(), str(again))
    return lab


def dokku_at(lab, key, cmd, input=None):
    """`ssh -i KEY dokku@LAB CMD` (CMD as ssh sends it: one string)."""
    return labctl.ssh(lab, cmd, user="dokku", key=str(key), input=input)


def test_enabling_made_the_ssh_keys_user_an_admin(host):
    members = root(host, "dokku-teams teams:team-report dokku@admin")
    assert "legacy" in members and "root-admin" in members


def test_member_allowed_on_own_app(host, keys):
    r = dokku_at(host, keys / "alice", "config:show web")
    assert r.returncode == 0, r.stderr


def test_foreign_app_refused_like_a_missing_app(host, keys):
    secret = dokku_at(host, keys / "alice", "config:show secret")
    missing = dokku_at(host, keys / "alice", "config:show nosuchapp")
    assert secret.returncode != 0 and missing.returncode != 0
    assert secret.stderr.replace("secret", "X") == missing.stderr.replace("nosuchapp", "X")
    assert "App secret does not exist" in secret.stderr
    assert secret.stdout == missing.stdout == ""


def test_command_not_granted_refused(host, keys):
    r = dokku_at(host, keys / "alice", "ps:restart web")
    assert r.returncode != 0 and "not allowed" in r.stderr


def test_apps_list_filtered(host, keys):
    r = dokku_at(host, keys / "alice", "apps:list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[1:] == ["web", ""], r.stdout


def test_admin_unrestricted(host, keys, legacy_key):
    for key in (legacy_key, keys / "root-admin"):
        r = dokku_at(host, key, "apps:list")
        assert r.returncode == 0 and "secret" in r.stdout.split() and "web" in r.stdout.split(), r.stderr
        r = dokku_at(host, key, "ps:restart secret")
        assert r.returncode == 0, r.stderr


def test_root_at_the_console_unrestricted(host):
    assert "secret" in root(host, "dokku apps:list").split()


@pytest.mark.parametrize("cmd", [
    "--app secret config:show",
    "config:show web --app secret",
    'config:show web "x --app secret"',
    "config:show web 'x --app secret'",
    "'--app' secret config:show web",
    "--trace config:show web",
    "config:show web --trace",
    "'--trace' config:show web",
    "--label-file=/etc/shadow config:show web",
    "config:show web\\ secret",
    "config:show \\secret",
    "config:show 'sec'ret",
    "config:show $(echo secret)",
    "config:show `echo secret`",
    "config:show secre?",
    "config:show secre*",
    "config:show web; dokku config:show secret",
    "dokku config:show secret",
])
def test_quoting_cannot_smuggle_another_app(host, keys, cmd):
    r = dokku_at(host, keys / "alice", cmd)
    assert r.returncode != 0, (cmd, r.stdout, r.stderr)
    # the stand-in prints the command it ran: nothing ran, on secret or anything else
    assert "stand-in" not in r.stdout and "secret" not in r.stdout, (cmd, r.stdout)


def test_git_push(host, keys, work):
    repo = work / "app-src"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README").write_text("hello\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["add", "README"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "one"], check=True)
    env = dict(os.environ, GIT_SSH_COMMAND=" ".join(labctl.ssh_argv(host, user="dokku", key=str(keys / "alice"))[:-1]))
    ok = subprocess.run(git + ["push", "dokku@%s:web" % host.address, "main"], env=env, capture_output=True,
                        text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(git + ["push", "dokku@%s:secret" % host.address, "main"], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode != 0 and "App secret does not exist" in refused.stderr
    assert root(host, "git --git-dir=/home/dokku/secret rev-parse --verify -q refs/heads/main || true").strip() == ""


def test_teams_verbs_as_the_dokku_user(host, keys):
    r = dokku_at(host, keys / "alice", "teams:whoami --username")
    assert r.returncode == 0 and r.stdout.split()[:1] == ["alice"], (r.stdout, r.stderr)
    r = dokku_at(host, keys / "alice", "teams:create evil")
    assert r.returncode != 0 and "restricted to admins" in r.stderr


def test_the_dokku_door_is_audited(host, keys):
    dokku_at(host, keys / "alice", "config:show secret")
    lines = root(host, "cat /var/log/dokku-teams/audit.log").splitlines()
    door = [json.loads(line) for line in lines if '"door"' in line]
    assert door and door[-1]["door"] == "dokku" and door[-1]["user"] == "alice"
    assert door[-1]["decision"] == "deny" and door[-1]["apps"] == ["secret"]


def test_trigger_cost(host, record_property):
    """What a dokku@ command pays for the decision (sudo and the decision program)."""
    out = root(host, "cd /tmp && python3 -c \"import subprocess, time; t = time.monotonic(); "
                     "[subprocess.run(['sudo', '-u', 'dokku', 'env', 'FINGERPRINT=x', "
                     "'/var/lib/dokku/plugins/enabled/teams/user-auth', 'dokku', 'alice', 'config:show', 'web'], "
                     "capture_output=True) for i in range(10)]; print(round((time.monotonic() - t) * 100))\"")
    record_property("user_auth_ms", int(out))
    print("user-auth trigger: %s ms a call (10 calls, includes sudo -u dokku)" % out.strip())
    assert int(out) < 2000
