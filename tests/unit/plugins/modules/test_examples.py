# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's EXAMPLES: the lint playbooks match them, they run, ansible-doc renders the docs."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import COLLECTIONS_PATH, PREFIX, ROOT, Host, key_line

MODULES = ["dokku_ci_user", "dokku_team", "dokku_team_member", "dokku_team_grant", "dokku_team_info"]


def _env():
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    return env


def _bin(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else name


@pytest.mark.parametrize("module", MODULES)
def test_lint_playbook_is_the_examples(module):
    examples = yaml.safe_load(importlib.import_module(PREFIX + module).EXAMPLES)
    with open(os.path.join(ROOT, "tests", "lint", module + ".yml")) as handle:
        playbook = yaml.safe_load(handle)
    assert playbook[0]["tasks"] == examples


def _seed(host, module):
    host.run("dokku_ci_user", users=[{"name": name, "keys": [key_line(index)]}
                                     for index, name in enumerate(["alice", "bob", "olivia", "carol"])])
    if module in ("dokku_team_member", "dokku_team_grant", "dokku_team_info"):
        host.run("dokku_team", name="web", members=["alice"], commands=["ps:*", "git-*"], apps=["web"])


def test_examples_run(tmp_path):
    plays = []
    for module in MODULES:
        (tmp_path / module).mkdir()
        host = Host(tmp_path / module)
        _seed(host, module)
        with open(os.path.join(ROOT, "tests", "lint", module + ".yml")) as handle:
            play = yaml.safe_load(handle)[0]
        defaults = {"config": host.config, "state_dir": host.state_dir}
        play["module_defaults"] = dict(("dokku_ci.teams." + name, defaults) for name in MODULES)
        plays.append(play)
    path = tmp_path / "examples.yml"
    path.write_text(yaml.safe_dump(plays))
    with open(os.devnull) as devnull:
        done = subprocess.run([_bin("ansible-playbook"), "-i", "localhost,", "-c", "local",
                               "-e", "ansible_python_interpreter=" + sys.executable, str(path)],
                              stdin=devnull, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(),
                              universal_newlines=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout
    assert "failed=0" in done.stdout


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders(module):
    name = "dokku_ci.teams." + module
    done = subprocess.run([_bin("ansible-doc"), "-t", "module", name], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=_env(), universal_newlines=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert module.upper() in done.stdout or name in done.stdout
    assert "ERROR" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    as_json = subprocess.run([_bin("ansible-doc"), "--json", "-t", "module", name], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_env(), universal_newlines=True, timeout=120, check=False)
    doc = json.loads(as_json.stdout)[name]["doc"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert "config" in doc["options"] and "state_dir" in doc["options"]
