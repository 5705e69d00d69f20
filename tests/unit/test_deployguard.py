# -*- coding: utf-8 -*-
"""The deploy guard's decision (deployguard), its program (guard) and trust (guardfile, CLI)."""

import io
import json
import os
import subprocess
import sys

import pytest

from module_utils import deployguard, guard, guardfile, imagefiles
from module_utils.store import Store

from keyutil import ed25519_line

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PWN = '{{ sh "touch /tmp/pwned" }}\n'


@pytest.fixture
def tree(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    lib = tmp_path / "lib"
    lib.mkdir()
    return work, lib


def decide(tree, app="web", env=None, **kw):
    work, lib = tree
    if "image_reader" in kw:
        kw.setdefault("image_config", lambda image: {})   # an image with no labels or ONBUILD
    return deployguard.decide(app, str(work), env or {}, str(lib), **kw)


def prop(lib, plugin, scope, key, value):
    d = lib / "config" / plugin / scope
    d.mkdir(parents=True, exist_ok=True)
    (d / key).write_text(value)


def test_a_plain_tree_passes(tree):
    work, lib = tree
    (work / "CHECKS").write_text("WAIT=5\n/health ok\n")
    (work / "app.json").write_text(json.dumps(APP_JSON))
    (work / "Dockerfile").write_text("FROM debian:bookworm\n")
    assert decide(tree) is None


APP_JSON = {"name": "web", "scripts": {"dokku": {"predeploy": "rake db:migrate"}},
            "env": {"NODE_ENV": "production", "SECRET_KEY_BASE": {"generator": "secret"},
                    "GREETING": {"value": "hello world", "required": False}},
            "healthchecks": {"web": [{"type": "startup", "name": "up", "path": "/health", "attempts": 3}]},
            "cron": [{"command": "rake cleanup", "schedule": "@daily"}, {"command": "x", "schedule": "*/5 1-3 * * MON-FRI"}],
            "formation": {"web": {"quantity": 2}, "worker_2": {"quantity": 1}}}


@pytest.mark.parametrize("text, why", [
    ({"healthchecks": {"web": [{"type": "startup", "command": ["false"],
                                "onFailure": {"command": ["/bin/sh", "-c", "id > /root/owned"]}}]}},
     "has a healthcheck onFailure, which docker-container-healthchecker runs on the host as root"),
    ({"healthchecks": {"web": [{"ONFAILURE": {"url": "http://169.254.169.254/"}}]}}, "has a healthcheck onFailure"),
    ({"env": {"BASH_ENV": "/var/lib/dokku/data/ps/web/Procfile"}}, "env sets 'BASH_ENV', a config key a member may not set"),
    ({"Env": {"DOKKU_GLOBAL_RUN_ARGS": "--privileged -v /:/host"}}, "env sets 'DOKKU_GLOBAL_RUN_ARGS'"),
    ({"env": {"SIGIL_DELIMS": {"value": "[[,]]"}}}, "env sets 'SIGIL_DELIMS'"),
    ({"env": {"A": {"value": "x\\'; id; #"}}}, "env A has a value config:set would refuse"),
    ({"env": {"A": 5}}, "env A is neither a string nor an object"),
    ('{"env": {"A": "1"}, "env": {"LD_PRELOAD": "/tmp/x.so"}}', "env sets 'LD_PRELOAD'"),
    ('// jsonc\n{"name": "web"}', "cannot be read as plain JSON"),
    ({"formation": {"x;id>/tmp/owned;#": {"quantity": 1}}}, "formation names 'x;id>/tmp/owned;#', which is not a process type"),
    ({"healthchecks": {"web;id": []}}, "healthchecks names 'web;id', which is not a process type"),
    ({"healthchecks": {"web": [{"type": "startup", "path": "@127.0.0.1:2375/containers/json", "port": 80}]}},
     "a healthcheck path '@127.0.0.1:2375/containers/json' is not a plain /path"),
    ({"healthchecks": {"web": [{"Path": "/x y"}]}}, "a healthcheck path '/x y' is not a plain /path"),
    ({"healthchecks": {"web": [{"scheme": "file"}]}}, "a healthcheck scheme is not http or https"),
    ({"cron": [{"command": "true", "schedule": "@every 1h"}]}, "a cron schedule '@every 1h' is not one the host's cron reads"),
    ({"cron": [{"command": "true", "schedule": "0 0 ? * *"}]}, "a cron schedule '0 0 ? * *'"),
    ({"cron": [{"command": "true", "schedule": "TZ=UTC * * * * *"}]}, "a cron schedule 'TZ=UTC * * * * *'"),
])
def test_app_json_that_reaches_the_host_is_refused(tree, text, why):
    work, lib = tree
    (work / "app.json").write_text(text if isinstance(text, str) else json.dumps(text))
    assert decide(tree).message().startswith("deploy refused by the deploy guard: app.json: " + why)
    # the same from the configured path, and from a source image
    prop(lib, "app-json", "web", "appjson-path", "/deploy/app.json\n")
    (work / "deploy").mkdir()
    os.rename(str(work / "app.json"), str(work / "deploy" / "app.json"))
    assert "'deploy/app.json': " + why in decide(tree).message()
    prop(lib, "git", "web", "source-image", "registry.example.com/team/web:1")
    data = (work / "deploy" / "app.json").read_bytes()
    assert "'deploy/app.json' in the image: " + why in decide(
        tree, image_reader=lambda image, paths: {"deploy/app.json": data}).message()


def test_an_empty_app_json_is_no_app_json(tree):
    (tree[0] / "app.json").write_text(" \n")
    assert decide(tree) is None


@pytest.mark.parametrize("path", ["openresty/http-includes", "openresty/http-location-includes"])
def test_openresty_includes_are_refused_in_the_tree_and_the_image(tree, path):
    work, lib = tree
    (work / path).mkdir(parents=True)
    assert decide(tree).message() == ("deploy refused by the deploy guard: %s: %s" % (path, deployguard.INCLUDES_WHY))
    prop(lib, "git", "web", "source-image", "registry.example.com/team/web:1")
    assert decide(tree, image_reader=lambda image, paths: {}) is None
    assert deployguard.INCLUDES_WHY in decide(tree, image_reader=lambda image, paths: {path: b""}).message()


def test_any_nginx_template_is_refused(tree):
    (tree[0] / "nginx.conf.sigil").write_text('{{ range $l := $.DOKKU_APP_WEB_LISTENERS | split " " }}'
                                              'server {{ $l }};{{ end }}\n')
    assert decide(tree).message() == ("deploy refused by the deploy guard: nginx.conf.sigil: is an nginx template,"
                                      " which nginx reads as root: `dokku-teams app:trust APP` once an admin has"
                                      " read it")


@pytest.mark.parametrize("name", ["CHECKS"])
def test_sh_in_a_template_is_refused_with_file_line_and_function(tree, name):
    work, unused = tree
    (work / name).write_text("/health ok\n" + PWN)
    refusal = decide(tree)
    assert refusal.message() == ("deploy refused by the deploy guard: %s line 2: calls sh, which runs a "
                                 "program on the host" % name)


@pytest.mark.parametrize("text, function", [('{{ include "/etc/passwd" }}', "include"),
                                            ('{{ file "/etc/shadow" }}', "file")])
def test_host_paths_are_refused(tree, text, function):
    (tree[0] / "CHECKS").write_text(text)
    assert "calls %s, which reads a host file" % function in decide(tree).message()


def test_the_configured_nginx_template_path_is_the_one_checked(tree):
    work, lib = tree
    prop(lib, "nginx", "web", "nginx-conf-sigil-path", "deploy/nginx.tmpl\n")
    (work / "deploy").mkdir()
    (work / "deploy" / "nginx.tmpl").write_text("server {}\n")
    assert "'deploy/nginx.tmpl': is an nginx template" in decide(tree).message()
    os.rename(str(work / "deploy" / "nginx.tmpl"), str(work / "nginx.conf.sigil"))
    assert decide(tree) is None    # Dokku copies only the configured path


def test_sigil_delims_from_the_app_config_are_followed(tree):
    work, lib = tree
    (work / "CHECKS").write_text('[[ sh "id" ]]\n')
    assert decide(tree) is None
    env_dir = lib / "config" / "web"
    env_dir.mkdir(parents=True)
    (env_dir / "ENV").write_text('SIGIL_DELIMS="[[,]]"\n')
    assert "calls sh" in decide(tree).message()
    assert "calls sh" in decide(tree, env={"SIGIL_DELIMS": "[[,]]"}).message()


def test_a_template_linking_out_of_the_tree_is_refused(tree):
    work, unused = tree
    os.symlink("/etc/passwd", str(work / "nginx.conf.sigil"))
    assert decide(tree).message() == ("deploy refused by the deploy guard: nginx.conf.sigil: is a link out "
                                      "of the source tree")


@pytest.mark.parametrize("text", ["FROM dokku/other\n", "FROM debian\nCOPY --from=dokku/other:latest /a /b\n",
                                  "ARG B=dokku/other\nFROM ${B}\n"])
def test_other_apps_images_are_refused(tree, text):
    (tree[0] / "Dockerfile").write_text(text)
    assert "is another app's image" in decide(tree).message()


def test_own_image_and_configured_dockerfile_path(tree):
    work, lib = tree
    (work / "Dockerfile").write_text("FROM dokku/web:latest\n")
    assert decide(tree) is None
    prop(lib, "builder-dockerfile", "--global", "dockerfile-path", "docker/prod.Dockerfile")
    (work / "docker").mkdir()
    (work / "docker" / "prod.Dockerfile").write_text("FROM debian\nFROM dokku/other AS x\n")
    assert "'docker/prod.Dockerfile' line 2: FROM 'dokku/other' is another app's image" in decide(tree).message()


def test_image_deploys_read_the_templates_from_the_source_image(tree):
    work, lib = tree
    prop(lib, "git", "web", "source-image", "registry.example.com/team/web:1")
    (work / "Dockerfile").write_text("FROM registry.example.com/team/web:1\n")
    (work / "CHECKS").write_text(PWN)  # not what Dokku reads for an image deploy
    asked = []

    def reader(image, paths):
        asked.append((image, paths))
        return {"CHECKS": b"/health ok\n", "nginx.conf.sigil": None}

    assert decide(tree, image_reader=reader) is None
    assert asked == [("registry.example.com/team/web:1", ["CHECKS", "nginx.conf.sigil", "app.json",
                                                          "openresty/http-includes", "openresty/http-location-includes"])]
    refusal = decide(tree, image_reader=lambda image, paths: {"CHECKS": PWN.encode()})
    assert refusal.message() == ("deploy refused by the deploy guard: CHECKS in the image line 1: calls sh, "
                                 "which runs a program on the host")


def test_a_source_image_of_another_app_is_refused(tree):
    prop(tree[1], "git", "web", "source-image", "docker.io/dokku/other:2")
    refusal = decide(tree, image_reader=lambda image, paths: {})
    assert refusal.message() == "deploy refused by the deploy guard: source image: 'docker.io/dokku/other:2' is another app's image"


def test_image_files_are_joined_like_dokku(tmp_path):
    import tarfile
    path = tmp_path / "t.tar"
    with tarfile.open(str(path), "w") as archive:
        for name, data in (("CHECKS", b'{{ sh "id" }}'),):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        archive.addfile(link)
    assert imagefiles.concatenated(path.read_bytes()) == b'{{ sh "id" }}'
    with pytest.raises(deployguard.ImageReadError):
        imagefiles.concatenated(b"not a tar" * 100)


FAKE_DOCKER = r'''#!/usr/bin/env python3
import io, sys, tarfile
args = sys.argv[1:]
files = {"/app/CHECKS": b'{{ sh "touch /tmp/pwned" }}\n'}
if args[:2] == ["image", "inspect"]:
    ref = args[-1]
    if ref == "registry.example.com/x/app:1":
        if "WorkingDir" in args[3]:
            print('"/app"')
        else:
            print('["registry.example.com/x/app:1"]\t["registry.example.com/x/app@sha256:' + "a" * 64 + '"]')
        sys.exit(0)
    sys.stderr.write("Error: No such image: %s\n" % ref)
    sys.exit(1)
if args[:2] == ["container", "create"]:
    print("0123abcd")
elif args[:2] == ["container", "cp"]:
    path = args[2].split(":", 1)[1]
    if path not in files:
        sys.stderr.write("Error: No such container:path: 0123abcd:%s\n" % path)
        sys.exit(1)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(path.rsplit("/", 1)[1]); info.size = len(files[path])
        t.addfile(info, io.BytesIO(files[path]))
    sys.stdout.buffer.write(buf.getvalue())
'''


def test_the_docker_reader_against_a_fake_engine(tree, tmp_path):
    docker = tmp_path / "docker"
    docker.write_text(FAKE_DOCKER.replace("#!/usr/bin/env python3", "#!" + sys.executable))
    docker.chmod(0o755)
    engine = imagefiles.Docker(str(docker))
    assert engine.inspect("nosuch:1") is None
    assert engine.read("web", "nosuch:1", ["CHECKS"]) == {"CHECKS": None}   # like Dokku: nothing copied
    assert engine.inspect("registry.example.com/x/app:1")[1]
    found = engine.read("web", "registry.example.com/x/app:1", ["CHECKS", "nginx.conf.sigil"])
    assert found == {"CHECKS": b'{{ sh "touch /tmp/pwned" }}\n', "nginx.conf.sigil": None}
    # git:from-image of a registry image that carries such a CHECKS
    prop(tree[1], "git", "web", "source-image", "registry.example.com/x/app:1")
    (tree[0] / "Dockerfile").write_text("FROM registry.example.com/x/app:1\n")
    refusal = decide(tree, image_reader=lambda image, paths: engine.read("web", image, paths),
                     inspect=engine.inspect)
    assert "CHECKS in the image line 1: calls sh" in refusal.message()


# ---------------------------------------------------------------- the program and trust

def guard_doc(tmp_path, admins=(), trusted=()):
    d = tmp_path / "state-guard"
    d.mkdir(exist_ok=True)
    (d / "guard.json").write_text(json.dumps({"version": 1, "admins": list(admins), "trusted": list(trusted)}))
    os.chmod(str(d / "guard.json"), 0o640)
    return str(d / "guard.json")


def run_guard(tmp_path, work, name, doc_path, app="web"):
    out, err = io.StringIO(), io.StringIO()
    env = {"NAME": name} if name is not None else {}
    env["DOKKU_LIB_ROOT"] = str(tmp_path / "lib")
    code = guard.run(["--guard-file", doc_path, app, str(work), "rev"], env, owner_uid=os.geteuid(),
                     image_reader=lambda i, p: {}, inspect=lambda r: None, out=out, err=err,
                     image_config=lambda i: {})
    return code, out.getvalue(), err.getvalue()


def test_the_program_checks_every_deploy_but_a_trusted_apps(tree, tmp_path):
    work, unused = tree
    (work / "CHECKS").write_text(PWN)
    doc = guard_doc(tmp_path, admins=["root-admin"], trusted=["legacy"])
    refused = ["!     deploy refused by the deploy guard: CHECKS line 1: calls sh, which runs a program on the host"]
    # a member's push, an admin's rebuild of content a member planted, the host's own rebuild
    for name in ("alice", "root-admin", None):
        code, out, err = run_guard(tmp_path, work, name, doc)
        assert (code, out, err.splitlines()) == (1, "", refused), name
    assert run_guard(tmp_path, work, "alice", doc, app="legacy")[:2] == (
        0, "-----> Deploy guard: not checked (app legacy is trusted)\n")


def test_an_untrustworthy_guard_file_means_nobody_passes(tree, tmp_path):
    work, unused = tree
    (work / "CHECKS").write_text(PWN)
    doc = guard_doc(tmp_path, trusted=["web"])
    assert run_guard(tmp_path, work, "alice", doc)[0] == 0
    os.chmod(doc, 0o666)
    assert run_guard(tmp_path, work, "alice", doc)[0] == 1
    os.chmod(doc, 0o640)
    with open(doc, "w") as f:
        f.write("{not json")
    assert run_guard(tmp_path, work, "alice", doc)[0] == 1
    assert run_guard(tmp_path, work, "alice", str(tmp_path / "missing.json"))[0] == 1


def test_trust_is_kept_across_state_changes_and_the_earlier_format_is_read(tmp_path):
    state_dir = tmp_path / "state"
    store = Store(str(state_dir))
    store.init()
    with pytest.raises(Exception, match="deploy guard is not installed"):
        guardfile.set_trust(str(state_dir), "legacy", True)
    os.mkdir(guardfile.directory(str(state_dir)), 0o750)
    guardfile.set_trust(str(state_dir), "legacy", True)
    with store.transaction() as tx:
        tx.state["teams"]["dokku@admin"]["members"] = ["boss"]
        tx.state["users"]["boss"] = {"keys": [ed25519_line()], "from": []}
    path = guardfile.path(str(state_dir))
    assert json.loads(open(path).read()) == {"version": 1, "trusted": ["legacy"]}
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    # a file from before admins' deploys were checked too: its trust holds, its admins go
    with open(path, "w") as handle:
        handle.write(json.dumps({"version": 1, "admins": ["boss"], "trusted": ["legacy", "shop"]}))
    assert guardfile.read(path, os.geteuid()) == {"version": 1, "trusted": ["legacy", "shop"]}
    with open(path, "w") as handle:
        handle.write(json.dumps({"version": 1, "admins": ["Not A User"], "trusted": ["legacy"]}))
    assert guardfile.read(path, os.geteuid()) == guardfile.EMPTY
    guardfile.set_trust(str(state_dir), "legacy", False)
    assert guardfile.read(path, os.geteuid())["trusted"] == []


def test_cli_trust_verbs_are_audited(tmp_path):
    state_dir = tmp_path / "state"
    Store(str(state_dir)).init()
    os.mkdir(guardfile.directory(str(state_dir)), 0o750)
    log = tmp_path / "audit.log"
    cli = [sys.executable, "-IS", os.path.join(REPO, "bin", "entry.py"), "dokku-teams", "--state-dir", str(state_dir)]
    r = subprocess.run(cli + ["app:trust", "legacy", "--log", str(log)], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "no longer checks legacy" in r.stdout, r.stderr
    r = subprocess.run(cli + ["app:trusted", "--format", "json"], capture_output=True, text=True, check=False)
    assert json.loads(r.stdout) == ["legacy"]
    line = json.loads(log.read_text().splitlines()[-1])
    assert (line["pseudo"], line["apps"], line["decision"]) == ("app:trust", ["legacy"], "allow")
    r = subprocess.run(cli + ["app:trust", "Bad_App", "--log", str(log)], capture_output=True, text=True, check=False)
    assert r.returncode == 65 and len(r.stderr.splitlines()) == 1, r.stderr
    r = subprocess.run(cli + ["app:untrust", "legacy", "--log", str(log)], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and len(log.read_text().splitlines()) == 2


def test_the_launcher_starts_the_guard(tmp_path):
    r = subprocess.run([os.path.join(REPO, "bin", "dokku-teams-deploy-guard")], capture_output=True, text=True, check=False)
    assert r.returncode == 64 and r.stderr.startswith("!     usage: deploy-guard")


def test_build_dir_is_where_the_files_come_from(tree):
    work, lib = tree
    prop(lib, "builder", "web", "build-dir", "/sub/")
    (work / "CHECKS").write_text("/health ok\n")
    (work / "sub").mkdir()
    (work / "sub" / "CHECKS").write_text(PWN)
    assert "CHECKS line 1: calls sh" in decide(tree).message()
    (work / "sub" / "CHECKS").write_text("/ ok\n")
    (work / "sub" / "Dockerfile").write_text("FROM dokku/other\n")
    assert "FROM 'dokku/other'" in decide(tree).message()


def test_a_build_dir_linking_out_of_the_tree_is_refused(tree, tmp_path):
    work, lib = tree
    prop(lib, "builder", "web", "build-dir", "sub")
    os.symlink(str(tmp_path), str(work / "sub"))
    assert decide(tree).message() == ("deploy refused by the deploy guard: build-dir 'sub': is a link out of "
                                      "the source tree")


def test_labels_of_the_dockerfile_and_the_source_image_are_checked(tree):
    work, lib = tree
    (work / "Dockerfile").write_text("FROM debian\nLABEL traefik.http.routers.x.rule=Host(`other.example.com`)\n")
    assert "Dockerfile line 2: " in decide(tree).message()
    # an image deploy: the Dockerfile git-from-image writes, then the source image's own labels
    image = "registry.example.com/team/web:1"
    prop(lib, "git", "web", "source-image", image)
    # exactly as plugins/git/git-from-image:26-27 writes it
    (work / "Dockerfile").write_text('FROM %s\nLABEL com.dokku.docker-image-labeler/alternate-tags=[\\"%s\\"]\n'
                                     % (image, image))
    assert decide(tree, image_reader=lambda i, p: {}) is None
    refusal = decide(tree, image_reader=lambda i, p: {}, image_config=lambda i: {"Labels": {"caddy": "other.example.com"}})
    assert refusal.message().startswith("deploy refused by the deploy guard: source image: ")
    refusal = decide(tree, image_reader=lambda i, p: {},
                     image_config=lambda i: {"OnBuild": ["COPY --from=dokku/other:latest /app/.env /x"]})
    assert refusal.message() == ("deploy refused by the deploy guard: source image: has ONBUILD triggers, which run in"
                                 " the app's build and are not checked here")

    def unreadable(image):
        raise deployguard.ImageReadError("docker image inspect answered something unreadable")
    assert "its files cannot be read" in decide(tree, image_reader=lambda i, p: {}, image_config=unreadable).message()
    assert "cannot be inspected here" in deployguard.decide("web", str(work), {}, str(lib),
                                                            image_reader=lambda i, p: {}).message()
