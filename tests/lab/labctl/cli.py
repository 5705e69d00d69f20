"""The `tests/lab/lab` command line: one function per command, LabError as one line and exit 1."""
import os
import sys
import time

from .access import ALL_SSH_CONFIG, all_inventory_path, ssh_argv
from .dockerd import docker_start, docker_status, docker_stop
from .hostcmd import LabError, log
from .hostdeps import deps
from .labstate import get, running_labs
from .lifecycle import down, down_all, up
from .rootfs import build

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


def parse(args, flags=(), values=()):
    """({option: value or True}, the other words); everything after `--` is another word."""
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


def default_name(o):
    """--name, else the one lab that is up, else lab0."""
    if "--name" in o:
        return o["--name"]
    labs = running_labs()
    return labs[0].name if len(labs) == 1 else "lab0"


def cmd_build(args):
    o, unused_rest = parse(args, flags=("--force",))
    t0 = time.monotonic()
    tree = build(force="--force" in o)
    log("build: %.1f s" % (time.monotonic() - t0))
    print(tree)


def cmd_up(args):
    o, rest = parse(args, flags=("--no-docker",), values=("--name", "--index", "--mode"))
    if rest:
        raise LabError("unexpected arguments: %s" % " ".join(rest))
    try:
        index = int(o["--index"]) if "--index" in o else None
    except ValueError:
        raise LabError("--index must be a number, not %r" % o["--index"]) from None
    t0 = time.monotonic()
    lab = up(o.get("--name"), index, docker="--no-docker" not in o, mode=o.get("--mode"))
    log("lab %s up (%s, docker %s) in %.2f s; inventory %s"
        % (lab.name, lab.mode, "yes" if lab.docker else "no", time.monotonic() - t0, lab.inventory))
    print(lab.address)


def cmd_down(args):
    o, unused_rest = parse(args, flags=("--all",), values=("--name",))
    t0 = time.monotonic()
    if "--all" in o:
        down_all()
    else:
        down(default_name(o))
    log("down in %.2f s" % (time.monotonic() - t0))


def cmd_ssh(args):
    o, rest = parse(args, values=("--name", "--user", "--key"))
    lab = get(default_name(o))
    argv = ssh_argv(lab, user=o.get("--user", "root"), key=o.get("--key"))
    if sys.stdin.isatty() and not rest:
        argv.insert(1, "-t")
    os.execvp("ssh", argv + (["--", " ".join(rest)] if rest else []))


def cmd_paths(cmd, args):
    """`inventory` and `ssh-config`: the path of one lab's file, or of the one for all."""
    o, unused_rest = parse(args, flags=("--all",), values=("--name",))
    if "--all" in o:
        print(all_inventory_path() if cmd == "inventory" else ALL_SSH_CONFIG)
    else:
        lab = get(default_name(o))
        print(lab.inventory if cmd == "inventory" else lab.ssh_config)


def cmd_status(unused_args):
    labs = running_labs()
    if not labs:
        print("no lab is up")
    for lab in labs:
        print("%-12s %-5s %-12s mode=%s pid=%s docker=%s inventory=%s"
              % (lab.name, "up" if lab.alive() else "DEAD", lab.address, lab.mode,
                 lab.pid, "yes" if lab.docker else "no", lab.inventory))
    ok, msg = docker_status()
    print("docker: %s" % (("available: " + msg) if ok else ("NOT available: " + msg)))


def cmd_docker(args):
    sub = args[0] if args else "start"
    if sub == "stop":
        docker_stop()
        return 0
    if sub not in ("start", "status"):
        raise LabError("lab docker start|stop|status")
    ok, msg = docker_start() if sub == "start" else docker_status()
    print(("available: " if ok else "NOT available: ") + msg)
    return 0 if ok else 1


COMMANDS = {"deps": lambda args: deps(), "build": cmd_build, "up": cmd_up, "down": cmd_down,
            "ssh": cmd_ssh, "inventory": lambda args: cmd_paths("inventory", args),
            "ssh-config": lambda args: cmd_paths("ssh-config", args), "status": cmd_status,
            "docker": cmd_docker}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        sys.stderr.write(USAGE)
        return 2
    try:
        return command(argv[1:]) or 0
    except LabError as e:
        log(str(e))
        return 1
