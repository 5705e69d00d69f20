#!/bin/sh
# The chroot lab's "init", run inside `ip netns exec NAME unshare --mount --pid ...` (systemd-nspawn
# is the first choice; this is its fallback): the cached tree under an overlay so the lab's writes
# stay in its own directory, the kernel file systems it needs, the seed, then sshd in the
# foreground as the process `lab down` kills.  Its input is the environment: LAB_DIR, LAB_TREE,
# LAB_NAME and, when the lab gets the Docker socket, LAB_DOCKER_SOCK_DIR and LAB_DOCKER_DIR.
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
if [ -n "$LAB_DOCKER_DIR" ]; then
    mkdir -p "$R$LAB_DOCKER_DIR"
    mount --bind "$LAB_DOCKER_SOCK_DIR" "$R$LAB_DOCKER_DIR"
fi
hostname "$LAB_NAME"
exec chroot "$R" /bin/sh -c '/bin/sh /.lab-seed/apply && exec /usr/sbin/sshd -D -e'
