"""The deploy guard over real SSH in the lab: the example inventory converged, then pushes and
image deploys through the gate into the stand-in's copy of Dokku's deploy path
(tests/lab/dokku.py: pre-receive hook -> git-hook -> worktree -> plugn core-post-extract ->
nginx-vhosts / scheduler-docker-local, which record each template that reached rendering in
/var/log/dokku-standin/rendered.jsonl).

Needs root (the lab) and the lab's Docker engine for the image deploys. Never skips.

Runs on the session's shared host (conftest.py), converged with the example inventory, after
test_role.py and test_role_safety.py; the apps web and other are made here if missing.
"""
import hashlib
import io
import json
import os
import platform
import shlex
import subprocess
import sys
import tarfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "unit"))
import tarcraft  # noqa: E402
from labhost import as_user, labctl, root  # noqa: E402

RENDERED = "/var/log/dokku-standin/rendered.jsonl"
PWN = '{{ sh "touch /tmp/pwned" }}\n'
TAG = "dg-" + uuid.uuid4().hex[:8]


def rendered(lab):
    r = labctl.ssh(lab, "cat %s 2>/dev/null || true" % RENDERED)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def remote_head(lab, app):
    r = labctl.ssh(lab, "git --git-dir=/home/dokku/%s rev-parse -q --verify refs/heads/main" % app)
    return r.stdout.strip()


def make_repo(work, files):
    d = work / ("push-%s" % uuid.uuid4().hex[:8])
    d.mkdir()
    for args in (("init", "-q", "-b", "main"), ("config", "user.email", "t@example.org"),
                 ("config", "user.name", "t")):
        subprocess.run(["git"] + list(args), cwd=d, check=True)
    files = dict(files)
    files.setdefault("README", "%s\n" % uuid.uuid4().hex)
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=d, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=d, check=True)
    return d


def push(lab, keys, user, work, app, files):
    src = make_repo(work, files)
    ssh = " ".join(shlex.quote(a) for a in labctl.ssh_argv(lab, user="ci", key=str(keys / user))[:-1])
    return subprocess.run(["git", "push", "ci@%s:%s" % (lab.address, app), "+main:refs/heads/main"], cwd=src,
                          env=dict(os.environ, GIT_SSH_COMMAND=ssh), capture_output=True, text=True, timeout=300, check=False)


def guard_lines(stderr):
    return [line for line in stderr.splitlines() if "deploy refused by the deploy guard" in line]


def refused(lab, before_rendered, before_head, app, r, expected):
    assert r.returncode != 0, r.stderr
    lines = guard_lines(r.stderr)
    assert len(lines) == 1 and expected in lines[0], r.stderr
    assert "\x1b" not in lines[0] and "touch /tmp/pwned" not in lines[0]   # names, never raw content
    assert rendered(lab)[before_rendered:] == [], "a template reached rendering"
    assert remote_head(lab, app) == before_head, "the refused push moved the branch"
    assert labctl.ssh(lab, "test -e /tmp/pwned").returncode != 0


def docker_save(tag, files, workdir="/app"):
    """A `docker save` stream of a one-layer image holding FILES under WORKDIR (no base image)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        info = tarfile.TarInfo(workdir.strip("/"))
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        t.addfile(info)
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("%s/%s" % (workdir.strip("/"), name))
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({"architecture": arch, "os": "linux",
                         "config": {"WorkingDir": workdir, "Cmd": ["/nonexistent"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created_by": "dokku_ci.teams deploy guard test"}]}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag],
                            "Layers": ["layer/layer.tar"]}]).encode()
    # The outer archive as Docker's Go writer makes it (the gate refuses Python tarfile's NUL
    # device fields: tests/unit/tarcraft.py writes Go's headers).
    members = [tarcraft.directory("layer/")]
    for name, data in (("layer/layer.tar", layer_bytes), (config_name, config), ("manifest.json", manifest)):
        members.append(tarcraft.member(name, data))
    return b"".join(members) + tarcraft.EOF


def as_user_bytes(lab, keys, user, cmd, data):
    argv = labctl.ssh_argv(lab, user="ci", key=str(keys / user)) + ["--", cmd]
    return subprocess.run(argv, input=data, capture_output=True, timeout=300, check=False)


# ---------------------------------------------------------------- set-up

def test_the_guard_is_installed_before_dokkus_plugins(converged):
    lab = converged
    enabled = root(lab, "ls /var/lib/dokku/plugins/enabled").split()
    assert enabled[0] == "00_dokku-teams-guard", enabled
    assert sorted(enabled + ["nginx-vhosts", "scheduler-docker-local"])[0] == "00_dokku-teams-guard"
    out = root(lab, "stat -c '%U %G %a' /var/lib/dokku-teams-guard /var/lib/dokku-teams-guard/guard.json")
    assert out.splitlines() == ["root dokku 750", "root dokku 640"]
    doc = json.loads(root(lab, "cat /var/lib/dokku-teams-guard/guard.json"))
    assert doc == {"version": 1, "trusted": []}
    # the dokku user reads it; the ci account does not
    assert labctl.ssh(lab, "runuser -u dokku -- cat /var/lib/dokku-teams-guard/guard.json").returncode == 0
    assert labctl.ssh(lab, "runuser -u ci -- cat /var/lib/dokku-teams-guard/guard.json").returncode != 0


def test_apps(converged, keys):
    for app in ("web", "other"):
        r = as_user(converged, keys, "root-admin", "apps:create %s" % app)
        assert r.returncode == 0 or "already" in r.stderr + r.stdout, r.stderr
    # a lab used before keeps web's source-image from the image deploys below: start from git
    root(converged, "rm -f /var/lib/dokku/config/git/web/source-image")


# ---------------------------------------------------------------- pushes

def test_a_plain_push_deploys_and_its_templates_reach_rendering(converged, keys, work):
    lab = converged
    before = len(rendered(lab))
    r = push(lab, keys, "alice", work, "web", {
        "CHECKS": "WAIT=2\n/health ok\n", "Dockerfile": "FROM debian:bookworm\n",
        "app.json": json.dumps({"scripts": {"dokku": {"predeploy": "true"}}, "env": {"NODE_ENV": "production"},
                                "healthchecks": {"web": [{"type": "startup", "path": "/health"}]}})})
    assert r.returncode == 0, r.stderr
    assert "Deploy guard: web passed" in r.stderr, r.stderr
    got = [(e["app"], e["plugin"], e["template"], e["source"], e["name"]) for e in rendered(lab)[before:]]
    assert got == [("web", "scheduler-docker-local", "CHECKS", "tree", "alice")]


@pytest.mark.parametrize("files, expected", [
    ({"CHECKS": "/health ok\n" + PWN}, "CHECKS line 2: calls sh, which runs a program on the host"),
    ({"nginx.conf.sigil": "server {\n" + PWN + "}\n"}, "nginx.conf.sigil: is an nginx template, which nginx reads as root"),
    ({"nginx.conf.sigil": "log_format k escape=none '$http_x_k';\n"}, "nginx.conf.sigil: is an nginx template"),
    ({"app.json": json.dumps({"healthchecks": {"web": [
        {"type": "startup", "command": ["false"], "onFailure": {"command": ["/bin/sh", "-c", "id"]}}]}})},
     "app.json: has a healthcheck onFailure, which docker-container-healthchecker runs on the host as root"),
    ({"app.json": json.dumps({"env": {"BASH_ENV": "/var/lib/dokku/data/ps/web/Procfile"}})},
     "app.json: env sets 'BASH_ENV', a config key a member may not set"),
    ({"openresty/http-includes/x.conf": "lua_code_cache off;\n"}, "openresty/http-includes: holds OpenResty includes"),
    ({"CHECKS": '{{ include "/etc/passwd" }}\n'}, "CHECKS line 1: calls include, which reads a host file"),
    ({"Dockerfile": "FROM dokku/other\n"}, "Dockerfile line 1: FROM 'dokku/other' is another app's image"),
    ({"Dockerfile": "FROM debian:bookworm\nCOPY --from=dokku/other:latest /app /stolen\n"},
     "Dockerfile line 2: COPY --from 'dokku/other:latest' is another app's image"),
    ({"Dockerfile": "ARG BASE=dokku/other\nFROM ${BASE}\n"}, "Dockerfile line 2: FROM 'dokku/other'"),
    ({"Dockerfile": "FROM debian:bookworm\nARG SRC=dokku/other:latest\nCOPY --from=$SRC /app /x\n"},
     "Dockerfile line 3: COPY --from 'dokku/other:latest'"),
])
def test_a_users_push_that_would_reach_the_host_is_refused(converged, keys, work, files, expected):
    lab = converged
    before, head = len(rendered(lab)), remote_head(lab, "web")
    r = push(lab, keys, "alice", work, "web", files)
    refused(lab, before, head, "web", r, expected)


@pytest.mark.parametrize("dockerfile", ["FROM debian:bookworm\n", "FROM dokku/web\n",
                                        "FROM dokku/web:latest AS base\nFROM base\n"])
def test_own_and_registry_images_deploy(converged, keys, work, dockerfile):
    r = push(converged, keys, "alice", work, "web", {"Dockerfile": dockerfile})
    assert r.returncode == 0 and not guard_lines(r.stderr), r.stderr


def test_an_admins_push_is_checked_too(converged, keys, work):
    # what a member planted (a branch, then git:set web deploy-branch) is what an admin's
    # rebuild builds: the guard judges the content, not who started the deploy
    lab = converged
    before, head = len(rendered(lab)), remote_head(lab, "web")
    r = push(lab, keys, "root-admin", work, "web", {"CHECKS": PWN})
    refused(lab, before, head, "web", r, "CHECKS line 1: calls sh")


def test_a_trusted_app_is_not_checked_and_trust_is_audited(converged, keys, work):
    lab = converged
    root(lab, "dokku-teams app:trust web")
    try:
        r = push(lab, keys, "alice", work, "web", {"CHECKS": PWN})
        assert r.returncode == 0 and "not checked (app web is trusted)" in r.stderr, r.stderr
        trusts = [json.loads(line) for line in root(lab, "dokku-teams audit --app web --format json").splitlines()
                  if '"app:trust"' in line]
        assert (trusts[-1]["user"], trusts[-1]["apps"], trusts[-1]["decision"]) == ("root", ["web"], "allow")
    finally:
        root(lab, "dokku-teams app:untrust web")
    before, head = len(rendered(lab)), remote_head(lab, "web")
    r = push(lab, keys, "alice", work, "web", {"CHECKS": PWN})
    refused(lab, before, head, "web", r, "CHECKS line 1: calls sh")


# ---------------------------------------------------------------- image deploys

@pytest.fixture(scope="module")
def docker(lab):
    try:
        labctl.require_docker()
    except AssertionError as e:
        pytest.fail("the image deploys need the lab's Docker engine: %s" % e)
    yield
    labctl.ssh(lab, "docker image rm -f dokku/web:%s-bad dokku/web:%s-good >/dev/null 2>&1 || true"
               % (TAG, TAG))


def test_load_image_carrying_a_bad_checks_is_refused(converged, keys, docker):
    lab = converged
    before, head = len(rendered(lab)), remote_head(lab, "web")
    image = "dokku/web:%s-bad" % TAG
    r = as_user_bytes(lab, keys, "deploy-bot", "git:load-image web %s" % image,
                      docker_save(image, {"CHECKS": "/health ok\n" + PWN}))
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0, err
    lines = guard_lines(err)
    assert len(lines) == 1 and "CHECKS in the image line 2: calls sh" in lines[0], err
    assert rendered(lab)[before:] == []
    assert remote_head(lab, "web") == head


def test_from_image_of_an_image_carrying_a_bad_nginx_template_is_refused(converged, keys, docker):
    lab = converged
    before = len(rendered(lab))
    image = "dokku/web:%s-bad" % TAG      # loaded by the test before; the image is on the host
    r = as_user_bytes(lab, keys, "deploy-bot", "git:from-image web %s" % image, b"")
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0 and len(guard_lines(err)) == 1, err
    assert rendered(lab)[before:] == []


def test_load_image_with_plain_templates_deploys(converged, keys, docker):
    lab = converged
    before = len(rendered(lab))
    image = "dokku/web:%s-good" % TAG
    r = as_user_bytes(lab, keys, "deploy-bot", "git:load-image web %s" % image,
                      docker_save(image, {"CHECKS": "/health ok\n", "app.json": '{"name": "web"}'}))
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, err
    got = [(e["plugin"], e["template"], e["source"], e["name"]) for e in rendered(lab)[before:]]
    assert got == [("scheduler-docker-local", "CHECKS", "image", "deploy-bot")]
