"""Shared helpers for the load, fault, writer and fleet proofs (tests/load/) and for
bench/load and bench/fleet: bring labs up, write an inventory, converge them with
playbooks/site.yml the way scripts/demo does, and talk to them over SSH.

Everything here talks only to the lab namespaces (10.200.N.2) over SSH.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import labctl  # noqa: E402

PLAYBOOK = os.path.join(REPO, "playbooks", "site.yml")
EXAMPLE_VARS = os.path.join(REPO, "examples", "inventory", "group_vars", "dokku.yml")
INTEGRATION = os.path.join(REPO, "tests", "integration")
CALLS = "/var/log/dokku-standin/calls.jsonl"
AUDIT = "/var/log/dokku-teams/audit.log"
STATE_DIR = "/var/lib/dokku-teams"
AUDIT_FIELDS = ("time", "user", "key", "client", "command", "decision", "reason", "pseudo", "apps",
                "services", "code", "team")
# The example inventory's people (examples/make-keys) plus the throwaway /bin/true account.
PEOPLE = ("root-admin", "olivia", "alice", "bob", "oscar", "deploy-bot")
TRUE_USER = "loadtrue"


class Failed(AssertionError):
    pass


def fresh_lab(name, index):
    """A freshly booted lab (an old one of that name is taken down first)."""
    if os.geteuid() != 0:
        raise Failed("the lab needs root")
    if labctl.load_state(name) is not None:
        labctl.down(name)
    return labctl.up(name, index)


def make_keys(directory):
    """The example users' keys plus one for the /bin/true account, in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    subprocess.run([os.path.join(REPO, "examples", "make-keys"), directory], check=True,
                   stdout=subprocess.DEVNULL)
    key = os.path.join(directory, TRUE_USER)
    if not os.path.exists(key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", TRUE_USER, "-f", key],
                       check=True)
    return directory


def ansible_env():
    out = subprocess.run([os.path.join(INTEGRATION, "collection_path.sh")], check=True,
                         capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(INTEGRATION, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=out, ANSIBLE_PIPELINING="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="0",
               # ansible-playbook from the same environment as this pytest (the checkout's .venv)
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", os.defpath))
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    return env


def write_inventory(directory, labs):
    """An inventory directory: ``labs`` in group dokku + a copy of the example group_vars."""
    os.makedirs(os.path.join(directory, "group_vars"), exist_ok=True)
    lines = [labctl.inventory_line(labctl.load_state(lab.name)) for lab in labs]
    with open(os.path.join(directory, "hosts.ini"), "w") as f:
        f.write("[dokku]\n%s\n%s" % ("\n".join(lines), labctl.INVENTORY_VARS))
    shutil.copyfile(EXAMPLE_VARS, os.path.join(directory, "group_vars", "dokku.yml"))
    return directory


def example_vars():
    import yaml
    with open(EXAMPLE_VARS) as f:
        return yaml.safe_load(f)


def public_key(keys_dir, name):
    with open(os.path.join(keys_dir, name + ".pub")) as f:
        return f.read().strip()


def declared(keys_dir, users=None, teams=None):
    """dokku_teams_users / dokku_teams_teams as extra vars, keys read here (no lookups)."""
    ex = example_vars()
    out_users = []
    for user in (ex["dokku_teams_users"] if users is None else users):
        user = dict(user)
        user["keys"] = [public_key(keys_dir, user["name"])]
        out_users.append(user)
    return {"dokku_teams_users": out_users,
            "dokku_teams_teams": ex["dokku_teams_teams"] if teams is None else teams}


class Run(object):
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.seconds = seconds

    def recap(self):
        return [line for line in self.out.splitlines() if " : ok=" in line]

    def __str__(self):
        return "rc=%s (%.1f s)\n%s\n%s" % (self.rc, self.seconds, self.out[-6000:], self.err[-3000:])


def converge(inventory, keys_dir, extra_vars=None, args=(), forks=None, timeout=900):
    """ansible-playbook playbooks/site.yml against ``inventory``; returns a Run."""
    argv = ["ansible-playbook", "-i", inventory, PLAYBOOK, "-e", "demo_keys_dir=%s" % keys_dir]
    if extra_vars is not None:
        fd, path = tempfile.mkstemp(prefix="extra-", suffix=".json", dir=inventory)
        with os.fdopen(fd, "w") as f:
            json.dump(extra_vars, f)
        argv += ["-e", "@" + path]
    if forks:
        argv += ["--forks", str(forks)]
    t0 = time.monotonic()
    proc = subprocess.run(argv + list(args), env=ansible_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)
    return Run(proc, time.monotonic() - t0)


def root(lab, cmd, check=True, timeout=120, input=None):
    r = labctl.ssh(lab, cmd, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise Failed("%s -> %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r


def user_argv(lab, keys_dir, name, user="ci", extra=()):
    """ssh argv (without the command) for ``name``'s key on ``user``@lab."""
    argv = labctl.ssh_argv(lab, user=user, key=os.path.join(keys_dir, name),
                           options=("ControlMaster=no", "ControlPath=none") + tuple(extra))
    return argv


def as_user(lab, keys_dir, name, cmd, timeout=60, input=None):
    argv = user_argv(lab, keys_dir, name) + ["--", cmd]
    kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def add_true_account(lab, keys_dir):
    """A throwaway account whose one key is forced to /bin/true, made directly in the lab
    (not by the role): the baseline for an SSH login that runs nothing."""
    key = public_key(keys_dir, TRUE_USER)
    script = (
        "id {u} >/dev/null 2>&1 || useradd -m -s /bin/sh {u}; "
        "install -d -o root -g root -m 0755 /home/{u}/.ssh; "
        "printf '%s\\n' 'restrict,command=\"/bin/true\" {k}' > /home/{u}/.ssh/authorized_keys; "
        "chmod 0644 /home/{u}/.ssh/authorized_keys; usermod -p '*' {u}"
    ).format(u=TRUE_USER, k=key)
    root(lab, script)


def file_size(lab, path):
    r = root(lab, "stat -c %%s %s 2>/dev/null || echo 0" % path)
    return int(r.stdout.strip() or 0)


def read_from(lab, path, offset):
    """Bytes of ``path`` on the lab from ``offset`` on, as text."""
    r = root(lab, "tail -c +%d %s 2>/dev/null || true" % (offset + 1, path), timeout=300)
    return r.stdout


def jsonl(text):
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        out.append(json.loads(line))
    return out


def doctor(lab):
    return root(lab, "dokku-teams doctor", check=False)


def export(lab):
    return json.loads(root(lab, "dokku-teams export").stdout)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
