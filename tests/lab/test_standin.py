"""Unit tests for the lab's Dokku stand-in (tests/lab/dokku.py).  No lab, no root needed.

DOKKU_STANDIN_ROOT moves the stand-in's apps, call log and plugin directory into a temp dir.
"""
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "dokku.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.fixture
def root(tmp_path):
    return tmp_path / "standin"


def dokku(root, *args, input=None, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOKKU_STANDIN_ROOT": str(root),
         "HOME": str(root), "LC_ALL": "C.UTF-8"}
    e.update(env or {})
    return subprocess.run([PYTHON, STANDIN, *args], input=input, env=e, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)


def calls(root):
    with open(root / "log" / "calls.jsonl") as f:
        return [json.loads(line) for line in f]


def test_version(root):
    r = dokku(root, "version")
    assert (r.returncode, r.stdout) == (0, "dokku version 0.38.0\n")


def test_records_every_call(root):
    dokku(root, "version")
    dokku(root, "apps:list", env={"NAME": "alice", "FINGERPRINT": "SHA256:x"})
    log = calls(root)
    assert [c["argv"][1:] for c in log] == [["version"], ["apps:list"]]
    last = log[-1]
    for field in ("time", "pid", "argv", "uid", "gid", "euid", "egid", "groups", "user",
                  "cwd", "env", "stdin_isatty"):
        assert field in last
    assert last["uid"] == os.getuid() and last["euid"] == os.geteuid()
    assert last["env"]["NAME"] == "alice" and last["env"]["FINGERPRINT"] == "SHA256:x"
    assert isinstance(last["groups"], list)


def test_apps_lifecycle(root):
    assert dokku(root, "apps:create", "web").returncode == 0
    r = dokku(root, "apps:create", "web")
    assert r.returncode == 1 and r.stderr == "!     Name is already taken\n"
    assert dokku(root, "apps:create", "api").returncode == 0
    r = dokku(root, "apps:list")
    assert r.stdout == "=====> My Apps\napi\nweb\n"
    assert json.loads(dokku(root, "apps:list", "--format", "json").stdout) == ["api", "web"]
    assert dokku(root, "apps:exists", "web").returncode == 0
    r = dokku(root, "apps:exists", "nope")
    assert r.returncode == 1 and r.stderr == "!     App nope does not exist\n"
    assert dokku(root, "apps:rename", "web", "www").returncode == 0
    assert dokku(root, "apps:clone", "www", "www2").returncode == 0
    r = dokku(root, "apps:clone", "www", "api")
    assert r.returncode == 1 and "Name is already taken" in r.stderr
    assert json.loads(dokku(root, "apps:list", "--format=json").stdout) == ["api", "www", "www2"]
    assert dokku(root, "apps:destroy", "--force", "www2").returncode == 0
    r = dokku(root, "apps:destroy", "api", input="wrong\n")
    assert r.returncode == 1 and "Confirmation did not match api" in r.stderr
    assert dokku(root, "apps:destroy", "api", input="api\n").returncode == 0
    assert dokku(root, "--force", "apps:destroy", "www").returncode == 0
    assert json.loads(dokku(root, "apps:list", "--format", "json").stdout) == []


def test_bad_app_name(root):
    r = dokku(root, "apps:create", "Bad_Name")
    assert r.returncode == 1 and r.stderr.startswith("!     App name must begin")


def test_missing_app_is_dokkus_error(root):
    for argv in (["config:set", "nope", "A=1"], ["ps:restart", "--parallel", "2", "nope"],
                 ["logs", "-n", "100", "nope"], ["git:load-image", "nope", "dokku/nope:1"],
                 ["ps:report", "nope"]):
        r = dokku(root, *argv)
        assert (r.returncode, r.stderr) == (1, "!     App nope does not exist\n"), argv


def test_known_command_on_existing_app_prints_one_line(root):
    dokku(root, "apps:create", "web")
    r = dokku(root, "config:set", "--no-restart", "web", "A=1")
    assert r.returncode == 0 and r.stdout.count("\n") == 1
    assert "config:set --no-restart web A=1" in r.stdout
    r = dokku(root, "--app", "web", "ps:restart")
    assert r.returncode == 0 and "ps:restart web" in r.stdout
    assert dokku(root, "plugin:list").returncode == 0
    assert dokku(root, "ps:report").returncode == 0  # app optional


def test_unknown_command(root):
    r = dokku(root, "frobnicate:now", "web")
    assert r.returncode == 1 and "`frobnicate:now` is not a dokku command." in r.stderr


def test_plugin_dispatch(root):
    sub = root / "plugins" / "enabled" / "teams" / "subcommands"
    sub.mkdir(parents=True)
    script = sub / "default"
    script.write_text("#!/bin/sh\necho \"teams-plugin $0 $*\"\nexit 3\n")
    script.chmod(0o755)
    r = dokku(root, "teams:create", "ops")
    assert r.returncode == 3
    assert r.stdout == "teams-plugin %s teams:create ops\n" % script
    verb = sub / "whoami"
    verb.write_text("#!/bin/sh\necho \"whoami $*\"\n")
    verb.chmod(0o755)
    r = dokku(root, "teams:whoami")
    assert (r.returncode, r.stdout) == (0, "whoami teams:whoami\n")


def test_load_image_without_engine_fails_clearly(root, tmp_path):
    dokku(root, "apps:create", "web")
    r = dokku(root, "git:load-image", "web", "dokku/web:1", input="",
              env={"DOCKER_HOST": "unix://%s/none.sock" % tmp_path})
    assert r.returncode == 1 and "no Docker engine" in r.stderr


def fake_ssh(tmp_path, root):
    """An `ssh` for git that runs the remote command the way sshcommand does: word-split,
    quotes NOT removed (`git-receive-pack 'web'` reaches Dokku with the quotes)."""
    path = tmp_path / "fake-ssh"
    path.write_text("#!%s\nimport os, sys\nwords = sys.argv[-1].split()\n"
                    "os.execv(%r, [%r, %r] + words)\n" % (PYTHON, PYTHON, PYTHON, STANDIN))
    path.chmod(0o755)
    return str(path)


def test_git_push_and_clone(root, tmp_path):
    assert shutil.which("git"), "git is not installed (make test installs it)"
    src = tmp_path / "src"
    src.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", DOKKU_STANDIN_ROOT=str(root),
               GIT_SSH_COMMAND=fake_ssh(tmp_path, root))

    def git(*a, cwd=src):
        return subprocess.run(["git", *a], cwd=cwd, env=env, text=True, timeout=60,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)

    assert git("init", "-q", "-b", "main").returncode == 0
    (src / "README").write_text("hello\n")
    git("add", "README")
    assert git("commit", "-q", "-m", "first").returncode == 0
    r = git("push", "dokku@lab:newapp", "main")
    assert r.returncode == 0, r.stderr
    assert json.loads(dokku(root, "apps:list", "--format", "json").stdout) == ["newapp"]
    argv = [c["argv"][1:] for c in calls(root) if c["argv"][1:2] == ["git-receive-pack"]]
    assert argv == [["git-receive-pack", "'newapp'"]]
    r = git("push", "dokku@lab:/newapp", "main:other")  # leading slash stripped
    assert r.returncode == 0, r.stderr
    r = git("clone", "-q", "-b", "main", "dokku@lab:newapp", str(tmp_path / "back"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back" / "README").read_text() == "hello\n"
    r = git("clone", "-q", "dokku@lab:missing", str(tmp_path / "m"), cwd=tmp_path)
    assert r.returncode != 0 and "App missing does not exist" in r.stderr


def test_log_is_created_writable_for_all(root):
    dokku(root, "version")
    mode = stat.S_IMODE(os.stat(root / "log" / "calls.jsonl").st_mode)
    assert mode == 0o666


def hook(root, plugin, name, text, mode=0o755):
    path = root / "plugins" / "enabled" / plugin / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def test_user_auth_hooks_run_in_order_and_the_first_failure_denies(root):
    # 20_skip's hook is not executable: skipped, and (unlike core-post-extract) without a warning.
    hook(root, "10_deny", "user-auth", '#!/bin/sh\n[ "$2" != mallory ]\n')
    hook(root, "20_skip", "user-auth", "#!/bin/sh\nexit 1\n", mode=0o644)
    hook(root, "30_trace", "user-auth", '#!/bin/sh\necho "$2 $3 $4" >> "$HOME/auth.log"\n')
    r = dokku(root, "apps:create", "web", env={"NAME": "alice"})
    assert (r.returncode, r.stderr) == (0, "")
    r = dokku(root, "apps:create", "api", env={"NAME": "mallory"})
    assert (r.returncode, r.stderr) == (1, "!     Access denied\n")
    assert (root / "auth.log").read_text() == "alice apps:create web\n"
    assert json.loads(dokku(root, "apps:list", "--format", "json").stdout) == ["web"]


def test_user_auth_app_lists_what_its_hooks_print(root):
    for app in ("api", "web", "www"):
        assert dokku(root, "apps:create", app).returncode == 0
    hook(root, "10_filter", "user-auth-app", '#!/bin/sh\nshift 2\nfor a; do [ "$a" = api ] || echo "$a"; done\n')
    assert dokku(root, "apps:list").stdout == "=====> My Apps\nweb\nwww\n"
    assert dokku(root, "apps:exists", "web").returncode == 0
    assert dokku(root, "apps:exists", "api").returncode == 1
