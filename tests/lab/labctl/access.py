"""Reaching a lab: ssh argv and commands, and the Ansible inventories and ssh -F configs for the
labs that are up (one per lab, and one listing them all under RUN_DIR)."""
import os
import subprocess

from .labstate import RUN_DIR, get, running_labs

ALL_INVENTORY = os.path.join(RUN_DIR, "inventory.ini")
ALL_SSH_CONFIG = os.path.join(RUN_DIR, "ssh_config")

INVENTORY_VARS = """
[dokku:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_pipelining=true
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR'
"""

SSH_CONFIG = """\
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
"""


def ssh_config_block(lab):
    return SSH_CONFIG % vars(lab)


def inventory_line(lab):
    return "%s ansible_host=%s ansible_ssh_private_key_file=%s" % (lab.name, lab.address, lab.key)


def all_inventory_path():
    return ALL_INVENTORY


def write_inventories():
    """Each lab's inventory, and the files that list every lab that is up."""
    labs = running_labs()
    for lab in labs:
        with open(lab.inventory, "w") as f:
            f.write("# dokku_ci.teams lab %s\n[dokku]\n%s\n%s"
                    % (lab.name, inventory_line(lab), INVENTORY_VARS))
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(ALL_INVENTORY + ".tmp", "w") as f:
        f.write("# dokku_ci.teams labs that are up\n[dokku]\n%s\n%s"
                % ("".join(inventory_line(lab) + "\n" for lab in labs), INVENTORY_VARS))
    os.rename(ALL_INVENTORY + ".tmp", ALL_INVENTORY)
    with open(ALL_SSH_CONFIG, "w") as f:
        f.write("".join(ssh_config_block(lab) for lab in labs))


def ssh_argv(lab, user="root", key=None, options=()):
    """ssh's argv up to and with the destination (no command): GIT_SSH_COMMAND takes it less
    the last word."""
    key = key or (lab.key if user == "root" else None)
    # Each `up` makes new host keys: there is nothing to remember about them.
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
