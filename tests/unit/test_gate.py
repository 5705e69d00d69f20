# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real gate process (``bin/dokku-teams-gate``) against a temporary state, config and a
recording stand-in for dokku/docker/docker-over-ssh.

As root (CI, the dev machines) the gate really drops to ``nobody`` and the stand-in records
the ids it runs with; as an ordinary user the config says ``drop_privileges=false``.
"""

import hashlib
import io
import json
import os
import subprocess
import tarfile
import time

import pytest

import gate_helpers as H
import tarcraft
from module_utils import imagearchive

# Variables a hostile or careless caller may set: none may reach the target.
HOSTILE_ENV = {
    "LC_ALL": "xx_XX.bogus", "LANG": "xx_XX", "TERM": "xterm-evil", "DOKKU_ROOT": "/tmp/evil",
    "BASH_ENV": "/tmp/evil.sh", "PATH": "/tmp/evil-bin:/usr/bin:/bin", "GIT_DIR": "/tmp/evil.git",
    "GIT_EXEC_PATH": "/tmp/evil", "GIT_CONFIG_PARAMETERS": "'core.hooksPath=/tmp'",
    "PYTHONPATH": "/tmp/evil", "HOME": "/root", "DOKKU_TRACE": "1", "ENV": "/tmp/evil",
}


@pytest.fixture
def world():
    w = H.World()
    w.fp = {}
    w.fp["alice"] = w.add_user("alice")
    w.fp["bob"] = w.add_user("bob")
    w.fp["olivia"] = w.add_user("olivia")
    w.fp["root-admin"] = w.add_user("root-admin")
    w.fp["carol"] = w.add_user("carol")
    w.admin("root-admin")
    w.team("web", members=["alice"], owners=["olivia"],
           commands=["git-*", "apps:list", "apps:create", "apps:rename", "config:*", "ps:*", "logs",
                     "version", "docker:*", "tags:deploy", "git:from-image", "git:load-image", "postgres:*"],
           apps=["web", "api"], services=[{"type": "postgres", "name": "web-db"}])
    yield w
    w.cleanup()


def assert_target_identity(call):
    uid, gid, groups = H.expected_identity()
    assert call["resuid"] == [uid, uid, uid]
    assert call["resgid"] == [gid, gid, gid]
    if groups is not None:
        assert call["groups"] == groups


def expected_env(w, user):
    return {"NAME": user, "FINGERPRINT": w.fp[user], "PATH": w.path, "HOME": w.home, "LC_ALL": "C.UTF-8",
            "DOKKU_TEAMS_GATE": "1"}


def assert_one_escaped_line(before, after):
    assert len(after) == len(before) + 1, (before, after)
    line = after[-1]
    assert all(0x20 <= byte < 0x7F for byte in line), line
    return json.loads(line)


# ---------------------------------------------------------------------------------------------
# Accepted forms: exactly the expected argv, environment and identity


ACCEPTED = [
    ("dokku config:show web", "dokku", ["config:show", "web"]),
    ("config:show web", "dokku", ["config:show", "web"]),
    ("--app web config:show", "dokku", ["config:show", "web"]),
    ("dokku --app web ps:restart", "dokku", ["ps:restart", "web"]),
    ("config:set web \"GREETING=hello world\"", "dokku", ["config:set", "web", "GREETING=hello world"]),
    ("config:set --no-restart web 'A=1'", "dokku", ["config:set", "--no-restart", "web", "A=1"]),
    ("ps:restart --parallel 2 web", "dokku", ["ps:restart", "--parallel", "2", "web"]),
    ("logs -n 100 -t web", "dokku", ["logs", "-n", "100", "-t", "web"]),
    ("git-upload-pack 'web'", "dokku", ["git-upload-pack", "'web'"]),
    ("git-upload-pack '/web'", "dokku", ["git-upload-pack", "'web'"]),
    ("git-upload-pack web", "dokku", ["git-upload-pack", "'web'"]),
    ("git:from-image web dokku/web:v1", "dokku", ["git:from-image", "web", "dokku/web:v1"]),
    ("git:from-image web registry.example.com:5000/team/web:v1", "dokku",
     ["git:from-image", "web", "registry.example.com:5000/team/web:v1"]),
    ("docker-over-ssh pull dokku/web:v1", "docker-over-ssh", ["pull", "dokku/web:v1"]),
    ("docker tag dokku/web:v1 dokku/api:v1", "docker", ["tag", "dokku/web:v1", "dokku/api:v1"]),
    ("docker version", "docker", ["version"]),
    ("version", "dokku", ["version"]),
    ("dokku version", "dokku", ["version"]),
    ("tags:deploy web v1", "dokku", ["tags:deploy", "web", "v1"]),
    ("postgres:info web-db", "dokku", ["postgres:info", "web-db"]),
]


@pytest.mark.parametrize("command,program,args", ACCEPTED)
def test_accepted_form_execs_exact_argv_env_and_user(world, command, program, args):
    world.init_repo("web")
    result = world.run("alice", world.fp["alice"], command, extra_env=HOSTILE_ENV)
    if command.startswith("git-upload-pack"):
        # the real git upload-pack runs; with no client on stdin it ends with 128
        assert result.returncode in (0, 128), result.stderr
    else:
        assert result.returncode == 0, result.stderr
    calls = world.calls_made()
    assert len(calls) == 1
    call = calls[0]
    path = {"dokku": world.dokku, "docker": world.docker, "docker-over-ssh": world.dos}[program]
    assert call["argv"] == [path] + args
    assert call["env"] == expected_env(world, "alice")
    assert "SSH_ORIGINAL_COMMAND" not in call["env"]
    assert_target_identity(call)
    assert call["cwd"] == world.home
    record = world.audit_records()[-1]
    assert record["decision"] == "allow" and record["user"] == "alice" and record["client"] == "192.0.2.7"
    assert record["command"] == command and record["key"] == world.fp["alice"]


def test_admin_runs_anything_with_the_same_clean_environment(world):
    result = world.run("root-admin", world.fp["root-admin"], "apps:destroy --force other-app",
                       extra_env=HOSTILE_ENV)
    assert result.returncode == 0, result.stderr
    (call,) = world.calls_made()
    assert call["argv"] == [world.dokku, "apps:destroy", "--force", "other-app"]
    assert call["env"] == expected_env(world, "root-admin")
    assert_target_identity(call)


def test_target_exit_code_and_output_pass_through(world):
    world.settings["fail"] = ["config:show"]
    world.write_settings()
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 1
    assert b"fails on purpose" in result.stderr


def test_target_gets_default_sigpipe(world):
    """Python ignores SIGPIPE; an ignored signal survives exec. The gate restores it."""
    probe = os.path.join(world.bin, "docker")
    with open(probe, "w") as handle:
        handle.write("#!/bin/sh\ngrep '^SigIgn:' /proc/$$/status > %s/sigign\n" % world.rec_dir)
    os.chmod(probe, 0o755)
    result = world.run("alice", world.fp["alice"], "docker version")
    assert result.returncode == 0, result.stderr
    with open(os.path.join(world.rec_dir, "sigign")) as handle:
        mask = int(handle.read().split(":")[1].strip(), 16)
    assert not mask & (1 << (13 - 1)), "SIGPIPE is still ignored in the target"
    assert not mask & (1 << (25 - 1)), "SIGXFSZ is still ignored in the target"


# ---------------------------------------------------------------------------------------------
# Refusals: nothing runs, exactly one escaped audit line


REFUSED = [
    # (command bytes or None, exit code, message start)
    (b"config:show other-app", 77, b"!     App other-app does not exist"),
    (b"apps:destroy web", 77, b"!     You are not allowed to run apps:destroy"),
    (b"config:show web --global", 77, b"!     "),
    (b"apps:report", 77, b"!     "),
    (b"docker tag dokku/web:v1 dokku/other-app:v1", 77, b"!     App other-app does not exist"),
    (b"docker-over-ssh pull dokku/other-app:v1", 77, b"!     App other-app does not exist"),
    (b"postgres:info other-db", 77, b"!     Postgres service other-db does not exist"),
    (b"git:from-image web dokku/other-app:v1", 64, b"!     "),
    (b"git:from-image web docker.io/dokku/other-app:v1", 64, b"!     "),
    (b"git:from-image web debian:bookworm", 64, b"!     "),
    (b"teams:create newteam", 77, b"!     teams:create is restricted to admins"),
    (b"config:show web; rm -rf /", 64, b"!     "),
    (b"config:show web\nrm -rf /", 64, b"!     "),
    (b"config:show web\x01\x1b[31m", 64, b"!     "),
    (b"config:show w\xff\xfeeb", 64, b"!     "),
    (b"config:show $(id)", 64, b"!     "),
    (b"--trace config:show web", 64, b"!     "),
    (b"config:show web --", 64, b"!     "),
    (b"sh -c id", 77, b"!     "),
    (b"x" * 5000, 64, b"!     "),
    (None, 64, b"!     no shell access\n"),
    (b"   ", 64, b"!     no shell access\n"),
]


@pytest.mark.parametrize("raw,code,message", REFUSED)
def test_refusal_runs_nothing_and_writes_one_escaped_line(world, raw, code, message):
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], raw)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == b""
    assert result.stderr.startswith(message)
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
    assert all(0x20 <= byte < 0x7F for byte in result.stderr[:-1])
    if raw and len(raw) > 20:
        assert raw not in result.stderr
    assert world.calls_made() == []
    record = assert_one_escaped_line(before, world.audit_lines())
    assert record["decision"] == ("malformed" if code == 64 else "deny")
    assert record["code"] == code
    if raw is not None:
        assert record["command"] == raw[:4096].decode("utf-8", "backslashreplace") + ("..." if len(raw) > 4096 else "")


def test_unknown_user_and_revoked_key_are_denied(world):
    for user, key in (("mallory", world.fp["alice"]), ("alice", world.fp["bob"]),
                      ("alice", "SHA256:" + "A" * 43), ("../alice", world.fp["alice"])):
        before = world.audit_lines()
        result = world.run(user, key, "config:show web")
        assert result.returncode == 77
        assert result.stderr == b"!     this key is no longer authorised\n"
        assert world.calls_made() == []
        record = assert_one_escaped_line(before, world.audit_lines())
        assert record["decision"] == "deny"


def test_key_removed_from_state_is_refused_at_once(world):
    key_line = H.make_key("alice")[0]
    world.change(H.statelib.add_key, "alice", H.make_key("alice-2")[0])
    assert world.run("alice", world.fp["alice"], "config:show web").returncode == 0
    world.change(H.statelib.remove_key, "alice", key_line)
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 77 and b"no longer authorised" in result.stderr
    assert world.run("alice", H.key_fp("alice-2"), "config:show web").returncode == 0


# ---------------------------------------------------------------------------------------------
# Fail closed: unusable state, audit log or config


def _break_views_missing(w):
    os.rename(os.path.join(w.state_dir, "views"), os.path.join(w.root, "views.gone"))


def _break_state_missing(w):
    os.rename(w.state_dir, os.path.join(w.root, "state.gone"))


def _break_view_corrupt(w):
    with open(os.path.join(w.state_dir, "views", "alice.json"), "w") as handle:
        handle.write('{"version": 1, "user": "alice", "admin": tr')


def _break_view_symlink(w):
    path = os.path.join(w.state_dir, "views", "alice.json")
    os.rename(path, os.path.join(w.root, "alice.json"))
    os.symlink(os.path.join(w.root, "alice.json"), path)


def _break_view_version(w):
    path = os.path.join(w.state_dir, "views", "alice.json")
    with open(path) as handle:
        view = json.load(handle)
    view["version"] = 99
    with open(path, "w") as handle:
        json.dump(view, handle)


def _break_state_dir_group_writable(w):
    os.chmod(w.state_dir, 0o770)


def _break_views_dir_world_writable(w):
    os.chmod(os.path.join(w.state_dir, "views"), 0o777)


def _break_view_group_writable(w):
    os.chmod(os.path.join(w.state_dir, "views", "alice.json"), 0o620)


def _break_state_json_symlink(w):
    path = os.path.join(w.state_dir, "state.json")
    os.rename(path, os.path.join(w.root, "state.json"))
    os.symlink(os.path.join(w.root, "state.json"), path)


def _break_state_json_missing(w):
    os.unlink(os.path.join(w.state_dir, "state.json"))


def _break_state_dir_symlink(w):
    os.rename(w.state_dir, os.path.join(w.root, "real-state"))
    os.symlink(os.path.join(w.root, "real-state"), w.state_dir)


def _break_view_wrong_owner(w):
    os.chown(os.path.join(w.state_dir, "views", "alice.json"), 65534, -1)


def _break_state_json_truncated(w):
    os.truncate(os.path.join(w.state_dir, "state.json"), 0)


def _break_state_json_corrupt(w):
    path = os.path.join(w.state_dir, "state.json")
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:      # same size, same inode: only the content and mtime differ
        handle.write(b"#" * min(size, 16))


def _break_state_json_replaced(w):
    path = os.path.join(w.state_dir, "state.json")
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    with open(path, "wb") as handle:       # the same bytes in a file the writers never wrote
        handle.write(data)
    os.chmod(path, 0o600)


def _break_seal_missing(w):
    os.unlink(os.path.join(w.state_dir, "state.seal"))


STATE_BREAKS = [_break_state_json_truncated, _break_state_json_corrupt, _break_state_json_replaced,
                _break_seal_missing, _break_views_missing, _break_state_missing, _break_view_corrupt, _break_view_symlink,
                _break_view_version, _break_state_dir_group_writable, _break_views_dir_world_writable,
                _break_view_group_writable, _break_state_json_symlink, _break_state_json_missing,
                _break_state_dir_symlink]
if H.IS_ROOT:
    STATE_BREAKS.append(_break_view_wrong_owner)


@pytest.mark.parametrize("breakage", STATE_BREAKS, ids=lambda f: f.__name__[7:])
def test_unusable_state_refuses_everything(world, breakage):
    breakage(world)
    for user, command in (("alice", "config:show web"), ("alice", "teams:whoami"), ("alice", "version")):
        before = world.audit_lines()
        result = world.run(user, world.fp[user], command)
        assert result.returncode == 75, result.stderr
        assert result.stderr.startswith(b"!     ") and result.stderr.count(b"\n") == 1
        assert b"Traceback" not in result.stderr
        record = assert_one_escaped_line(before, world.audit_lines())
        assert record["decision"] == "error" and record["code"] == 75
    assert world.calls_made() == []


def _audit_is_directory(w):
    os.mkdir(w.audit_log)


def _audit_is_symlink(w):
    target = os.path.join(w.root, "elsewhere.log")
    open(target, "w").close()
    os.chmod(target, 0o600)
    os.symlink(target, w.audit_log)


def _audit_group_writable(w):
    open(w.audit_log, "w").close()
    os.chmod(w.audit_log, 0o660)


def _audit_dir_missing(w):
    os.rmdir(w.log_dir)


def _audit_wrong_owner(w):
    open(w.audit_log, "w").close()
    os.chmod(w.audit_log, 0o600)
    os.chown(w.audit_log, 65534, -1)


AUDIT_BREAKS = [_audit_is_directory, _audit_is_symlink, _audit_group_writable, _audit_dir_missing]
if H.IS_ROOT:
    AUDIT_BREAKS.append(_audit_wrong_owner)


@pytest.mark.parametrize("breakage", AUDIT_BREAKS, ids=lambda f: f.__name__[7:])
def test_unwritable_audit_log_refuses_everything(world, breakage):
    breakage(world)
    for command in ("config:show web", "config:show other-app", "version", "teams:whoami", None):
        result = world.run("alice", world.fp["alice"], command)
        assert result.returncode == 75, result.stderr
        assert result.stderr.startswith(b"!     ") and result.stderr.count(b"\n") == 1
    assert world.calls_made() == []


@pytest.mark.parametrize("text,mode", [
    ("state_dir=/tmp\nbogus=1\n", 0o600),
    ("max_image_bytes=ten\n", 0o600),
    ("drop_privileges=maybe\n", 0o600),
    ("dokku=relative/path\n", 0o600),
    ("run_as=\n", 0o600),
    ("state_dir\n", 0o600),
    ("", 0o620),
    ("", 0o602),
])
def test_bad_config_refuses_everything(world, text, mode):
    if text:
        world.write_config(world.config_text() + text)
    os.chmod(world.config, mode)
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 75
    assert result.stderr == b"!     access control is unavailable; ask an admin to run dokku-teams doctor\n"
    assert world.calls_made() == []


def test_missing_or_symlinked_config_refuses(world):
    os.rename(world.config, world.config + ".real")
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 75
    os.symlink(world.config + ".real", world.config)
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 75
    assert world.calls_made() == []


def test_missing_arguments_refuse_without_traceback(world):
    result = subprocess.run([H.PYTHON, "-IS", H.GATE, "gate", "--config", world.config], input=b"",
                            env={"SSH_ORIGINAL_COMMAND": "version"}, capture_output=True, check=False)
    assert result.returncode == 75
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr


@pytest.mark.parametrize("setting", [
    {"drop_privileges": "false"},         # no privilege drop, as root
    {"run_as": "root"},
    {"run_as": "no-such-user-here"},      # resolved only when dropping privileges
], ids=lambda setting: "-".join("%s=%s" % item for item in setting.items()))
def test_a_config_that_cannot_drop_root_refuses_everything(world, setting):
    assert H.IS_ROOT, "the gate's privilege tests need root (make test and CI run as root)"
    world.write_config(**setting)
    result = world.run("alice", world.fp["alice"], "config:show web")
    assert result.returncode == 75
    assert world.calls_made() == []
    assert world.audit_records()[-1]["decision"] == "error"


# ---------------------------------------------------------------------------------------------
# Streams: a real git push and clone, a 100 MB stream


def _ssh_wrapper(w, user):
    path = os.path.join(w.root, "ssh-%s" % user)
    argv = " ".join("'%s'" % word for word in w.gate_argv(user, w.fp[user]))
    with open(path, "w") as handle:
        handle.write('#!/bin/sh\n# $1 is the host, $2 the command git wants run\n'
                     'exec env -i SSH_ORIGINAL_COMMAND="$2" SSH_CONNECTION="127.0.0.1 1 127.0.0.1 22" %s\n' % argv)
    os.chmod(path, 0o755)
    return path


def _git(args, cwd, env=None):
    base = {"PATH": "/usr/bin:/bin", "HOME": cwd, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    base.update(env or {})
    return subprocess.run(["git"] + args, cwd=cwd, env=base, capture_output=True, timeout=120, check=False)


def test_git_push_and_clone_round_trip_through_the_gate(world):
    repo = world.init_repo("web")
    work = os.path.join(world.root, "work")
    os.mkdir(work)
    assert _git(["init", "-q", "-b", "main"], work).returncode == 0
    payload = os.urandom(300000)
    with open(os.path.join(work, "blob.bin"), "wb") as handle:
        handle.write(payload)
    with open(os.path.join(work, "app.py"), "w") as handle:
        handle.write("print('hello')\n")
    assert _git(["add", "."], work).returncode == 0
    assert _git(["commit", "-q", "-m", "first"], work).returncode == 0
    head = _git(["rev-parse", "HEAD"], work).stdout.strip()
    ssh = {"GIT_SSH_COMMAND": _ssh_wrapper(world, "alice"), "GIT_SSH_VARIANT": "simple"}
    pushed = _git(["push", "dokku@gate:web", "main"], work, ssh)
    assert pushed.returncode == 0, pushed.stderr
    remote = subprocess.run(["git", "--git-dir", repo, "rev-parse", "refs/heads/main"], capture_output=True, check=False)
    assert remote.stdout.strip() == head
    clone = os.path.join(world.root, "clone")
    cloned = _git(["clone", "-q", "-b", "main", "dokku@gate:web", clone], world.root, ssh)
    assert cloned.returncode == 0, cloned.stderr
    assert _git(["rev-parse", "HEAD"], clone).stdout.strip() == head
    with open(os.path.join(clone, "blob.bin"), "rb") as handle:
        assert handle.read() == payload
    calls = world.calls_made()
    assert [call["argv"][1:] for call in calls] == [["git-receive-pack", "'web'"], ["git-upload-pack", "'web'"]]
    for call in calls:
        assert call["env"] == expected_env(world, "alice")
        assert_target_identity(call)
    # A push to an app the user may not touch is refused before git runs.
    other = _git(["push", "dokku@gate:other-app", "main"], work, ssh)
    assert other.returncode != 0 and b"App other-app does not exist" in other.stderr
    assert len(world.calls_made()) == 2


def test_100_mb_stream_passes_with_matching_checksum(world):
    data = os.urandom(1 << 20) * 100
    result = world.run("alice", world.fp["alice"], "ps:restart web", stdin=data, timeout=120)
    assert result.returncode == 0, result.stderr
    (call,) = world.calls_made()
    assert call["stdin_bytes"] == len(data)
    assert call["stdin_sha256"] == hashlib.sha256(data).hexdigest()
    assert call["stdin_is_file"] is False  # a plain exec: the gate's own pipe, nothing in between


# ---------------------------------------------------------------------------------------------
# git:load-image


def _tar(entries):
    """``entries``: (name, bytes) for files, (name, None) for a directory, (name, '->target')
    for a symlink, (name, '=>target') for a hard link; headers as Go writes them."""
    out = b""
    for name, content in entries:
        if content is None:
            out += tarcraft.directory(name)
        elif isinstance(content, str) and content.startswith("->"):
            out += tarcraft.symlink(name, content[2:])
        elif isinstance(content, str) and content.startswith("=>"):
            out += tarcraft.header(name, flag=b"1", linkname=content[2:])
        else:
            out += tarcraft.member(name, content)
    return out + tarcraft.EOF


def docker_save(tags, repositories=None, extra=(), layer_name="l1/layer.tar", index=None):
    layer = _tar([("app/hello.txt", b"hello\n")])
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    manifest = [{"Config": "cfg.json", "RepoTags": list(tags), "Layers": [layer_name]}]
    if repositories is None:
        repositories = {}
        for tag in tags:
            repo, unused_colon, name = tag.rpartition(":")
            repositories.setdefault(repo, {})[name] = "l1"
    entries = [("l1", None), ("l1/VERSION", b"1.0"), ("l1/json", b"{}"), ("l1/layer.tar", layer),
               ("cfg.json", config), ("manifest.json", json.dumps(manifest).encode()),
               ("repositories", json.dumps(repositories).encode())]
    if index is not None:
        entries.append(("index.json", json.dumps(index).encode()))
    return _tar(entries + list(extra))


def _spool_empty(w):
    return not os.path.isdir(w.spool_dir) or os.listdir(w.spool_dir) == []


def canonical(archive, app="web"):
    out = io.BytesIO()
    source = io.BytesIO(archive)
    unused_names, tail = imagearchive.canonicalise(
        source.read, out.write, lambda offset, size: out.getvalue()[offset:offset + size], app)
    return out.getvalue() + tail


def test_load_image_good_archive_reaches_target_as_the_checked_canonical_stream(world):
    archive = docker_save(["dokku/web:v1", "dokku/web:latest"])
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
    assert result.returncode == 0, result.stderr
    (call,) = world.calls_made()
    assert call["argv"] == [world.dokku, "git:load-image", "web", "dokku/web:v1"]
    expected = canonical(archive)
    assert call["stdin_sha256"] == hashlib.sha256(expected).hexdigest()
    assert call["stdin_bytes"] == len(expected)
    # The gate's pipe, read-only; never the spool file or the client's stream.
    assert call["stdin_is_file"] is False and call["stdin_is_fifo"] is True
    assert call["stdin_accmode"] == os.O_RDONLY
    with tarfile.open(fileobj=io.BytesIO(expected)) as handle:
        assert handle.getnames()[-2:] == ["manifest.json", "repositories"]
    start, end = [json.loads(line) for line in world.audit_lines()[len(before):]]
    assert start["decision"] == "allow" and "upload started" in start["reason"]
    assert end["decision"] == "allow" and "image names: dokku/web:latest dokku/web:v1" in end["reason"]
    assert call["env"] == expected_env(world, "alice")
    assert_target_identity(call)
    assert _spool_empty(world)
    record = world.audit_records()[-1]
    assert record["decision"] == "allow" and "dokku/web:v1" in record["reason"]


def test_load_image_docker25_layout_with_shared_layer_symlink_is_accepted(world):
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + "a" * 64, "size": 1,
        "annotations": {"io.containerd.image.name": "docker.io/dokku/web:v1",
                        "org.opencontainers.image.ref.name": "v1"}}]}
    archive = docker_save(["dokku/web:v1"], index=index,
                          extra=[("l2", None), ("l2/layer.tar", "->../l1/layer.tar")])
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
    assert result.returncode == 0, result.stderr
    (call,) = world.calls_made()
    assert call["stdin_sha256"] == hashlib.sha256(canonical(archive)).hexdigest()


BAD_ARCHIVES = {
    "other-app-tag": lambda: docker_save(["dokku/web:v1", "dokku/other-app:latest"]),
    "other-app-in-repositories-only": lambda: docker_save(
        ["dokku/web:v1"], repositories={"dokku/web": {"v1": "l1"}, "dokku/other-app": {"latest": "l1"}}),
    "hub-spelling-of-other-app": lambda: docker_save(["docker.io/dokku/other-app:v1"]),
    "base-image-tag": lambda: docker_save(["dokku/web:v1", "debian:bookworm"]),
    "registry-image": lambda: docker_save(["registry.example.com/dokku/web:v1"]),
    "digest-ref": lambda: docker_save(["dokku/web@sha256:" + "b" * 64], repositories={}),
    "no-tag-at-all": lambda: docker_save([], repositories={}),
    "index-annotation-other-app": lambda: docker_save(["dokku/web:v1"], index={"manifests": [
        {"annotations": {"io.containerd.image.name": "docker.io/dokku/other-app:v1"}}]}),
    "index-ref-name-other-app": lambda: docker_save(["dokku/web:v1"], index={"manifests": [
        {"annotations": {"org.opencontainers.image.ref.name": "dokku/other-app:v1"}}]}),
    "absolute-member": lambda: docker_save(["dokku/web:v1"], extra=[("/etc/cron.d/x", b"x")]),
    "dotdot-member": lambda: docker_save(["dokku/web:v1"], extra=[("l1/../../x", b"x")]),
    "symlink-out": lambda: docker_save(["dokku/web:v1"], extra=[("l3", "->/etc/passwd")]),
    "symlink-dotdot": lambda: docker_save(["dokku/web:v1"], extra=[("l3", "->../../etc/passwd")]),
    "hardlink": lambda: docker_save(["dokku/web:v1"], extra=[("l3", "=>l1/layer.tar")]),
    "manifest-layer-dotdot": lambda: docker_save(["dokku/web:v1"], layer_name="../l1/layer.tar"),
    "duplicate-manifest": lambda: docker_save(["dokku/web:v1"], extra=[(
        "./manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["dokku/other-app:v1"],
                                        "Layers": []}]).encode())]),
    "not-a-tar": lambda: b"this is not a tar archive at all" * 100,
    "truncated": lambda: docker_save(["dokku/web:v1"])[:1500],
    "malformed-manifest": lambda: _tar([("manifest.json", b"{not json")]),
    "empty": lambda: b"",
}


@pytest.mark.parametrize("name", sorted(BAD_ARCHIVES))
def test_load_image_bad_archive_is_refused_and_nothing_loaded(world, name):
    archive = BAD_ARCHIVES[name]()
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
    assert result.returncode == 77, (result.stderr, name)
    assert result.stderr.startswith(b"!     ") and result.stderr.count(b"\n") == 1
    assert world.calls_made() == []
    assert _spool_empty(world)
    start, record = [json.loads(line) for line in world.audit_lines()[len(before):]]
    assert start["decision"] == "allow" and "upload started" in start["reason"]
    assert record["decision"] == "deny" and record["reason"] == result.stderr[6:-1].decode()


def _stream_dir(world):
    """The stand-in reads stdin in a grandchild, as dokku's docker load does (recorder.py)."""
    path = os.path.join(world.rec_dir, "stream")
    os.mkdir(path)
    os.chmod(path, 0o777)
    world.settings["stream_dir"] = path
    world.write_settings()
    return path


def _big_archive(tags, layer=4 * 1024 * 1024, extra=()):
    """manifest.json first, then a layer bigger than the gate's pipe."""
    manifest = [{"Config": "cfg.json", "RepoTags": list(tags), "Layers": ["l1/layer.tar"]}]
    return _tar([("manifest.json", json.dumps(manifest).encode()), ("l1", None),
                 ("l1/layer.tar", os.urandom(layer)), ("cfg.json", b"{}")] + list(extra))


def test_load_image_streams_to_the_target_while_reading_and_sends_the_names_last(world):
    stream_dir = _stream_dir(world)
    archive = _big_archive(["dokku/web:v1"])
    proc = subprocess.Popen(world.gate_argv("alice", world.fp["alice"]), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", "SSH_CONNECTION": "192.0.2.7 50000 192.0.2.1 22",
                                 "SSH_ORIGINAL_COMMAND": "git:load-image web dokku/web:v1"})
    half = len(archive) // 2
    proc.stdin.write(archive[:half])
    proc.stdin.flush()
    got = os.path.join(stream_dir, "stdin")
    deadline = time.monotonic() + 20
    while not (os.path.exists(got) and os.path.getsize(got) > 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    # Half of the upload is still to come and the target already has canonical bytes.
    assert os.path.getsize(got) > 0 and not os.path.exists(os.path.join(stream_dir, "eof"))
    out, err = proc.communicate(archive[half:], timeout=60)
    assert proc.returncode == 0, err
    with open(got, "rb") as handle:
        data = handle.read()
    assert data == canonical(archive)
    with tarfile.open(fileobj=io.BytesIO(data)) as handle:
        assert handle.getnames() == ["l1", "l1/layer.tar", "cfg.json", "manifest.json"]
    assert os.path.exists(os.path.join(stream_dir, "eof"))


STREAM_REFUSALS = {
    # refused at the end, when the names are checked: the layer was streamed already
    "other-app-name": (lambda: _big_archive(["dokku/web:v1", "dokku/other-app:v1"]), "other than dokku/web"),
    # refused in the middle: a hard link after the layer
    "hard-link-after-the-layer": (lambda: _big_archive(["dokku/web:v1"], extra=[("l3", "=>l1/layer.tar")]),
                                  "hard link"),
}


@pytest.mark.parametrize("name", sorted(STREAM_REFUSALS))
def test_load_image_refused_mid_stream_kills_the_target_before_it_sees_an_end(world, name):
    stream_dir = _stream_dir(world)
    build, message = STREAM_REFUSALS[name]
    archive = build()
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
    assert result.returncode == 77 and message.encode() in result.stderr, result.stderr
    with open(os.path.join(stream_dir, "reader.pid")) as handle:
        assert H.wait_gone(int(handle.read()))
    time.sleep(0.2)
    # The reader got the layer while the upload went on, never the manifest, never an end:
    # it was killed blocked in read (no eof file), and the stand-in never returned to record.
    with open(os.path.join(stream_dir, "stdin"), "rb") as handle:
        data = handle.read()
    assert len(data) > 2 * 1024 * 1024  # most of the layer (the rest may still sit in the pipe)
    assert b"manifest.json" not in data and b"other-app" not in data and data[-1024:] != bytes(1024)
    assert not os.path.exists(os.path.join(stream_dir, "eof"))
    assert world.calls_made() == [] and _spool_empty(world)
    start, record = [json.loads(line) for line in world.audit_lines()[len(before):]]
    assert start["decision"] == "allow" and record["decision"] == "deny"


def test_load_image_target_that_stops_reading_ends_the_upload_with_its_code(world):
    with open(world.dokku, "w") as handle:
        handle.write("#!/bin/sh\necho 'dokku: no such app' >&2\nexit 3\n")
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1",
                       stdin=_big_archive(["dokku/web:v1"]))
    assert result.returncode == 3 and result.stderr == b"dokku: no such app\n"
    assert _spool_empty(world)
    record = world.audit_records()[-1]
    assert record["decision"] == "error" and "stopped reading the image" in record["reason"]


def test_load_image_size_cap(world):
    world.write_config(max_image_bytes="4096")
    archive = docker_save(["dokku/web:v1"])
    assert len(archive) > 4096
    result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
    assert result.returncode == 77
    assert b"larger than 4096 bytes" in result.stderr
    assert world.calls_made() == [] and _spool_empty(world)


def test_load_image_denied_by_policy_reads_nothing(world):
    world.team("other", members=["bob"], commands=["config:*"], apps=["web"])
    result = world.run("bob", world.fp["bob"], "git:load-image web dokku/web:v1",
                       stdin=docker_save(["dokku/web:v1"]))
    assert result.returncode == 77
    assert world.calls_made() == [] and _spool_empty(world)


# ---------------------------------------------------------------------------------------------
# Listings


def test_apps_list_is_filtered_to_the_users_apps(world):
    world.settings["apps"] = ["api", "other-app", "secret", "web"]
    world.write_settings()
    result = world.run("alice", world.fp["alice"], "apps:list")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"=====> My Apps\napi\nweb\n"
    (call,) = world.calls_made()
    assert call["argv"] == [world.dokku, "apps:list"]
    assert call["env"] == expected_env(world, "alice")
    assert_target_identity(call)
    result = world.run("alice", world.fp["alice"], "apps:list --format json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == ["api", "web"]
    admin = world.run("root-admin", world.fp["root-admin"], "apps:list")
    assert admin.stdout == b"=====> My Apps\napi\nother-app\nsecret\nweb\n"


def test_listing_keeps_the_child_exit_code(world):
    world.settings["fail"] = ["apps:list"]
    world.write_settings()
    result = world.run("alice", world.fp["alice"], "apps:list")
    assert result.returncode == 1 and result.stdout == b""


def test_service_list_is_filtered(world):
    result = world.run("alice", world.fp["alice"], "postgres:list")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"=====> Postgres services\nweb-db\n"


# ---------------------------------------------------------------------------------------------
# apps:create / rename through the gate


def test_apps_create_records_an_app_team_for_the_creator(world):
    result = world.run("alice", world.fp["alice"], "apps:create fresh")
    assert result.returncode == 0, result.stderr
    (call,) = world.calls_made()
    assert call["argv"] == [world.dokku, "apps:create", "fresh"]
    assert_target_identity(call)
    team = world.store.load()["teams"]["dokku@app--fresh"]
    assert team["owners"] == ["alice"] and team["members"] == ["alice"] and team["apps"] == ["fresh"]
    assert world.run("alice", world.fp["alice"], "config:show fresh").returncode == 0
    assert world.run("bob", world.fp["bob"], "config:show fresh").returncode == 77


def test_failed_apps_create_records_nothing(world):
    world.settings["fail"] = ["apps:create"]
    world.write_settings()
    result = world.run("alice", world.fp["alice"], "apps:create fresh")
    assert result.returncode == 1
    assert "dokku@app--fresh" not in world.store.load()["teams"]


def test_apps_create_needs_the_right(world):
    result = world.run("bob", world.fp["bob"], "apps:create fresh")
    assert result.returncode == 77
    assert world.calls_made() == []


def test_apps_rename_carries_the_grants(world):
    result = world.run("alice", world.fp["alice"], "apps:rename api api2")
    assert result.returncode == 0, result.stderr
    assert world.store.load()["teams"]["web"]["apps"] == ["api2", "web"]
    assert world.run("alice", world.fp["alice"], "config:show api2").returncode == 0


# ---------------------------------------------------------------------------------------------
# teams:* over the gate


def test_owner_adds_member_and_it_takes_effect_at_once(world):
    assert world.run("bob", world.fp["bob"], "config:show web").returncode == 77
    result = world.run("olivia", world.fp["olivia"], "teams:member-add web bob")
    assert result.returncode == 0, result.stderr
    assert world.calls_made() == []
    assert world.run("bob", world.fp["bob"], "config:show web").returncode == 0
    # An owner who is not an admin cannot change grants; a member cannot manage people.
    assert world.run("olivia", world.fp["olivia"], "teams:app-add web other-app").returncode == 77
    assert world.run("alice", world.fp["alice"], "teams:member-add web carol").returncode == 77
    assert "carol" not in world.store.load()["teams"]["web"]["members"]


def test_teams_whoami_always_works(world):
    result = world.run("carol", world.fp["carol"], "teams:whoami")
    assert result.returncode == 0, result.stderr
    assert b"carol" in result.stdout
    assert world.calls_made() == []


# ---------------------------------------------------------------------------------------------
# Audit details and the unprivileged mode


def test_audit_line_fields(world):
    world.run("alice", world.fp["alice"], "postgres:info other-db")
    record = world.audit_records()[-1]
    assert list(record) == ["time", "user", "key", "client", "command", "decision", "reason", "pseudo",
                            "apps", "services", "code", "team"]
    assert record["services"] == [{"type": "postgres", "name": "other-db"}]
    assert record["time"].endswith("Z") and len(record["time"]) == len("2025-01-31T12:00:00.123Z")
    world.run("alice", world.fp["alice"], "version", extra_env={"SSH_CONNECTION": "x;rm 1 2 3"})
    assert world.audit_records()[-1]["client"] is None
    world.run("alice", world.fp["alice"], "version", extra_env={"SSH_CONNECTION": "2001:db8::7 1 ::1 22"})
    assert world.audit_records()[-1]["client"] == "2001:db8::7"


def _as_nobody(w, user, command):
    """Run the gate as an unprivileged user (setpriv), the state and config handed to it."""
    for top, dirs, files in os.walk(w.root):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), 65534, 65534)
    os.chown(w.root, 65534, 65534)
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + w.gate_argv(user, w.fp[user])
    result = subprocess.run(argv, env={"SSH_ORIGINAL_COMMAND": command, "PATH": "/usr/bin:/bin"},
                            capture_output=True, input=b"", check=False)
    assert b"can't open file" not in result.stderr and b"Permission denied" not in result.stderr, \
        "the checkout must be readable by nobody for this test: %r" % result.stderr
    return result


@pytest.mark.parametrize("drop,code", [("false", 0), ("true", 75)])
def test_unprivileged_gate_runs_only_with_drop_privileges_false(world, drop, code):
    assert H.IS_ROOT and os.path.exists("/usr/bin/setpriv"), "this test needs root and setpriv (util-linux)"
    world.write_config(drop_privileges=drop)
    result = _as_nobody(world, "alice", "config:show web")
    assert result.returncode == code, result.stderr
    calls = world.calls_made()
    assert len(calls) == (1 if code == 0 else 0)
    if calls:
        assert calls[0]["uid"] == 65534 and calls[0]["env"] == expected_env(world, "alice")


def test_the_audit_line_keeps_the_real_reason_the_user_is_not_told(world):
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], b"ps:restart other-app")
    assert result.returncode == 77
    assert result.stderr == b"!     App other-app does not exist\n"
    record = assert_one_escaped_line(before, world.audit_lines())
    assert record["reason"] == "App other-app does not exist; no team of alice grants the app other-app"


def test_a_new_app_name_another_team_holds_is_refused_before_anything_runs(world):
    world.team("billing", members=["bob"], commands=["*"], apps=["billing"])
    before = world.audit_lines()
    result = world.run("alice", world.fp["alice"], b"apps:create billing")
    assert result.returncode == 77
    assert result.stderr == b"!     App billing does not exist\n"
    assert world.calls_made() == []
    record = assert_one_escaped_line(before, world.audit_lines())
    assert "held by another team" in record["reason"]
    # A free name is created and recorded as the creator's app team.
    assert world.run("alice", world.fp["alice"], b"apps:create fresh").returncode == 0
    assert [call["argv"][1:] for call in world.calls_made()] == [["apps:create", "fresh"]]
