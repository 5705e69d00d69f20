"""The dokku_ci.teams lab: a real Debian host booted from a debootstrap tree.

Used by the `tests/lab/lab` command line and importable from tests:

    import labctl
    lab = labctl.up("lab0", 0)          # -> Lab(name, index, address, key, inventory, ...)
    labctl.ssh(lab, "true")             # CompletedProcess; user=/key= for other accounts
    labctl.require_docker()             # raises DockerUnavailable (a test failure) if no engine
    labctl.down("lab0")

Python 3 standard library only.  Needs root.  Everything it makes is recorded under
RUN_DIR/NAME/state.json and removed again by pid/name on `down`.
"""
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "dokku.py")
# The stand-in is kept without a shebang; the lab's /usr/bin/dokku is this line + dokku.py.
STANDIN_SHEBANG = b"#!/usr/bin/python3\n"

SUITE = "bookworm"
PACKAGES = ("openssh-server sudo git python3 python3-apt nodejs npm ca-certificates systemd "
            "systemd-sysv dbus iproute2 procps passwd").split()
HOST_PACKAGES = ("debootstrap systemd-container iproute2 zstd docker.io openssh-client git "
                 "ca-certificates").split()
BUILD_REV = "3"  # bump when the build recipe changes in a way the hash does not see

CACHE_DIR = "/var/cache/dokku-teams"
RUN_DIR = "/run/dokku-teams-lab"
DOCKER_DATA = "/var/lib/dokku-teams-lab/docker"
DOCKER_RUN = os.path.join(RUN_DIR, "docker")
# The socket sits alone in a directory that is bind-mounted into every lab (at
# LAB_DOCKER_DIR, with /run/docker.sock a symlink to it): a restarted dockerd's new socket
# shows up in labs that are already running.
DOCKER_SOCK_DIR = os.path.join(RUN_DIR, "docker-sock")
DOCKER_SOCK = os.path.join(DOCKER_SOCK_DIR, "docker.sock")
LAB_DOCKER_DIR = "/run/dokku-lab-docker"
DOCKER_PID = os.path.join(DOCKER_RUN, "dockerd.pid")
DOCKER_STATUS = os.path.join(RUN_DIR, "docker-status.json")
DOCKER_IMAGE = "local/debian:bookworm"
SOURCES = "/etc/apt/sources.list.d/debian.sources"
NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,14}\Z")
SSH_READY_TIMEOUT = 60


class LabError(RuntimeError):
    pass


class BootError(LabError):
    """The lab's init or sshd did not come up."""


class DockerUnavailable(AssertionError):
    """Raised by require_docker(): a test that needs the engine fails with the reason."""


@dataclasses.dataclass
class Lab:
    name: str
    index: int
    address: str
    key: str            # root's private key for this lab
    inventory: str      # Ansible inventory listing this lab alone
    ssh_config: str     # ssh -F file: `ssh -F FILE NAME`
    mode: str           # nspawn | chroot
    pid: int
    docker: bool        # the engine's socket is in the lab at /run/docker.sock

    def ssh(self, cmd, **kw):
        return ssh(self, cmd, **kw)


def log(msg):
    sys.stderr.write("lab: %s\n" % msg)
    sys.stderr.flush()


def sh(*argv, check=True, quiet=False, **kw):
    if not quiet:
        kw.setdefault("stdout", subprocess.DEVNULL)
    r = subprocess.run(list(argv), stdin=kw.pop("stdin", subprocess.DEVNULL),
                       stderr=kw.pop("stderr", subprocess.PIPE), check=False, **kw)
    if check and r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip() if isinstance(r.stderr, bytes) else ""
        raise LabError("%s failed (%d): %s" % (" ".join(argv), r.returncode, err[-2000:]))
    return r


def need_root():
    if os.geteuid() != 0:
        raise LabError("the lab needs root")


@contextlib.contextmanager
def flock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------- host packages

def deps():
    need_root()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    missing = [p for p in HOST_PACKAGES
               if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, check=False).stdout != b"install ok installed"]
    if not missing:
        log("host packages present: %s" % " ".join(HOST_PACKAGES))
        return
    log("installing host packages: %s" % " ".join(missing))
    sh("apt-get", "update", "-qq", env=env)
    # policy-rc.d keeps docker.io's postinst from starting an engine with default flags.
    policy = "/usr/sbin/policy-rc.d"
    had_policy = os.path.exists(policy)
    if not had_policy:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)
    finally:
        if not had_policy:
            os.unlink(policy)


# ---------------------------------------------------------------- root file system

def read_mirror():
    """The first URI of the stanza that carries SUITE in the machine's deb822 sources."""
    text = open(SOURCES).read()
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if SUITE in fields.get("suites", []) and fields.get("uris"):
            return fields["uris"][0], text
    raise LabError("no %s stanza in %s" % (SUITE, SOURCES))


def host_docker_client():
    """Debian's docker client (docker.io) if installed: copied into the tree."""
    path = "/usr/bin/docker"
    r = subprocess.run(["dpkg", "-S", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    if r.returncode == 0 and os.path.isfile(path):
        return path
    return None


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def standin_bytes():
    """The lab's /usr/bin/dokku: the stand-in's source behind its shebang."""
    with open(STANDIN, "rb") as f:
        return STANDIN_SHEBANG + f.read()


def cache_key():
    mirror, sources = read_mirror()
    h = hashlib.sha256()
    for part in (BUILD_REV, SUITE, mirror, sources, " ".join(PACKAGES), SETUP_SH, SEED_UNIT,
                 hashlib.sha256(standin_bytes()).hexdigest()):
        h.update(part.encode() + b"\0")
    client = host_docker_client()
    h.update((file_sha(client) if client else "no-docker-client").encode())
    return h.hexdigest()[:16]


SEED_UNIT = """\
[Unit]
Description=dokku_ci.teams lab: per-lab keys, host name, docker socket
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target ssh.service
ConditionPathExists=/.lab-seed/apply

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh /.lab-seed/apply

[Install]
WantedBy=sysinit.target
"""

SETUP_SH = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt-get update -qq
apt-get install -y -qq --no-install-recommends $LAB_PACKAGES
# Dokku's layout: a normal `dokku` user and group, home /home/dokku, plugin directories.
getent group dokku >/dev/null || groupadd dokku
id dokku >/dev/null 2>&1 || useradd --create-home --home-dir /home/dokku --shell /bin/bash \
    --gid dokku --comment dokku dokku
passwd -l dokku >/dev/null
getent group docker >/dev/null || groupadd --system docker
usermod -aG docker dokku
install -d -o dokku -g dokku -m 0755 /var/lib/dokku /var/lib/dokku/plugins \
    /var/lib/dokku/plugins/available /var/lib/dokku/plugins/enabled \
    /var/lib/dokku/config /var/lib/dokku/data
echo "0.38.0" > /var/lib/dokku/STABLE_VERSION
install -d -o dokku -g dokku -m 0700 /home/dokku/.ssh
install -o dokku -g dokku -m 0600 /dev/null /home/dokku/.ssh/authorized_keys
install -d -o dokku -g dokku -m 0775 /var/log/dokku-standin
install -o dokku -g dokku -m 0666 /dev/null /var/log/dokku-standin/calls.jsonl
install -d -m 0700 /root/.ssh
# Host keys are made per lab (see the seed unit); none is shared through the cache.
rm -f /etc/ssh/ssh_host_*
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' > /etc/ssh/sshd_config.d/00-lab-hostkey.conf
systemctl enable ssh.service >/dev/null 2>&1 || true
mkdir -p /etc/systemd/system/sysinit.target.wants /etc/systemd/system/multi-user.target.wants
ln -sf /etc/systemd/system/dokku-lab-seed.service /etc/systemd/system/sysinit.target.wants/
test -e /etc/systemd/system/multi-user.target.wants/ssh.service || \
    ln -s /lib/systemd/system/ssh.service /etc/systemd/system/multi-user.target.wants/ssh.service
# Nothing in the lab reaches a network beyond its veth: no DNS, no time sync.
systemctl mask systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
printf '# dokku_ci.teams lab: no DNS\n' > /etc/resolv.conf
apt-get clean
rm -f /etc/machine-id /var/lib/dbus/machine-id
: > /etc/machine-id
"""


def build(force=False, verbose=True):
    """Return the extracted cached tree, building it (or extracting the tarball) if absent."""
    need_root()
    key = cache_key()
    tree = os.path.join(CACHE_DIR, "rootfs-%s" % key)
    tarball = tree + (".tar.zst" if shutil.which("zstd") else ".tar.gz")
    marker = os.path.join(tree, ".lab-complete")
    with flock(os.path.join(CACHE_DIR, "build.lock")):
        if os.path.exists(marker) and not force:
            return tree
        busy = [st["name"] for st in running_labs() if st.get("tree") == tree and _lab_alive(st)]
        if busy:
            raise LabError("labs %s run on %s: `lab down` them before `lab build --force`"
                           % (", ".join(busy), tree))
        t0 = time.monotonic()
        tmp = tree + ".tmp"
        remove_tree(tmp)
        remove_tree(tree)
        if os.path.exists(tarball) and not force:
            if verbose:
                log("extracting %s" % tarball)
            os.makedirs(tmp)
            comp = ["--zstd"] if tarball.endswith(".zst") else ["-z"]
            sh("tar", "-C", tmp, "--numeric-owner", "-xpf", tarball, *comp)
        else:
            _bootstrap(tmp, verbose)
            part = tarball + ".part"
            comp = ["--zstd"] if tarball.endswith(".zst") else ["-z"]
            sh("tar", "-C", tmp, "--numeric-owner", "--one-file-system", "-cpf", part, *comp, ".")
            os.rename(part, tarball)
        open(os.path.join(tmp, ".lab-complete"), "w").write(key + "\n")
        os.rename(tmp, tree)
        if verbose:
            log("root file system ready in %.1f s: %s" % (time.monotonic() - t0, tree))
        _prune_cache(keep=(tree, tarball))
    return tree


def _bootstrap(tmp, verbose):
    mirror, sources = read_mirror()
    if not shutil.which("debootstrap"):
        raise LabError("debootstrap is missing: run `tests/lab/lab deps`")
    if verbose:
        log("debootstrap --variant=minbase %s from %s" % (SUITE, mirror))
    t0 = time.monotonic()
    sh("debootstrap", "--variant=minbase", SUITE, tmp, mirror)
    if verbose:
        log("debootstrap took %.1f s; installing %s" % (time.monotonic() - t0, " ".join(PACKAGES)))
    # The machine's sources (all suites: updates, security) for the second step.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(tmp, "etc/apt/sources.list"))
    with open(os.path.join(tmp, "etc/apt/sources.list.d/debian.sources"), "w") as f:
        f.write(sources)
    shutil.copyfile("/etc/resolv.conf", os.path.join(tmp, "etc/resolv.conf"))
    policy = os.path.join(tmp, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\n# no daemon starts while the lab image is built\nexit 101\n")
    os.chmod(policy, 0o755)
    unit = os.path.join(tmp, "etc/systemd/system/dokku-lab-seed.service")
    os.makedirs(os.path.dirname(unit), exist_ok=True)
    with open(unit, "w") as f:
        f.write(SEED_UNIT)
    with open(os.path.join(tmp, "usr/bin/dokku"), "wb") as f:
        f.write(standin_bytes())
    os.chmod(os.path.join(tmp, "usr/bin/dokku"), 0o755)
    client = host_docker_client()
    if client:
        shutil.copyfile(client, os.path.join(tmp, "usr/bin/docker"))
        os.chmod(os.path.join(tmp, "usr/bin/docker"), 0o755)
    proc = os.path.join(tmp, "proc")
    sh("mount", "-t", "proc", "proc", proc)
    try:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
               "LAB_PACKAGES": " ".join(PACKAGES)}
        r = subprocess.run(["chroot", tmp, "/bin/sh", "-c", SETUP_SH], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        if r.returncode != 0:
            raise LabError("installing packages in the tree failed:\n%s"
                           % r.stdout.decode(errors="replace")[-4000:])
    finally:
        sh("umount", proc, check=False)
    os.unlink(policy)


def remove_tree(path):
    if not os.path.lexists(path):
        return
    # Never follow into a mount left behind by a failed build.
    for line in reversed(open("/proc/self/mounts").read().splitlines()):
        mnt = line.split()[1].encode().decode("unicode_escape")
        if mnt == path or mnt.startswith(path + "/"):
            sh("umount", "-l", mnt, check=False)
    shutil.rmtree(path)


def _prune_cache(keep):
    if running_labs():
        return
    for entry in os.listdir(CACHE_DIR):
        p = os.path.join(CACHE_DIR, entry)
        if entry.startswith("rootfs-") and p not in keep:
            if os.path.isdir(p):
                remove_tree(p)
            else:
                os.unlink(p)


# ---------------------------------------------------------------- docker engine

def docker_env():
    return dict(os.environ, DOCKER_HOST="unix://" + DOCKER_SOCK)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _read_pid(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def docker_status():
    """(available: bool, message)."""
    if not os.path.exists(DOCKER_SOCK):
        try:
            st = json.load(open(DOCKER_STATUS))
            return False, st.get("message", "dockerd is not running")
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


def _write_docker_status(ok, message):
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(DOCKER_STATUS, "w") as f:
        json.dump({"available": ok, "message": message}, f)


def docker_start(import_image=True, tree=None):
    """Start the lab's private dockerd if it can run here.  Returns (ok, message)."""
    need_root()
    with flock(os.path.join(RUN_DIR, "docker.lock")):
        ok, msg = docker_status()
        if not ok:
            ok, msg = _docker_start()
            _write_docker_status(ok, msg)
        if ok and import_image:
            r = subprocess.run(["docker", "image", "inspect", DOCKER_IMAGE], env=docker_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if r.returncode != 0:
                tree = tree or build(verbose=False)
                log("importing %s from the lab tree" % DOCKER_IMAGE)
                tar = subprocess.Popen(["tar", "-C", tree, "--numeric-owner", "--exclude=./.lab-complete",
                                        "-c", "."], stdout=subprocess.PIPE)
                r = subprocess.run(["docker", "import", "-", DOCKER_IMAGE], stdin=tar.stdout,
                                   env=docker_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, check=False)
                tar.stdout.close()
                tar.wait()
                if r.returncode != 0:
                    msg += "; importing %s failed: %s" % (DOCKER_IMAGE, r.stderr.strip())
        return ok, msg


def _docker_start():
    dockerd = shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not dockerd:
        return False, "dockerd is not installed (Debian docker.io; `tests/lab/lab deps`)"
    os.makedirs(DOCKER_DATA, mode=0o700, exist_ok=True)
    os.makedirs(DOCKER_RUN, mode=0o700, exist_ok=True)
    os.makedirs(DOCKER_SOCK_DIR, mode=0o755, exist_ok=True)
    old = _read_pid(DOCKER_PID)
    if old and _pid_alive(old) and _comm(old) == "dockerd":
        _kill_wait(old, signal.SIGTERM, 15)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(DOCKER_SOCK)
    logf = open(os.path.join(DOCKER_RUN, "dockerd.log"), "ab")
    proc = subprocess.Popen(
        [dockerd, "--data-root", DOCKER_DATA, "--exec-root", os.path.join(DOCKER_RUN, "exec"),
         "--pidfile", DOCKER_PID, "-H", "unix://" + DOCKER_SOCK,
         "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--ip6tables=false",
         "--bridge=none", "--log-level=warn"],
        stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    logf.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = open(os.path.join(DOCKER_RUN, "dockerd.log"), errors="replace").read()[-600:]
            return False, "dockerd exited with %d: %s" % (proc.returncode, tail.strip())
        if os.path.exists(DOCKER_SOCK):
            ok, msg = docker_status()
            if ok:
                _docker_sock_group()
                return ok, msg
        time.sleep(0.1)
    _kill_wait(proc.pid, signal.SIGKILL, 5)
    return False, "dockerd did not answer within 30 s"


def _comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return None


def _docker_sock_group():
    """Give the socket the lab's `docker` group (its gid in the lab tree), mode 0660."""
    gid = None
    for st in running_labs() or [{"tree": None}]:
        tree = st.get("tree")
        if not tree:
            try:
                tree = build(verbose=False)
            except LabError:
                return
        with contextlib.suppress(OSError):
            for line in open(os.path.join(tree, "etc/group")):
                f = line.split(":")
                if f[0] == "docker":
                    gid = int(f[2])
        if gid is not None:
            break
    if gid is not None:
        os.chown(DOCKER_SOCK, 0, gid)
        os.chmod(DOCKER_SOCK, 0o660)


def docker_stop():
    pid = _read_pid(DOCKER_PID)
    if pid and _pid_alive(pid) and _comm(pid) == "dockerd":
        _kill_wait(pid, signal.SIGTERM, 20)
    for path in (DOCKER_SOCK, DOCKER_PID, DOCKER_STATUS, os.path.join(DOCKER_RUN, "docker.sock")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    _umount_under(DOCKER_RUN)
    _umount_under(DOCKER_DATA)


def require_docker():
    ok, msg = docker_status()
    if not ok:
        raise DockerUnavailable("this test needs the lab's Docker engine: " + msg)
    return msg


# ---------------------------------------------------------------- labs

def lab_dir(name):
    return os.path.join(RUN_DIR, "labs", name)


def load_state(name):
    try:
        with open(os.path.join(lab_dir(name), "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def running_labs():
    base = os.path.join(RUN_DIR, "labs")
    out = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        st = load_state(name)
        if st:
            out.append(st)
    return out


def _lab_alive(st):
    pid = st.get("pid")
    return bool(pid) and _pid_alive(pid) and _starttime(pid) == st.get("pid_starttime")


def _lab_from_state(st):
    return Lab(name=st["name"], index=st["index"], address=st["address"], key=st["key"],
               inventory=st["inventory"], ssh_config=st["ssh_config"], mode=st["mode"],
               pid=st["pid"], docker=st.get("docker", False))


def get(name):
    st = load_state(name)
    if not st:
        raise LabError("lab %s is not up" % name)
    return _lab_from_state(st)


def ifname(index):
    return "dtlab%d" % index


def nspawn_usable():
    return shutil.which("systemd-nspawn") is not None and os.environ.get("LAB_MODE") != "chroot"


def up(name=None, index=None, docker=True, mode=None):
    """Start a lab and wait until its sshd answers.  Returns a Lab.

    MODE: "nspawn" (systemd-nspawn --boot, a real systemd), "chroot" (unshare + chroot on an
    overlay, sshd in the foreground) or None: nspawn, falling back to chroot if it fails.
    LAB_MODE=chroot in the environment forces the fallback."""
    if mode is None and nspawn_usable():
        try:
            return _up(name, index, docker, "nspawn")
        except BootError as e:
            log("systemd-nspawn could not boot the lab (%s); falling back to chroot" % e)
    return _up(name, index, docker, mode or "chroot")


def _up(name, index, docker, mode):
    need_root()
    if index is None and name is None:
        index = 0
    if name is None:
        name = "lab%d" % index
    if not NAME_RE.match(name):
        raise LabError("lab name must match %s" % NAME_RE.pattern)
    st = load_state(name)
    if st and _lab_alive(st):
        if index is not None and st["index"] != index:
            raise LabError("lab %s is up with index %d" % (name, st["index"]))
        return _lab_from_state(st)
    if st:
        down(name)
    tree = build(verbose=True)
    docker_ok = False
    if docker:
        docker_ok, msg = docker_start(tree=tree)
        if not docker_ok:
            log("no Docker engine: %s (the lab runs without one)" % msg)
    with flock(os.path.join(RUN_DIR, "labs.lock")):
        for other in running_labs():  # reclaim labs whose processes are gone (a reboot, a kill)
            if other["name"] != name and not _lab_alive(other):
                log("cleaning up stale lab %s" % other["name"])
                down(other["name"])
        used = {s["index"]: s["name"] for s in running_labs()}
        if index is None:
            index = next(i for i in range(0, 250) if i not in used)
        if not 0 <= index <= 250:
            raise LabError("index must be 0..250")
        if index in used:
            raise LabError("index %d is taken by lab %s" % (index, used[index]))
        d = lab_dir(name)
        remove_tree(d)
        os.makedirs(d, mode=0o700)
        st = {"name": name, "index": index, "address": "10.200.%d.2" % index,
              "host_address": "10.200.%d.1" % index, "ifname": ifname(index), "mode": mode,
              "tree": tree, "pid": 0, "docker": docker_ok, "dir": d,
              "key": os.path.join(d, "id_ed25519"), "inventory": os.path.join(d, "inventory.ini"),
              "ssh_config": os.path.join(d, "ssh_config"), "started": time.time()}
        _save_state(st)  # recorded before anything is made, so `down` can undo a partial `up`
        try:
            _make_seed(st)
            _make_network(st)
            proc = _boot(st)
        except BaseException:
            down(name)
            raise
    try:
        _wait_ssh(st, proc)
    except BaseException:
        down(name)
        raise
    _write_inventories()
    return _lab_from_state(st)


def _save_state(st):
    path = os.path.join(st["dir"], "state.json")
    with open(path + ".tmp", "w") as f:
        json.dump(st, f, indent=1)
    os.rename(path + ".tmp", path)


def _make_seed(st):
    d = st["dir"]
    seed = os.path.join(d, "seed")
    os.makedirs(seed, mode=0o700)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@lab-%s" % st["name"],
       "-f", st["key"])
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@%s" % st["name"],
       "-f", os.path.join(seed, "ssh_host_ed25519_key"))
    shutil.copyfile(st["key"] + ".pub", os.path.join(seed, "authorized_keys"))
    with open(os.path.join(seed, "apply"), "w") as f:
        f.write("""\
# Written by tests/lab/labctl.py for lab %(name)s; run once at boot before ssh.service.
set -e
S=/.lab-seed
install -d -m 0700 /root/.ssh
install -m 0600 $S/authorized_keys /root/.ssh/authorized_keys
install -m 0600 $S/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key
install -m 0644 $S/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub
hostname %(name)s 2>/dev/null || true
echo %(name)s > /etc/hostname
grep -q ' %(name)s$' /etc/hosts || printf '127.0.1.1 %(name)s\\n' >> /etc/hosts
if [ -d %(lab_docker_dir)s ]; then
    ln -sfn %(lab_docker_dir)s/docker.sock /run/docker.sock
fi
""" % dict(st, lab_docker_dir=LAB_DOCKER_DIR))
    with open(st["ssh_config"], "w") as f:
        f.write(_ssh_config_block(st))


def _ssh_config_block(st):
    return """\
Host %(name)s %(address)s
    HostName %(address)s
    User root
    IdentityFile %(key)s
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    GlobalKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
    ConnectTimeout 10
""" % st


def _make_network(st):
    ns, ifn = st["name"], st["ifname"]
    if os.path.exists("/run/netns/" + ns):
        raise LabError("network namespace %s exists already (`lab down --name %s`)" % (ns, ns))
    if os.path.exists("/sys/class/net/" + ifn):
        raise LabError("interface %s exists already" % ifn)
    st["netns"] = ns
    _save_state(st)
    sh("ip", "netns", "add", ns)
    st["veth"] = ifn
    _save_state(st)
    sh("ip", "link", "add", ifn, "type", "veth", "peer", "name", "eth0", "netns", ns)
    sh("ip", "addr", "add", st["host_address"] + "/24", "dev", ifn)
    sh("ip", "link", "set", ifn, "up")
    sh("ip", "-n", ns, "addr", "add", st["address"] + "/24", "dev", "eth0")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")


CHROOT_SH = r"""
set -e
R="$LAB_DIR/root"
mount -t overlay overlay -o "lowerdir=$LAB_TREE,upperdir=$LAB_DIR/upper,workdir=$LAB_DIR/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t sysfs sysfs "$R/sys" 2>/dev/null || true
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R/.lab-seed" "$R/run/sshd"
mount --bind -o ro "$LAB_DIR/seed" "$R/.lab-seed"
if [ -n "$LAB_DOCKER_DIR" ]; then mkdir -p "$R$LAB_DOCKER_DIR"; mount --bind "$LAB_DOCKER_SOCK_DIR" "$R$LAB_DOCKER_DIR"; fi
hostname "$LAB_NAME"
exec chroot "$R" /bin/sh -c '/bin/sh /.lab-seed/apply && exec /usr/sbin/sshd -D -e'
"""


def _boot(st):
    d = st["dir"]
    logf = open(os.path.join(d, "console.log"), "ab")
    sock = DOCKER_SOCK if st["docker"] else ""
    if st["mode"] == "nspawn":
        argv = ["systemd-nspawn", "--quiet", "--boot", "--volatile=overlay", "--register=no",
                "--keep-unit", "--machine=" + st["name"],
                "--network-namespace-path=/run/netns/" + st["name"],
                "--directory=" + st["tree"], "--bind-ro=%s:/.lab-seed" % os.path.join(d, "seed"),
                "--resolv-conf=off", "--timezone=off", "--link-journal=no",
                "--console=read-only"]
        if sock:
            argv.append("--bind=%s:%s" % (DOCKER_SOCK_DIR, LAB_DOCKER_DIR))
        env = dict(os.environ, SYSTEMD_NSPAWN_TMPFS_TMP="1")
    else:
        for sub in ("root", "upper", "work"):
            os.makedirs(os.path.join(d, sub))
        argv = ["ip", "netns", "exec", st["name"], "unshare", "--mount", "--uts", "--ipc",
                "--pid", "--fork", "--kill-child", "--propagation", "private",
                "/bin/sh", "-c", CHROOT_SH]
        env = dict(os.environ, LAB_DIR=d, LAB_TREE=st["tree"], LAB_NAME=st["name"],
                   LAB_DOCKER_SOCK_DIR=DOCKER_SOCK_DIR if sock else "",
                   LAB_DOCKER_DIR=LAB_DOCKER_DIR if sock else "")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            env=env, start_new_session=True)
    logf.close()
    st["pid"] = proc.pid
    st["pid_starttime"] = _starttime(proc.pid)
    _save_state(st)
    return proc


def _starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _wait_ssh(st, proc=None):
    deadline = time.monotonic() + SSH_READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = open(os.path.join(st["dir"], "console.log"), errors="replace").read()[-1500:]
            raise BootError("lab %s exited with %s before sshd answered:\n%s"
                            % (st["name"], proc.returncode, tail))
        try:
            with socket.create_connection((st["address"], 22), timeout=1) as s:
                s.settimeout(2)
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise BootError("lab %s: sshd did not answer on %s:22 within %d s"
                    % (st["name"], st["address"], SSH_READY_TIMEOUT))


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _kill_wait(pid, sig, timeout):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, unused_status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            waited = 0
        if waited == pid or not _pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def _umount_under(path):
    path = os.path.realpath(path)
    for line in reversed(open("/proc/self/mounts").read().splitlines()):
        mnt = line.split()[1].replace("\\040", " ")
        if mnt == path or mnt.startswith(path + "/"):
            sh("umount", "-l", mnt, check=False)


def _netns_pids(name):
    """Every process whose network namespace is the lab's (its whole process tree)."""
    try:
        ref = os.stat("/run/netns/" + name)
    except OSError:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            st = os.stat("/proc/%s/ns/net" % entry)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (ref.st_dev, ref.st_ino):
            pids.append(int(entry))
    return pids


def down(name):
    """Stop lab NAME and remove everything it made.  Idempotent."""
    need_root()
    st = load_state(name) or {"name": name, "dir": lab_dir(name)}
    pid = st.get("pid")
    ours = bool(pid) and _pid_alive(pid) and _starttime(pid) == st.get("pid_starttime")
    # SIGKILL to every process in the lab's network namespace (the container's init first)
    # takes its pid namespace down at once; nspawn then exits and unmounts what it mounted.
    # `unshare --fork` ignores SIGTERM: SIGKILL, with --kill-child, ends the chroot lab.
    deadline = time.monotonic() + 15
    while True:
        victims = _netns_pids(name)
        if ours and st.get("mode") != "nspawn":
            victims.append(pid)
        live = [p for p in victims if _pid_alive(p)]
        if not live:
            break
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise LabError("lab %s: processes %s do not die" % (name, live))
        time.sleep(0.02)
    if ours and not _wait_gone(pid, 10):
        _kill_wait(pid, signal.SIGKILL, 5)
    with contextlib.suppress(OSError):
        os.rmdir("/run/systemd/nspawn/propagate/" + name)
    ifn = st.get("veth") or st.get("ifname")
    if ifn and os.path.exists("/sys/class/net/" + ifn):
        sh("ip", "link", "del", ifn, check=False)
    if os.path.exists("/run/netns/" + name):
        sh("ip", "netns", "del", name, check=False)
    _umount_under(st["dir"])
    remove_tree(st["dir"])
    if os.path.isdir(RUN_DIR):
        _write_inventories()


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if not _pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def down_all(stop_docker=True):
    for st in running_labs():
        down(st["name"])
    base = os.path.join(RUN_DIR, "labs")
    if os.path.isdir(base):
        for name in os.listdir(base):
            down(name)
    if stop_docker:
        docker_stop()


def inventory_line(st):
    return ("%(name)s ansible_host=%(address)s ansible_ssh_private_key_file=%(key)s" % st)


INVENTORY_VARS = """
[dokku:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_pipelining=true
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR'
"""


def all_inventory_path():
    return os.path.join(RUN_DIR, "inventory.ini")


def _write_inventories():
    labs = running_labs()
    for st in labs:
        with open(st["inventory"], "w") as f:
            f.write("# dokku_ci.teams lab %s\n[dokku]\n%s\n%s"
                    % (st["name"], inventory_line(st), INVENTORY_VARS))
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(all_inventory_path() + ".tmp", "w") as f:
        f.write("# dokku_ci.teams labs that are up\n[dokku]\n%s\n%s"
                % ("".join(inventory_line(st) + "\n" for st in labs), INVENTORY_VARS))
    os.rename(all_inventory_path() + ".tmp", all_inventory_path())
    with open(os.path.join(RUN_DIR, "ssh_config"), "w") as f:
        f.write("".join(_ssh_config_block(st) for st in labs))


def ssh_argv(lab, user="root", key=None, options=()):
    key = key or (lab.key if user == "root" else None)
    argv = ["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "IdentitiesOnly=yes"]
    if key:
        argv += ["-i", key]
    for opt in options:
        argv += ["-o", opt]
    return argv + ["%s@%s" % (user, lab.address)]


def ssh(lab, cmd=None, user="root", key=None, input=None, check=False, timeout=120,
        text=True, options=()):
    """Run CMD (a string, as ssh sends it) on the lab as USER.  Returns CompletedProcess."""
    if isinstance(lab, str):
        lab = get(lab)
    argv = ssh_argv(lab, user=user, key=key, options=options)
    if cmd is not None:
        argv += ["--", cmd]
    kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text,
                          check=check, timeout=timeout, **kw)


# ---------------------------------------------------------------- command line

USAGE = """usage: lab COMMAND [options]

  deps                         install the host packages the lab needs (apt-get)
  build [--force]              build the cached root file system if absent; print its path
  up [--name N] [--index I] [--no-docker] [--mode nspawn|chroot]
                               start a lab (address 10.200.I.2); print its address
  down [--name N | --all]      stop a lab (--all: every lab and the lab's dockerd)
  ssh [--name N] [-- CMD...]   root shell or command in the lab
  inventory [--name N | --all] print the path of the Ansible inventory
  ssh-config [--name N | --all] print the path of an ssh -F config
  status                       labs that are up, addresses, docker availability
  docker [start|stop|status]   the lab's private Docker engine (default: start)
"""


def _opts(args, flags=(), values=()):
    out, rest, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1:])
            break
        if a in flags:
            out[a] = True
        elif a in values:
            if i + 1 >= len(args):
                raise LabError("%s needs a value" % a)
            out[a] = args[i + 1]
            i += 1
        elif "=" in a and a.split("=", 1)[0] in values:
            k, v = a.split("=", 1)
            out[k] = v
        else:
            rest.append(a)
        i += 1
    return out, rest


def _default_name(o):
    if "--name" in o:
        return o["--name"]
    labs = running_labs()
    if len(labs) == 1:
        return labs[0]["name"]
    return "lab0"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "deps":
            deps()
        elif cmd == "build":
            o, unused_rest = _opts(args, flags=("--force",))
            t0 = time.monotonic()
            tree = build(force="--force" in o)
            log("build: %.1f s" % (time.monotonic() - t0))
            print(tree)
        elif cmd == "up":
            o, rest = _opts(args, flags=("--no-docker",), values=("--name", "--index", "--mode"))
            if rest:
                raise LabError("unexpected arguments: %s" % " ".join(rest))
            t0 = time.monotonic()
            lab = up(o.get("--name"), int(o["--index"]) if "--index" in o else None,
                     docker="--no-docker" not in o, mode=o.get("--mode"))
            log("lab %s up (%s, docker %s) in %.2f s; inventory %s"
                % (lab.name, lab.mode, "yes" if lab.docker else "no",
                   time.monotonic() - t0, lab.inventory))
            print(lab.address)
        elif cmd == "down":
            o, unused_rest = _opts(args, flags=("--all",), values=("--name",))
            t0 = time.monotonic()
            if "--all" in o:
                down_all()
            else:
                down(_default_name(o))
            log("down in %.2f s" % (time.monotonic() - t0))
        elif cmd == "ssh":
            o, rest = _opts(args, values=("--name", "--user", "--key"))
            lab = get(_default_name(o))
            ssh_cmd = ssh_argv(lab, user=o.get("--user", "root"), key=o.get("--key"))
            if sys.stdin.isatty() and not rest:
                ssh_cmd.insert(1, "-t")
            os.execvp("ssh", ssh_cmd + (["--", " ".join(rest)] if rest else []))
        elif cmd in ("inventory", "ssh-config"):
            o, unused_rest = _opts(args, flags=("--all",), values=("--name",))
            if "--all" in o:
                print(all_inventory_path() if cmd == "inventory"
                      else os.path.join(RUN_DIR, "ssh_config"))
            else:
                lab = get(_default_name(o))
                print(lab.inventory if cmd == "inventory" else lab.ssh_config)
        elif cmd == "status":
            labs = running_labs()
            if not labs:
                print("no lab is up")
            for st in labs:
                alive = _lab_alive(st)
                print("%-12s %-5s %-12s mode=%s pid=%s docker=%s inventory=%s"
                      % (st["name"], "up" if alive else "DEAD", st["address"], st["mode"],
                         st.get("pid"), "yes" if st.get("docker") else "no", st["inventory"]))
            ok, msg = docker_status()
            print("docker: %s" % (("available: " + msg) if ok else ("NOT available: " + msg)))
        elif cmd == "docker":
            sub = args[0] if args else "start"
            if sub == "start":
                ok, msg = docker_start()
                print(("available: " if ok else "NOT available: ") + msg)
                return 0 if ok else 1
            if sub == "stop":
                docker_stop()
            elif sub == "status":
                ok, msg = docker_status()
                print(("available: " if ok else "NOT available: ") + msg)
                return 0 if ok else 1
            else:
                raise LabError("lab docker start|stop|status")
        else:
            sys.stderr.write(USAGE)
            return 2
    except LabError as e:
        log(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
