"""`lab deps`: the Debian packages the host needs to build and run labs."""
import os
import subprocess

from .hostcmd import install_file, log, need_root, sh

HOST_PACKAGES = ("debootstrap systemd-container iproute2 zstd docker.io openssh-client git "
                 "ca-certificates").split()
POLICY_RC = "/usr/sbin/policy-rc.d"


def installed(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    return r.stdout == b"install ok installed"


def deps():
    need_root()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    missing = [p for p in HOST_PACKAGES if not installed(p)]
    if not missing:
        log("host packages present: %s" % " ".join(HOST_PACKAGES))
        return
    log("installing host packages: %s" % " ".join(missing))
    sh("apt-get", "update", "-qq", env=env)
    # docker.io's postinst would start an engine with default flags; the lab runs its own.
    had_policy = os.path.exists(POLICY_RC)
    if not had_policy:
        install_file("policy-rc.d", POLICY_RC, 0o755)
    try:
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)
    finally:
        if not had_policy:
            os.unlink(POLICY_RC)
