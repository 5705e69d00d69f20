# -*- coding: utf-8 -*-
"""roles/dokku_teams/templates/dokkurc.j2: Dokku sources it before it parses a command; over SSH
a backslash is refused there, before plugn's go-basher could write it into a bash file."""

import os
import subprocess

import jinja2
import pytest

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "dokku_teams", "templates", "dokkurc.j2")


@pytest.fixture(scope="module")
def dokkurc(tmp_path_factory):
    with open(TEMPLATE) as handle:
        text = jinja2.Template(handle.read()).render(ansible_managed="managed", dokku_teams_dokku_user="dokku")
    path = tmp_path_factory.mktemp("dokkurc") / "00-dokku-teams"
    path.write_text(text)
    return str(path)


def run(dokkurc, args, ssh_command=None, **extra):
    env = dict({"PATH": "/usr/bin:/bin"}, **extra)
    if ssh_command is not None:
        env["SSH_ORIGINAL_COMMAND"] = ssh_command
    # as dokku:19-22 does: `source "$f"` with the command's own words as "$@"
    return subprocess.run(["bash", "-c", 'source "$0"; echo went-on', dokkurc] + args, env=env,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("ssh_command, args", [
    ("apps:list --x=\\';id;#", ["apps:list", "--x=\\';id;#"]),
    ("config:show --app x\\\\\\';id;#", []),
    ("apps:list", ["apps:list", "a\\b"]),
])
def test_a_backslash_over_ssh_stops_dokku_before_it_parses(dokkurc, ssh_command, args):
    done = run(dokkurc, args, ssh_command)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == " !     a backslash is not accepted in a command over SSH\n"


@pytest.mark.parametrize("ssh_command, args", [
    ("git-receive-pack 'web'", ["git-receive-pack", "'web'"]),
    ("config:set web 'A=hello world'", ["config:set", "web", "A=hello world"]),
    (None, ["run", "web", "grep", "a\\.b"]),      # the ci gate's own call: no SSH_ORIGINAL_COMMAND
])
def test_everything_else_goes_on(dokkurc, ssh_command, args):
    done = run(dokkurc, args, ssh_command)
    assert (done.returncode, done.stdout, done.stderr) == (0, "went-on\n", "")


def test_a_backslash_in_a_variable_the_client_sent_stops_dokku_too(dokkurc):
    # `LC_X="x\\';CMD;#" ssh -o SendEnv=LC_X dokku@host apps:list`: Debian's sshd accepts LC_*
    done = run(dokkurc, ["apps:list"], "apps:list", LC_X="x\\';id;#")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == " !     a backslash is not accepted in the environment of an SSH session (LC_X)\n"
    done = run(dokkurc, ["apps:list"], "apps:list", LC_X="de_DE.UTF-8", LANG="C.UTF-8")
    assert (done.returncode, done.stdout) == (0, "went-on\n")
