"""The lab type: what `up` made for one lab, recorded in RUN_DIR/labs/NAME/state.json.

The record is written before anything is made and again after each step, so that `down` (in
this process or a later one) can undo a partial `up`.  Every checkout on the machine shares
RUN_DIR: the JSON keeps the names it has always had, and a record with keys this version does
not know (an older one's `netns`, `veth`) still loads."""
import dataclasses
import json
import os
import time

from . import procs
from .hostcmd import LabError

RUN_DIR = "/run/dokku-teams-lab"
LABS_DIR = os.path.join(RUN_DIR, "labs")


def lab_dir(name):
    return os.path.join(LABS_DIR, name)


def ifname(index):
    return "dtlab%d" % index


@dataclasses.dataclass
class Lab:
    name: str
    index: int
    address: str        # the lab's end of its veth: 10.200.INDEX.2
    host_address: str   # the host's end: 10.200.INDEX.1
    ifname: str         # the host's end's interface
    mode: str           # nspawn | chroot
    tree: str           # the cached root file system it runs on
    dir: str            # RUN_DIR/labs/NAME: keys, seed, console log, this record
    key: str            # root's private key for this lab
    inventory: str      # Ansible inventory listing this lab alone
    ssh_config: str     # ssh -F file: `ssh -F FILE NAME`
    docker: bool = False        # the engine's socket is in the lab at /run/docker.sock
    pid: int = 0                # systemd-nspawn, or the chroot's unshare
    pid_starttime: int = None   # with pid, names that one process even after pid reuse
    started: float = 0.0

    @classmethod
    def new(cls, name, index, mode, tree, docker):
        d = lab_dir(name)
        return cls(name=name, index=index, address="10.200.%d.2" % index,
                   host_address="10.200.%d.1" % index, ifname=ifname(index), mode=mode,
                   tree=tree, dir=d, key=os.path.join(d, "id_ed25519"),
                   inventory=os.path.join(d, "inventory.ini"),
                   ssh_config=os.path.join(d, "ssh_config"), docker=docker, started=time.time())

    def save(self):
        path = os.path.join(self.dir, "state.json")
        with open(path + ".tmp", "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=1)
        os.rename(path + ".tmp", path)

    def alive(self):
        """Its process runs and is the one `up` started."""
        return (bool(self.pid) and procs.pid_alive(self.pid)
                and procs.starttime(self.pid) == self.pid_starttime)

    def ssh(self, cmd, **kw):
        from . import access  # here, not above: access imports this module  # pylint: disable=import-outside-toplevel
        return access.ssh(self, cmd, **kw)


FIELDS = frozenset(f.name for f in dataclasses.fields(Lab))


def load_state(name):
    """The Lab recorded for NAME, or None if there is none (or it cannot be read)."""
    try:
        with open(os.path.join(lab_dir(name), "state.json")) as f:
            record = json.load(f)
        return Lab(**{k: v for k, v in record.items() if k in FIELDS})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def running_labs():
    """Every lab with a record, by name: up, or dead but not yet cleaned up."""
    names = sorted(os.listdir(LABS_DIR)) if os.path.isdir(LABS_DIR) else []
    return [lab for lab in map(load_state, names) if lab]


def get(name):
    lab = load_state(name)
    if not lab:
        raise LabError("lab %s is not up" % name)
    return lab
