"""The dokku_ci.teams lab: a real Debian host booted from a debootstrap tree.

Used by the `tests/lab/lab` command line and importable from tests:

    import labctl
    lab = labctl.up("lab0", 0)          # -> Lab(name, index, address, key, inventory, ...)
    labctl.ssh(lab, "true")             # CompletedProcess; user=/key= for other accounts
    labctl.require_docker()             # raises DockerUnavailable (a test failure) if no engine
    labctl.down("lab0")

Python 3 standard library only.  Needs root.  Everything it makes is recorded under
RUN_DIR/labs/NAME/state.json and removed again by pid/name on `down`.

This module is the interface; the work is in one module per job:
  labstate   the Lab type and its record       rootfs     the cached root file system
  lifecycle  up and down                        dockerd    the labs' private Docker engine
  netns      network namespace and veth         boot       seed, nspawn or chroot, sshd
  access     ssh, inventories, ssh configs      hostdeps   the host's packages
  hostcmd    commands, lock, mounts, errors     procs      pids: alive, ours, ended
  cli        the command line                   files/     the shell programs and unit
A test that replaces a setting replaces it where it is used (labctl.dockerd.DOCKER_SOCK).
"""
from .access import (ALL_SSH_CONFIG, INVENTORY_VARS, all_inventory_path, inventory_line, ssh, ssh_argv,
                     write_inventories)
from .cli import USAGE, main
from .dockerd import (DOCKER_IMAGE, DOCKER_SOCK, DOCKER_SOCK_DIR, DOCKER_STATUS, LAB_DOCKER_DIR,
                      DockerUnavailable, docker_env, docker_start, docker_status, docker_stop,
                      require_docker)
from .hostcmd import BootError, LabError, log, need_root, remove_tree, sh
from .hostdeps import HOST_PACKAGES, deps
from .labstate import RUN_DIR, Lab, get, ifname, lab_dir, load_state, running_labs
from .lifecycle import NAME_RE, down, down_all, nspawn_usable, up
from .rootfs import CACHE_DIR, PACKAGES, SUITE, build, cache_key

__all__ = [
    "ALL_SSH_CONFIG", "BootError", "CACHE_DIR", "DOCKER_IMAGE", "DOCKER_SOCK", "DOCKER_SOCK_DIR",
    "DOCKER_STATUS", "DockerUnavailable", "HOST_PACKAGES", "INVENTORY_VARS", "LAB_DOCKER_DIR", "Lab",
    "LabError", "NAME_RE", "PACKAGES", "RUN_DIR", "SUITE", "USAGE", "all_inventory_path", "build",
    "cache_key", "deps", "docker_env", "docker_start", "docker_status", "docker_stop", "down",
    "down_all", "get", "ifname", "inventory_line", "lab_dir", "load_state", "log", "main",
    "need_root", "nspawn_usable", "remove_tree", "require_docker", "running_labs", "sh", "ssh",
    "ssh_argv", "up", "write_inventories",
]
