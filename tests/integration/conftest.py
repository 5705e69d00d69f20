"""Fixtures shared by the integration tests.

One lab host for the whole session (`roletest`, index 20), converged once with site.yml and the
example inventory, serves test_role.py, test_role_safety.py and test_deploy_guard.py: booting
and converging a host costs far more than the extra converges a file makes for its own
inventory changes. On a fresh host the fixture also runs, in this order and before anything
else touches the host, the check-mode run, the first converge, a second converge and a
check-mode run again; test_role.py's first tests judge those runs.

The files that need a host nobody converged before (test_dokku_users.py: enabling adopts the
ssh-keys users once; test_paramiko.py: the first converge over paramiko) and the lab's own
tests (test_lab.py, test_loadimage_lab.py) start their own labs.

Environment:
  DOKKU_TEAMS_ROLE_LAB   use this lab, already up, as the shared host (molecule's verify step
                         sets it); otherwise lab `roletest` at index 20 is started, fresh, and
                         stopped at the end of the session.
"""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labhost import HERE, REPO, inventory_dir, labctl, own_lab, playbook  # noqa: E402

SHARED_LAB, SHARED_INDEX = "roletest", 20
# The files on the shared host run first, test_role.py (which pushes to `web` without forcing)
# before test_deploy_guard.py (which force-pushes there and deploys images to it).
SHARED_FILES = ("test_role.py", "test_role_safety.py", "test_deploy_guard.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = os.path.basename(str(item.fspath))
        return SHARED_FILES.index(name) if name in SHARED_FILES else len(SHARED_FILES)
    items.sort(key=rank)  # stable: each file keeps its own order


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    subprocess.run([os.path.join(REPO, "examples", "make-keys"), str(d)], check=True,
                   stdout=subprocess.DEVNULL)
    return d


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory of the test file's own."""
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="session")
def collection(tmp_path_factory):
    """A snapshot of the checkout as the collection dokku_ci.teams, so one test run applies
    one version of the engine and the role even while the checkout changes.
    (tests/integration/collection_path.sh links the live checkout instead, for humans.)"""
    base = tmp_path_factory.mktemp("collections")
    dest = base / "ansible_collections" / "dokku_ci" / "teams"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in ("bin", "meta", "playbooks", "plugins", "roles"):
        shutil.copytree(os.path.join(REPO, name), dest / name, symlinks=True, ignore=ignore)
    shutil.copyfile(os.path.join(REPO, "galaxy.yml"), dest / "galaxy.yml")
    return base


@pytest.fixture(scope="session")
def ansible_env(collection):
    # Nothing from a caller's Ansible or molecule settings (molecule forces colour, its own
    # collections path and callbacks): only what is set here.
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_")))
    env.update(ANSIBLE_CONFIG=os.path.join(HERE, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(collection), ANSIBLE_PIPELINING="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False",
               # ansible-playbook from the same environment as this pytest (the checkout's .venv)
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", os.defpath),
               DOKKU_TEAMS_PLAYBOOK=str(collection / "ansible_collections" / "dokku_ci" / "teams"
                                        / "playbooks" / "site.yml"))
    return env


@pytest.fixture(scope="session")
def lab():
    """The shared host (see the module's docstring)."""
    yield from own_lab(SHARED_LAB, SHARED_INDEX, "the role tests",
                       existing=os.environ.get("DOKKU_TEAMS_ROLE_LAB"))


@pytest.fixture(scope="session")
def inventory(lab, tmp_path_factory):
    """The shared host in group dokku + a copy of the example group_vars."""
    return inventory_dir(lab, tmp_path_factory.mktemp("shared") / "inventory")


class SharedHost(object):
    """The shared host and the site.yml runs made on it by name (each made once)."""

    def __init__(self, lab, inventory, keys, ansible_env):
        self.lab, self.inventory, self.keys, self.ansible_env = lab, inventory, keys, ansible_env
        self.fresh = labctl.ssh(lab, "test -e /etc/dokku-teams/gate.conf").returncode != 0
        self.check_wrote = None     # after the first check-mode run: what it left on the host
        self.runs = {}

    def run(self, name, *args):
        if name not in self.runs:
            self.runs[name] = playbook(self.ansible_env, self.inventory, self.keys, *args)
        return self.runs[name]


@pytest.fixture(scope="session")
def host(lab, inventory, keys, ansible_env):
    shared = SharedHost(lab, inventory, keys, ansible_env)
    if shared.fresh:
        shared.run("check on a fresh host", "--check", "--diff")
        shared.check_wrote = labctl.ssh(lab, "ls -d /etc/dokku-teams /usr/local/lib/dokku-teams; id ci").stdout
    first = shared.run("converge")
    if first.rc != 0 or first.failed != 0:
        pytest.fail("the example inventory did not converge:\n%s" % first)
    if shared.fresh:
        shared.run("second converge")
        shared.run("check on the converged host", "--check", "--diff")
    return shared


@pytest.fixture(scope="session")
def converged(host):
    """The shared host with the example inventory applied."""
    return host.lab
