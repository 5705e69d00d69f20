"""The lab's root file system: a debootstrap tree with Dokku's layout and the stand-in dokku,
cached under CACHE_DIR by a key over everything that goes into it (and as a tarball, so that a
lost tree comes back without the network)."""
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time

from .hostcmd import FILES, LabError, flock, install_file, log, need_root, read_file, remove_tree, sh
from .labstate import running_labs

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(HERE, "dokku.py")
# The stand-in is kept without a shebang; the lab's /usr/bin/dokku is this line + dokku.py.
STANDIN_SHEBANG = b"#!/usr/bin/python3\n"

SUITE = "bookworm"
PACKAGES = ("openssh-server sudo git python3 python3-apt nodejs npm ca-certificates systemd "
            "systemd-sysv dbus iproute2 procps passwd").split()
BUILD_REV = "3"  # bump when the build recipe changes in a way the hash does not see
CACHE_DIR = "/var/cache/dokku-teams"
SOURCES = "/etc/apt/sources.list.d/debian.sources"
# Run in the tree by /bin/sh -c, and hashed byte for byte into the key (as are the seed unit and
# the stand-in): an edit to either file builds a new tree.
SETUP = "rootfs-setup"
SEED_UNIT = "dokku-lab-seed.service"


def read_mirror():
    """The first URI of the stanza that carries SUITE in the machine's deb822 sources."""
    with open(SOURCES) as f:
        text = f.read()
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
    for part in (BUILD_REV, SUITE, mirror, sources, " ".join(PACKAGES), read_file(SETUP),
                 read_file(SEED_UNIT), hashlib.sha256(standin_bytes()).hexdigest()):
        h.update(part.encode() + b"\0")
    client = host_docker_client()
    h.update((file_sha(client) if client else "no-docker-client").encode())
    return h.hexdigest()[:16]


def build(force=False, verbose=True):
    """Return the extracted cached tree, building it (or extracting the tarball) if absent."""
    need_root()
    key = cache_key()
    tree = os.path.join(CACHE_DIR, "rootfs-%s" % key)
    tarball = tree + (".tar.zst" if shutil.which("zstd") else ".tar.gz")
    comp = ["--zstd"] if tarball.endswith(".zst") else ["-z"]
    with flock(os.path.join(CACHE_DIR, "build.lock")):
        if os.path.exists(os.path.join(tree, ".lab-complete")) and not force:
            return tree
        busy = [lab.name for lab in running_labs() if lab.tree == tree and lab.alive()]
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
            sh("tar", "-C", tmp, "--numeric-owner", "-xpf", tarball, *comp)
        else:
            bootstrap(tmp, verbose)
            sh("tar", "-C", tmp, "--numeric-owner", "--one-file-system", "-cpf", tarball + ".part",
               *comp, ".")
            os.rename(tarball + ".part", tarball)
        with open(os.path.join(tmp, ".lab-complete"), "w") as f:
            f.write(key + "\n")
        os.rename(tmp, tree)
        if verbose:
            log("root file system ready in %.1f s: %s" % (time.monotonic() - t0, tree))
        prune_cache(keep=(tree, tarball))
    return tree


def bootstrap(tmp, verbose):
    """debootstrap into TMP, then install PACKAGES and Dokku's layout in it (rootfs-setup)."""
    mirror, sources = read_mirror()
    if not shutil.which("debootstrap"):
        raise LabError("debootstrap is missing: run `tests/lab/lab deps`")
    if verbose:
        log("debootstrap --variant=minbase %s from %s" % (SUITE, mirror))
    t0 = time.monotonic()
    sh("debootstrap", "--variant=minbase", SUITE, tmp, mirror)
    if verbose:
        log("debootstrap took %.1f s; installing %s" % (time.monotonic() - t0, " ".join(PACKAGES)))
    add_files(tmp, sources)
    policy = os.path.join(tmp, "usr/sbin/policy-rc.d")
    install_file("policy-rc.d", policy, 0o755)  # no daemon starts while the tree is built
    proc = os.path.join(tmp, "proc")
    sh("mount", "-t", "proc", "proc", proc)
    try:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
               "LAB_PACKAGES": " ".join(PACKAGES)}
        r = subprocess.run(["chroot", tmp, "/bin/sh", "-c", read_file(SETUP)], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        if r.returncode != 0:
            raise LabError("installing packages in the tree failed:\n%s"
                           % r.stdout.decode(errors="replace")[-4000:])
    finally:
        sh("umount", proc, check=False)
    os.unlink(policy)


def add_files(tmp, sources):
    """What the tree gets from the host before rootfs-setup runs in it."""
    # The machine's sources (all suites: updates, security) for the second step.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(tmp, "etc/apt/sources.list"))
    with open(os.path.join(tmp, "etc/apt/sources.list.d/debian.sources"), "w") as f:
        f.write(sources)
    shutil.copyfile("/etc/resolv.conf", os.path.join(tmp, "etc/resolv.conf"))
    unit = os.path.join(tmp, "etc/systemd/system", SEED_UNIT)
    os.makedirs(os.path.dirname(unit), exist_ok=True)
    shutil.copyfile(os.path.join(FILES, SEED_UNIT), unit)
    with open(os.path.join(tmp, "usr/bin/dokku"), "wb") as f:
        f.write(standin_bytes())
    os.chmod(os.path.join(tmp, "usr/bin/dokku"), 0o755)
    client = host_docker_client()
    if client:
        shutil.copyfile(client, os.path.join(tmp, "usr/bin/docker"))
        os.chmod(os.path.join(tmp, "usr/bin/docker"), 0o755)


def prune_cache(keep):
    """Remove the trees and tarballs of other keys, unless a lab may still run on one."""
    if running_labs():
        return
    for entry in os.listdir(CACHE_DIR):
        p = os.path.join(CACHE_DIR, entry)
        if entry.startswith("rootfs-") and p not in keep:
            if os.path.isdir(p):
                remove_tree(p)
            else:
                os.unlink(p)
