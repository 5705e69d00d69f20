"""The role and the policy modules over `ansible_connection=paramiko`, from a controller with
no OpenSSH client: `ssh`, `scp` and `sftp` on PATH are stand-ins that record any call and fail.
The policy modules' answer is then read with the collection's filters (who_can_deploy,
policy_query) on the controller.

Needs root (the lab). Never skips: a lab that cannot start is a failure. Runs its own lab
`veparamiko` (index 90) and stops it afterwards.
"""
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labhost import HERE, REPO, inventory_dir, labctl, own_lab  # noqa: E402

LAB_NAME, LAB_INDEX = "veparamiko", 90
NO_SSH = "#!/bin/sh\necho \"$0 $*\" >> \"%s\"\necho 'no OpenSSH client on this controller' >&2\nexit 255\n"

POLICY_PLAY = """
- name: The policy modules over paramiko, read with the collection's filters
  hosts: dokku
  gather_facts: false
  tasks:
    - name: Add bob to the team web
      dokku_ci.teams.dokku_team_member:
        team: web
        users: [bob]
      register: added

    - name: Read the policy document
      dokku_ci.teams.dokku_team_info:
      register: policy

    - name: Ask the gate whether bob may push to web
      dokku_ci.teams.dokku_team_info:
        user: bob
        command: git-receive-pack 'web'
      register: bob_push

    - name: The controller-side answers agree with the host
      ansible.builtin.assert:
        that:
          - added is changed
          - bob_push.decision.decision == 'allow'
          - deployers == ['alice', 'bob', 'deploy-bot', 'root-admin']
          - holding_web == ['web', 'web-deploy']
          - every_app == ['ops']
        fail_msg: "{{ {'deployers': deployers, 'holding_web': holding_web, 'every_app': every_app} | to_json }}"
      vars:
        deployers: "{{ policy.document | dokku_ci.teams.who_can_deploy('web') }}"
        holding_web: "{{ policy.document | dokku_ci.teams.policy_query(\\"teams[?contains(apps, 'web')].name\\") }}"
        every_app: "{{ policy.document | dokku_ci.teams.policy_query('teams[?contains(apps, `\\"*\\"`)].name') }}"
"""


@pytest.fixture(scope="module")
def lab():
    """A lab of its own: the first converge, which writes every file, runs over paramiko."""
    yield from own_lab(LAB_NAME, LAB_INDEX, "the paramiko tests")


@pytest.fixture(scope="module")
def inventory(lab, work):
    """The lab in group dokku, reached with paramiko, and the example inventory's group_vars."""
    d = inventory_dir(lab, work / "inventory")
    text = (d / "hosts.ini").read_text()
    assert "[dokku:vars]\n" in text, text
    (d / "hosts.ini").write_text(text.replace("[dokku:vars]\n", "[dokku:vars]\nansible_connection=paramiko\n"))
    return d


@pytest.fixture(scope="module")
def controller(work):
    """The environment of a controller without OpenSSH: PATH has failing ssh/scp/sftp first."""
    bin_dir = work / "no-openssh"
    bin_dir.mkdir()
    calls = work / "openssh-calls"
    for name in ("ssh", "scp", "sftp"):
        path = bin_dir / name
        path.write_text(NO_SSH % calls)
        path.chmod(0o755)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_")))
    env.update(ANSIBLE_CONFIG=os.path.join(HERE, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=subprocess.run(
                   [os.path.join(HERE, "collection_path.sh")], check=True, capture_output=True,
                   text=True).stdout.strip(),
               ANSIBLE_HOST_KEY_CHECKING="False",
               # Never write the lab's throwaway host keys into this machine's known_hosts.
               ANSIBLE_PARAMIKO_RECORD_HOST_KEYS="False",
               PATH=os.pathsep.join([str(bin_dir), os.path.dirname(sys.executable), "/usr/sbin:/usr/bin:/sbin:/bin"]))
    return env, calls


def playbook(controller, inventory, keys, play):
    env, calls = controller
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", str(inventory),
            "-e", "demo_keys_dir=%s" % keys, play]
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=900, check=False)
    seconds = time.monotonic() - started
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, "rc=%d after %.0f s\n%s" % (proc.returncode, seconds, out[-8000:])
    assert not calls.exists(), "the OpenSSH client was called: " + calls.read_text()
    # -vvv names the connection plugin for every task; it must be paramiko, never ssh.
    assert "ESTABLISH PARAMIKO SSH CONNECTION FOR USER: root" in out, out[-4000:]
    assert "ESTABLISH SSH CONNECTION" not in out
    recap = re.search(r"^%s\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % LAB_NAME,
                      proc.stdout, re.M)
    assert recap, proc.stdout[-4000:]
    return [int(x) for x in recap.groups()], seconds


def test_role_converges_over_paramiko(lab, inventory, keys, controller, record_property):
    (ok, changed, unreachable, failed), seconds = playbook(
        controller, inventory, keys, os.path.join(REPO, "playbooks", "site.yml"))
    record_property("paramiko_first_run_s", round(seconds, 1))
    assert changed > 0 and unreachable == 0 and failed == 0
    export = labctl.ssh(lab, "dokku-teams export")
    assert export.returncode == 0, export.stderr
    assert '"alice"' in export.stdout and '"web-deploy"' in export.stdout


def test_second_run_over_paramiko_changes_nothing(lab, inventory, keys, controller, record_property):
    (ok, changed, unreachable, failed), seconds = playbook(
        controller, inventory, keys, os.path.join(REPO, "playbooks", "site.yml"))
    record_property("paramiko_second_run_s", round(seconds, 1))
    assert (changed, unreachable, failed) == (0, 0, 0)


def test_policy_modules_and_filters_over_paramiko(lab, inventory, keys, controller, work):
    play = work / "policy.yml"
    play.write_text(POLICY_PLAY)
    (ok, changed, unreachable, failed), seconds = playbook(controller, inventory, keys, str(play))
    assert (changed, failed) == (1, 0)
    # The module's change reached the host: the gate lets bob push to web now.
    check = labctl.ssh(lab, "dokku-teams check --user bob -- \"git-receive-pack 'web'\"")
    assert check.returncode == 0, check.stdout + check.stderr
