"""The lab's private Docker engine: one dockerd for every lab on the host, with its own data
root, no bridge and no iptables rules, its socket bind-mounted into each lab."""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time

from . import procs
from .hostcmd import LabError, flock, log, need_root, umount_under
from .labstate import RUN_DIR, running_labs
from .rootfs import build

DOCKER_DATA = "/var/lib/dokku-teams-lab/docker"
DOCKER_RUN = os.path.join(RUN_DIR, "docker")
# The socket sits alone in a directory that is bind-mounted into every lab (at
# LAB_DOCKER_DIR, with /run/docker.sock a symlink to it): a restarted dockerd's new socket
# shows up in labs that are already running.
DOCKER_SOCK_DIR = os.path.join(RUN_DIR, "docker-sock")
DOCKER_SOCK = os.path.join(DOCKER_SOCK_DIR, "docker.sock")
LAB_DOCKER_DIR = "/run/dokku-lab-docker"
DOCKER_PID = os.path.join(DOCKER_RUN, "dockerd.pid")
DOCKER_LOG = os.path.join(DOCKER_RUN, "dockerd.log")
DOCKER_STATUS = os.path.join(RUN_DIR, "docker-status.json")
DOCKER_IMAGE = "local/debian:bookworm"
START_TIMEOUT = 30


class DockerUnavailable(AssertionError):
    """Raised by require_docker(): a test that needs the engine fails with the reason."""


def docker_env():
    return dict(os.environ, DOCKER_HOST="unix://" + DOCKER_SOCK)


def docker_status():
    """(available: bool, message)."""
    if not os.path.exists(DOCKER_SOCK):
        try:
            with open(DOCKER_STATUS) as f:
                return False, json.load(f).get("message", "dockerd is not running")
        except (OSError, ValueError):
            return False, "dockerd is not running (start it with `tests/lab/lab docker`)"
    client = shutil.which("docker", path="/usr/bin:/usr/local/bin:" + os.environ.get("PATH", ""))
    if not client:
        return False, "no docker client on the host"
    r = subprocess.run([client, "version", "--format", "{{.Server.Version}}"], env=docker_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30, check=False)
    if r.returncode != 0:
        return False, "dockerd does not answer on %s: %s" % (DOCKER_SOCK, r.stderr.strip())
    return True, "Docker engine %s on %s" % (r.stdout.strip(), DOCKER_SOCK)


def require_docker():
    ok, msg = docker_status()
    if not ok:
        raise DockerUnavailable("this test needs the lab's Docker engine: " + msg)
    return msg


def docker_start(import_image=True, tree=None):
    """Start the lab's private dockerd if it can run here.  Returns (ok, message)."""
    need_root()
    with flock(os.path.join(RUN_DIR, "docker.lock")):
        ok, msg = docker_status()
        if not ok:
            ok, msg = start_dockerd()
            os.makedirs(RUN_DIR, exist_ok=True)
            with open(DOCKER_STATUS, "w") as f:
                json.dump({"available": ok, "message": msg}, f)
        if ok and import_image:
            msg += import_tree_image(tree)
        return ok, msg


def import_tree_image(tree):
    """DOCKER_IMAGE from the lab tree, if the engine lacks it: '' or what went wrong."""
    r = subprocess.run(["docker", "image", "inspect", DOCKER_IMAGE], env=docker_env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if r.returncode == 0:
        return ""
    tree = tree or build(verbose=False)
    log("importing %s from the lab tree" % DOCKER_IMAGE)
    with subprocess.Popen(["tar", "-C", tree, "--numeric-owner", "--exclude=./.lab-complete",
                           "-c", "."], stdout=subprocess.PIPE) as tar:
        r = subprocess.run(["docker", "import", "-", DOCKER_IMAGE], stdin=tar.stdout,
                           env=docker_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, check=False)
        tar.stdout.close()
    if r.returncode != 0:
        return "; importing %s failed: %s" % (DOCKER_IMAGE, r.stderr.strip())
    return ""


def start_dockerd():
    dockerd = shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not dockerd:
        return False, "dockerd is not installed (Debian docker.io; `tests/lab/lab deps`)"
    os.makedirs(DOCKER_DATA, mode=0o700, exist_ok=True)
    os.makedirs(DOCKER_RUN, mode=0o700, exist_ok=True)
    os.makedirs(DOCKER_SOCK_DIR, mode=0o755, exist_ok=True)
    stop_ours(15)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(DOCKER_SOCK)
    with open(DOCKER_LOG, "ab") as logf:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with  # it outlives this call
            [dockerd, "--data-root", DOCKER_DATA, "--exec-root", os.path.join(DOCKER_RUN, "exec"),
             "--pidfile", DOCKER_PID, "-H", "unix://" + DOCKER_SOCK,
             "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--ip6tables=false",
             "--bridge=none", "--log-level=warn"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(DOCKER_LOG, errors="replace") as f:
                tail = f.read()[-600:]
            return False, "dockerd exited with %d: %s" % (proc.returncode, tail.strip())
        if os.path.exists(DOCKER_SOCK):
            ok, msg = docker_status()
            if ok:
                sock_group()
                return ok, msg
        time.sleep(0.1)
    procs.kill_wait(proc.pid, signal.SIGKILL, 5)
    return False, "dockerd did not answer within %d s" % START_TIMEOUT


def stop_ours(timeout):
    """SIGTERM the dockerd named by our pid file, if that process still is a dockerd."""
    pid = procs.read_pid(DOCKER_PID)
    if pid and procs.pid_alive(pid) and procs.comm(pid) == "dockerd":
        procs.kill_wait(pid, signal.SIGTERM, timeout)


def sock_group():
    """Give the socket the lab's `docker` group (its gid in the lab tree), mode 0660."""
    gid = None
    for tree in [lab.tree for lab in running_labs()] or [None]:
        if not tree:
            try:
                tree = build(verbose=False)
            except LabError:
                return
        with contextlib.suppress(OSError), open(os.path.join(tree, "etc/group")) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == "docker":
                    gid = int(fields[2])
        if gid is not None:
            break
    if gid is not None:
        os.chown(DOCKER_SOCK, 0, gid)
        os.chmod(DOCKER_SOCK, 0o660)


def docker_stop():
    stop_ours(20)
    for path in (DOCKER_SOCK, DOCKER_PID, DOCKER_STATUS, os.path.join(DOCKER_RUN, "docker.sock")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    umount_under(DOCKER_RUN)
    umount_under(DOCKER_DATA)
