#!/bin/sh
# Copied into each lab's seed directory as `apply`; run once at boot before ssh.service (by
# dokku-lab-seed.service, or by chroot-boot.sh).  It installs what no two labs share and the
# cached tree therefore cannot carry: root's authorized key, the host key, the host name, and
# the link to the lab's Docker socket.  lab.env beside it sets LAB_NAME and LAB_DOCKER_DIR.
set -e
S=/.lab-seed
. "$S/lab.env"
install -d -m 0700 /root/.ssh
install -m 0600 "$S/authorized_keys" /root/.ssh/authorized_keys
install -m 0600 "$S/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
install -m 0644 "$S/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub
hostname "$LAB_NAME" 2>/dev/null || true
echo "$LAB_NAME" > /etc/hostname
grep -q " $LAB_NAME\$" /etc/hosts || printf '127.0.1.1 %s\n' "$LAB_NAME" >> /etc/hosts
if [ -d "$LAB_DOCKER_DIR" ]; then
    ln -sfn "$LAB_DOCKER_DIR/docker.sock" /run/docker.sock
fi
