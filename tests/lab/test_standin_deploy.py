"""The stand-in's deploy path (git-receive-pack -> pre-receive -> git-hook -> worktree ->
plugn core-post-extract -> nginx-vhosts / scheduler-docker-local) with the collection's deploy
guard as an enabled plugin, without the lab (DOKKU_STANDIN_ROOT). The same path runs over real
SSH in tests/integration/test_deploy_guard.py.
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(HERE, "dokku.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PWN = '{{ sh "touch /tmp/pwned" }}\n'


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "standin"
    plugin = root / "plugins" / "enabled" / "00_dokku-teams-guard"
    plugin.mkdir(parents=True)
    trigger = plugin / "core-post-extract"
    trigger.write_text('#!/bin/sh\nexec %s --guard-file %s "$@"\n'
                       % (os.path.join(REPO, "bin", "dokku-teams-deploy-guard"), root / "guard.json"))
    trigger.chmod(0o755)
    return root


def env(root, name="alice"):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOKKU_STANDIN_ROOT": str(root),
            "HOME": str(root), "LC_ALL": "C.UTF-8", "NAME": name}


def repo(tmp_path, files):
    d = tmp_path / ("src%d" % len(list(tmp_path.iterdir())))
    d.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.org"], ["config", "user.name", "t"]):
        subprocess.run(["git"] + args, cwd=d, check=True)
    for name, text in files.items():
        (d / name).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=d, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=d, check=True)
    return d


def push(root, src, app="web", name="alice"):
    return subprocess.run(["git", "-c", "protocol.ext.allow=always", "push",
                           "ext::%s %s %%S %s" % (PYTHON, STANDIN, app), "main:refs/heads/main"],
                          cwd=src, env=env(root, name), capture_output=True, text=True, timeout=120, check=False)


def rendered(root):
    path = root / "log" / "rendered.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def head(root, app="web"):
    return subprocess.run(["git", "--git-dir", str(root / "apps" / app), "rev-parse", "-q", "--verify",
                           "refs/heads/main"], capture_output=True, text=True, check=False).stdout.strip()


def test_a_plain_push_reaches_rendering(root, tmp_path):
    src = repo(tmp_path, {"CHECKS": "/health ok\n", "Dockerfile": "FROM debian:bookworm\n",
                          "app.json": '{"scripts": {"dokku": {"predeploy": "rake db:migrate"}}}'})
    r = push(root, src)
    assert r.returncode == 0, r.stderr
    assert "Deploy guard: web passed" in r.stderr
    got = [(e["plugin"], e["template"], e["source"], e["name"]) for e in rendered(root)]
    assert got == [("scheduler-docker-local", "CHECKS", "tree", "alice")]
    assert head(root)


def test_a_trusted_apps_own_nginx_template_reaches_rendering(root, tmp_path):
    doc = root / "guard.json"
    doc.write_text(json.dumps({"version": 1, "admins": [], "trusted": ["web"]}))
    doc.chmod(0o640)
    r = push(root, repo(tmp_path, {"nginx.conf.sigil": "{{ $.APP | upper }}\n"}))
    assert r.returncode == 0, r.stderr
    assert "Deploy guard: not checked (app web is trusted)" in r.stderr
    assert [(e["plugin"], e["template"]) for e in rendered(root)] == [("nginx-vhosts", "nginx.conf.sigil")]


@pytest.mark.parametrize("files, where", [
    ({"CHECKS": PWN}, "CHECKS line 1: calls sh"),
    ({"nginx.conf.sigil": "server {}\n"}, "nginx.conf.sigil: is an nginx template, which nginx reads as root"),
    ({"app.json": '{"healthchecks": {"web": [{"onFailure": {"command": ["id"]}}]}}'}, "app.json: has a healthcheck"),
    ({"app.json": '{"env": {"BASH_ENV": "/app/x"}}'}, "app.json: env sets 'BASH_ENV'"),
    ({"CHECKS": '{{ include "/etc/passwd" }}'}, "CHECKS line 1: calls include"),
    ({"Dockerfile": "FROM dokku/other\n"}, "Dockerfile line 1: FROM 'dokku/other' is another app's image"),
])
def test_a_refused_push_renders_nothing_and_moves_no_ref(root, tmp_path, files, where):
    r = push(root, repo(tmp_path, files))
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if "deploy guard" in l]
    assert len(lines) == 1 and where in lines[0], r.stderr
    assert rendered(root) == []
    assert head(root) == ""


def test_the_guard_runs_before_dokkus_own_triggers(root, tmp_path):
    # a plugin named like Dokku's sorts after 00_: the stand-in's nginx-vhosts never saw the file
    r = push(root, repo(tmp_path, {"nginx.conf.sigil": PWN}))
    assert r.returncode != 0 and rendered(root) == []
