"""A lab's life: `up` (tree, engine, index, network, seed, boot, sshd) and `down`, which undoes
whatever a complete or partial `up` made, from its record alone."""
import contextlib
import os
import re
import shutil
import signal
import time

from . import procs
from .access import write_inventories
from .boot import boot, make_seed, wait_ssh
from .dockerd import docker_start, docker_stop
from .hostcmd import BootError, LabError, flock, log, need_root, remove_tree, umount_under
from .labstate import LABS_DIR, RUN_DIR, Lab, lab_dir, load_state, running_labs
from .netns import make_network, remove_network
from .rootfs import build

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,14}\Z")
MAX_INDEX = 250  # 10.200.INDEX.0/24


def nspawn_usable():
    return shutil.which("systemd-nspawn") is not None and os.environ.get("LAB_MODE") != "chroot"


def up(name=None, index=None, docker=True, mode=None):
    """Start a lab and wait until its sshd answers.  Returns a Lab.

    MODE: "nspawn" (systemd-nspawn --boot, a real systemd), "chroot" (unshare + chroot on an
    overlay, sshd in the foreground) or None: nspawn, falling back to chroot if it fails.
    LAB_MODE=chroot in the environment forces the fallback."""
    if mode is None and nspawn_usable():
        try:
            return start(name, index, docker, "nspawn")
        except BootError as e:
            log("systemd-nspawn could not boot the lab (%s); falling back to chroot" % e)
    return start(name, index, docker, mode or "chroot")


def start(name, index, docker, mode):
    need_root()
    if index is None and name is None:
        index = 0
    if name is None:
        name = "lab%d" % index
    if not NAME_RE.match(name):
        raise LabError("lab name must match %s" % NAME_RE.pattern)
    old = load_state(name)
    if old and old.alive():
        if index is not None and old.index != index:
            raise LabError("lab %s is up with index %d" % (name, old.index))
        return old
    if old:
        down(name)
    tree = build(verbose=True)
    docker_ok = False
    if docker:
        docker_ok, msg = docker_start(tree=tree)
        if not docker_ok:
            log("no Docker engine: %s (the lab runs without one)" % msg)
    with flock(os.path.join(RUN_DIR, "labs.lock")):
        lab = Lab.new(name, free_index(name, index), mode, tree, docker_ok)
        remove_tree(lab.dir)
        os.makedirs(lab.dir, mode=0o700)
        lab.save()  # recorded before anything is made, so `down` can undo a partial `up`
        try:
            make_seed(lab)
            make_network(lab)
            proc = boot(lab)
        except BaseException:
            down(name)
            raise
    try:
        wait_ssh(lab, proc)
    except BaseException:
        down(name)
        raise
    write_inventories()
    return lab


def free_index(name, index):
    """INDEX if no other lab holds it (None: the lowest free one); called under labs.lock."""
    for other in running_labs():  # reclaim labs whose processes are gone (a reboot, a kill)
        if other.name != name and not other.alive():
            log("cleaning up stale lab %s" % other.name)
            down(other.name)
    used = {lab.index: lab.name for lab in running_labs()}
    if index is None:
        index = next(i for i in range(0, MAX_INDEX) if i not in used)
    if not 0 <= index <= MAX_INDEX:
        raise LabError("index must be 0..%d" % MAX_INDEX)
    if index in used:
        raise LabError("index %d is taken by lab %s" % (index, used[index]))
    return index


def down(name):
    """Stop lab NAME and remove everything it made.  Idempotent."""
    need_root()
    lab = load_state(name)
    ours = bool(lab) and lab.alive()
    kill_lab(name, lab.pid if ours and lab.mode != "nspawn" else None)
    if ours and not procs.wait_gone(lab.pid, 10):
        procs.kill_wait(lab.pid, signal.SIGKILL, 5)
    with contextlib.suppress(OSError):
        os.rmdir("/run/systemd/nspawn/propagate/" + name)
    remove_network(name, lab.ifname if lab else None)
    d = lab.dir if lab else lab_dir(name)
    umount_under(d)
    remove_tree(d)
    if os.path.isdir(RUN_DIR):
        write_inventories()


def kill_lab(name, pid):
    """SIGKILL every process in the lab's network namespace, and PID (the chroot's unshare).

    The container's init dies with the rest, which takes its pid namespace down at once;
    nspawn then exits and unmounts what it mounted.  `unshare --fork` ignores SIGTERM: SIGKILL,
    with --kill-child, ends the chroot lab."""
    deadline = time.monotonic() + 15
    while True:
        live = [p for p in procs.netns_pids(name) + ([pid] if pid else []) if procs.pid_alive(p)]
        if not live:
            return
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise LabError("lab %s: processes %s do not die" % (name, live))
        time.sleep(0.02)


def down_all(stop_docker=True):
    for lab in running_labs():
        down(lab.name)
    if os.path.isdir(LABS_DIR):
        for name in os.listdir(LABS_DIR):
            down(name)
    if stop_docker:
        docker_stop()
