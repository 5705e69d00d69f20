"""The dokku_teams role against the mistakes a first-time operator makes (issue 16), in the lab.

Needs root (the lab). Never skips. Runs on the session's shared host (conftest.py), after
test_role.py. The tests run in file order: the example inventory's users and teams are applied
again first (what test_role.py changed goes), then each mistake is made and must stop the run
before anything on the host changes.
"""
import re
import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labhost import EXAMPLE_VARS, POLICY_ONLY, as_user, export, inventory_dir, labctl, playbook, root  # noqa: E402

# What must stay as it was when a run is refused: the state, the keys, the sudoers and sshd.
FINGERPRINT = ("sha1sum /var/lib/dokku-teams/state.json /home/ci/.ssh/authorized_keys /etc/sudoers.d/dokku-teams"
               " /etc/ssh/sshd_config; ls -l --time-style=+%s /etc/sudoers.d /home")


@pytest.fixture(scope="module")
def converged(host):
    """The example inventory's users and teams applied again: test_role.py changed them (the
    whole role's no-change run on the host is test_the_example_inventory_still_applies...)."""
    r = playbook(host.ansible_env, host.inventory, host.keys, *POLICY_ONLY)
    assert r.rc == 0 and r.failed == 0, str(r)
    return host.lab


def inventory_with(work, lab, name, text):
    """An inventory dir for the lab whose group_vars/dokku.yml is ``text``."""
    return inventory_dir(lab, work / name, text)


def refused(r, *fragments):
    """The run failed in the validation tasks, with every fragment in its output, changing nothing."""
    assert r.rc != 0 and r.failed == 1, str(r)
    assert r.changed == 0, "changed: %s\n%s" % (r.changed_tasks(), r)
    text = " ".join(r.out.split())
    for fragment in fragments:
        assert fragment in text, (fragment, str(r))
    tasks = re.findall(r"^TASK \[(?:[\w.]+ : )?(.*)\]", r.out, re.M)
    assert tasks and tasks[-1] in VALIDATION, "the run went past validation: %s\n%s" % (tasks[-1:], r)


VALIDATION = ("Refuse a ci account name that belongs to Dokku or root", "Look up the ci account",
              "Refuse an existing account the role did not create", "Refuse an empty declaration with purge",
              "Check the declared users and teams against the host's state")


def test_the_dokku_teams_team_typo_is_refused_and_everyone_keeps_access(lab, converged, work, keys, ansible_env):
    before = root(lab, FINGERPRINT)
    text = open(EXAMPLE_VARS).read().replace("\ndokku_teams_teams:", "\ndokku_teams_team:")
    assert "dokku_teams_team:" in text and "\ndokku_teams_teams:" not in text
    typo = inventory_with(work, lab, "typo", text)
    r = playbook(ansible_env, typo, keys)
    refused(r, "refusing to remove every team (ops, web, web-deploy)", "dokku_teams_allow_mass_removal: true")
    assert root(lab, FINGERPRINT) == before
    assert as_user(lab, keys, "root-admin", "teams:whoami").returncode == 0
    assert as_user(lab, keys, "alice", "teams:whoami").returncode == 0


def test_group_vars_that_do_not_load_are_refused(lab, converged, work, keys, ansible_env):
    before = root(lab, FINGERPRINT)
    empty = inventory_with(work, lab, "empty", "---\n# the vars went to group_vars/dokku-hosts.yml\n{}\n")
    r = playbook(ansible_env, empty, keys)
    refused(r, "dokku_teams_users and dokku_teams_teams are both empty and dokku_teams_purge is true")
    assert root(lab, FINGERPRINT) == before
    checked = playbook(ansible_env, empty, keys, "--check")
    refused(checked, "both empty")


def test_removing_more_than_the_share_is_refused_until_allowed(lab, converged, inventory, work, keys, ansible_env):
    vars_ = yaml.safe_load(open(EXAMPLE_VARS))
    kept = ["root-admin", "olivia"]
    users = [dict(u, keys=[(keys / ("%s.pub" % u["name"])).read_text().strip()])
             for u in vars_["dokku_teams_users"] if u["name"] in kept]
    teams = [dict(t, owners=[o for o in t.get("owners", []) if o in kept],
                  members=[m for m in t.get("members", []) if m in kept]) for t in vars_["dokku_teams_teams"]]
    before = root(lab, FINGERPRINT)
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_users": users, "dokku_teams_teams": teams})
    refused(r, "4 of 6 users (alice, bob, deploy-bot, oscar), more than the allowed share 0.5",
            "dokku_teams_max_removal_share")
    assert root(lab, FINGERPRINT) == before


@pytest.mark.parametrize("ci_user", ["dokku", "root"])
def test_dokku_or_root_as_the_ci_account_is_refused(lab, converged, inventory, keys, ansible_env, ci_user):
    before = root(lab, FINGERPRINT + "; stat -c '%U %a' /home/dokku /home/dokku/.ssh; id dokku")
    for mode in ((), ("--check", "--diff")):
        r = playbook(ansible_env, inventory, keys, *mode, extra_vars={"dokku_teams_ci_user": ci_user})
        refused(r, "dokku_teams_ci_user is %s" % ci_user, "Keep the default `ci`")
    assert root(lab, FINGERPRINT + "; stat -c '%U %a' /home/dokku /home/dokku/.ssh; id dokku") == before


def test_an_existing_account_the_role_did_not_create_is_refused(lab, converged, inventory, keys, ansible_env):
    root(lab, "id carol >/dev/null 2>&1 || useradd -m -c 'Carol Person' carol")
    before = root(lab, FINGERPRINT + "; stat -c '%U %a' /home/carol; id carol")
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_ci_user": "carol"})
    refused(r, "The account carol already exists on this host and the role did not create it",
            "Carol Person")
    assert root(lab, FINGERPRINT + "; stat -c '%U %a' /home/carol; id carol") == before


def test_a_bad_key_fails_before_packages_sudoers_sshd_and_users(lab, converged, inventory, keys, ansible_env):
    vars_ = yaml.safe_load(open(EXAMPLE_VARS))
    users = [dict(u, keys=[(keys / ("%s.pub" % u["name"])).read_text().strip()]) for u in vars_["dokku_teams_users"]]
    users.append({"name": "newbie", "keys": ["ssh-ed25519 AAAAnot-a-key newbie@laptop"]})
    before = root(lab, FINGERPRINT)
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_users": users})
    refused(r, "user newbie: keys[0]")
    assert "TASK [dokku_ci.teams.dokku_teams : Check the declared users and teams" in r.out
    assert root(lab, FINGERPRINT) == before
    assert "newbie" not in export(lab)["users"]


def test_a_typo_in_a_team_reference_fails_before_anything_changes(lab, converged, inventory, keys, ansible_env):
    vars_ = yaml.safe_load(open(EXAMPLE_VARS))
    teams = vars_["dokku_teams_teams"] + [{"name": "Shop", "members": ["alice"]}]
    before = root(lab, FINGERPRINT)
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_teams": teams})
    refused(r, "invalid team name")
    assert root(lab, FINGERPRINT) == before


def test_a_limit_the_gate_would_refuse_fails_the_run_and_keeps_the_old_gate_conf(lab, converged, inventory, keys,
                                                                                 ansible_env):
    # argument_specs types it as int; only the engine knows 0 is no timeout (the gate would
    # then refuse every command with 75): the installer has the engine parse the new file first.
    before = root(lab, "sha1sum /etc/dokku-teams/gate.conf")
    r = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_upload_timeout": 0})
    assert r.rc != 0 and r.failed == 1, str(r)
    text = " ".join(r.out.split())
    assert "the new /etc/dokku-teams/gate.conf fails `/usr/bin/python3 -IS -c ... /etc/dokku-teams/gate.conf`" in text, str(r)
    assert "upload_timeout must be a positive number of seconds" in text, str(r)
    assert root(lab, "sha1sum /etc/dokku-teams/gate.conf") == before
    assert as_user(lab, keys, "alice", "teams:whoami").returncode == 0


def test_a_malformed_or_inconsistent_declaration_fails_in_the_plan_before_anything_changes(
        lab, converged, inventory, keys, ansible_env):
    vars_ = yaml.safe_load(open(EXAMPLE_VARS))
    users = [dict(u, keys=[(keys / ("%s.pub" % u["name"])).read_text().strip()]) for u in vars_["dokku_teams_users"]]
    before = root(lab, FINGERPRINT)
    shapeless = playbook(ansible_env, inventory, keys, extra_vars={"dokku_teams_users": users + [{"keys": []}]})
    refused(shapeless, "missing required arguments: name found in users")
    teams = vars_["dokku_teams_teams"] + [{"name": "web", "members": ["zed"]}, {"name": "qa", "owners": ["yan"]}]
    twice = playbook(ansible_env, inventory, keys,
                     extra_vars={"dokku_teams_users": users + users[:1], "dokku_teams_teams": teams})
    refused(twice, "Users declared more than once: %s. Teams declared more than once: web." % users[0]["name"],
            "Owners or members that are not declared users: yan, zed.")
    assert root(lab, FINGERPRINT) == before


def test_the_example_inventory_still_applies_with_no_change(lab, converged, inventory, keys, ansible_env):
    r = playbook(ansible_env, inventory, keys)
    assert r.rc == 0 and r.changed == 0, "changed: %s\n%s" % (r.changed_tasks(), r)
    assert labctl.ssh(lab, "id -u").returncode == 0


def test_a_seed_bot_cannot_hand_out_its_rights(lab, converged, work, keys):
    """Issue 16 item 3, over real ssh: the bot is a member of ci-BOT, never its owner."""
    import subprocess
    key = work / "leaky-bot"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "leaky@ci", "-f", str(key)], check=True)
    pub = (work / "leaky-bot.pub").read_text()
    r = labctl.ssh(lab, "dokku-ci-user add:user --name leaky-bot --app web --from 10.200.0.0/16", input=pub)
    assert r.returncode == 0 and "from 10.200.0.0/16" in r.stdout, r.stdout + r.stderr
    team = export(lab)["teams"]["ci-leaky-bot"]
    assert (team["owners"], team["members"]) == ([], ["leaky-bot"])
    assert root(lab, "dokku-ci-user list").startswith("=====> CI users\n")
    assert "root-admin" not in root(lab, "dokku-ci-user list")
    argv = labctl.ssh_argv(lab, user="ci", key=str(key))
    for cmd in ("teams:member-add ci-leaky-bot alice", "teams:owner-add ci-leaky-bot leaky-bot"):
        r = subprocess.run(argv + ["--", cmd], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                           check=False)
        assert r.returncode == 77, (cmd, r.returncode, r.stderr)
    assert export(lab)["teams"]["ci-leaky-bot"]["members"] == ["leaky-bot"]
    root(lab, "dokku-ci-user remove:user --name leaky-bot")
