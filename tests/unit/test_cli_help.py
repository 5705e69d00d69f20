# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku-teams SUBCOMMAND --help and teams:help (what `dokku teams:help` reaches) answer, exit 0."""

import pytest

from test_cli import run


@pytest.mark.parametrize("argv, first", [
    (["doctor", "--help"], "  doctor "),
    (["recover", "-h"], "  recover "),
    (["teams:member-add", "--help"], "  teams:member-add TEAM USER..."),
    (["check", "--help"], "  check --user USER"),
])
def test_subcommand_help_prints_its_usage(argv, first):
    result = run(None, *argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(first), result.stdout
    assert len(result.stdout.splitlines()) <= 2


def test_teams_help_prints_the_teams_verbs():
    result = run(None, "teams:help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Teams ") and "teams:whois USER" in result.stdout
    assert "user:add" not in result.stdout


def test_help_inside_the_checked_command_is_not_an_option():
    result = run(None, "check", "--user", "alice", "--", "ps:restart --help")
    assert "Decision" in result.stdout or result.returncode in (64, 75), (result.stdout, result.stderr)
    assert "check --user USER" not in result.stdout
