"""Booting a lab on the cached tree: its seed (what no two labs share), then systemd-nspawn
--boot (a real systemd) or the chroot fallback, then waiting for its sshd."""
import os
import shlex
import shutil
import socket
import subprocess
import time

from . import procs
from .access import ssh_config_block
from .dockerd import DOCKER_SOCK_DIR, LAB_DOCKER_DIR
from .hostcmd import FILES, BootError, install_file, sh

SSH_READY_TIMEOUT = 60


def make_seed(lab):
    """Root's key pair, the lab's host key and the seed directory the lab applies at boot."""
    seed = os.path.join(lab.dir, "seed")
    os.makedirs(seed, mode=0o700)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@lab-%s" % lab.name, "-f", lab.key)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@%s" % lab.name,
       "-f", os.path.join(seed, "ssh_host_ed25519_key"))
    shutil.copyfile(lab.key + ".pub", os.path.join(seed, "authorized_keys"))
    install_file("seed-apply.sh", os.path.join(seed, "apply"))
    with open(os.path.join(seed, "lab.env"), "w") as f:
        f.write("LAB_NAME=%s\nLAB_DOCKER_DIR=%s\n" % (shlex.quote(lab.name), shlex.quote(LAB_DOCKER_DIR)))
    with open(lab.ssh_config, "w") as f:
        f.write(ssh_config_block(lab))


def boot_argv(lab):
    """(argv, environment) that start LAB in its mode."""
    if lab.mode == "nspawn":
        argv = ["systemd-nspawn", "--quiet", "--boot", "--volatile=overlay", "--register=no",
                "--keep-unit", "--machine=" + lab.name,
                "--network-namespace-path=/run/netns/" + lab.name,
                "--directory=" + lab.tree, "--bind-ro=%s:/.lab-seed" % os.path.join(lab.dir, "seed"),
                "--resolv-conf=off", "--timezone=off", "--link-journal=no",
                "--console=read-only"]
        if lab.docker:
            argv.append("--bind=%s:%s" % (DOCKER_SOCK_DIR, LAB_DOCKER_DIR))
        return argv, dict(os.environ, SYSTEMD_NSPAWN_TMPFS_TMP="1")
    for sub in ("root", "upper", "work"):
        os.makedirs(os.path.join(lab.dir, sub))
    argv = ["ip", "netns", "exec", lab.name, "unshare", "--mount", "--uts", "--ipc",
            "--pid", "--fork", "--kill-child", "--propagation", "private",
            "/bin/sh", os.path.join(FILES, "chroot-boot.sh")]
    return argv, dict(os.environ, LAB_DIR=lab.dir, LAB_TREE=lab.tree, LAB_NAME=lab.name,
                      LAB_DOCKER_SOCK_DIR=DOCKER_SOCK_DIR if lab.docker else "",
                      LAB_DOCKER_DIR=LAB_DOCKER_DIR if lab.docker else "")


def boot(lab):
    """Start LAB's init (recorded at once, for `down`) and return its Popen."""
    argv, env = boot_argv(lab)
    with open(os.path.join(lab.dir, "console.log"), "ab") as logf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,  # pylint: disable=consider-using-with  # the lab outlives this call
                                env=env, start_new_session=True)
    lab.pid = proc.pid
    lab.pid_starttime = procs.starttime(proc.pid)
    lab.save()
    return proc


def wait_ssh(lab, proc=None):
    deadline = time.monotonic() + SSH_READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            with open(os.path.join(lab.dir, "console.log"), errors="replace") as f:
                tail = f.read()[-1500:]
            raise BootError("lab %s exited with %s before sshd answered:\n%s"
                            % (lab.name, proc.returncode, tail))
        try:
            with socket.create_connection((lab.address, 22), timeout=1) as s:
                s.settimeout(2)
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise BootError("lab %s: sshd did not answer on %s:22 within %d s"
                    % (lab.name, lab.address, SSH_READY_TIMEOUT))
