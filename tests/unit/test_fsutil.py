# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
import os
import stat
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from module_utils import fsutil
from module_utils.errors import StateError

OTHER_UID = 4242


@pytest.fixture
def tdir(tmp_path):
    d = tmp_path / "d"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    return d


def test_read_trusted_ok(tdir):
    path = tdir / "f"
    path.write_bytes(b"hello")
    os.chmod(path, 0o644)
    assert fsutil.read_trusted(str(path)) == b"hello"
    assert fsutil.read_trusted(str(path), owner_uid=os.geteuid()) == b"hello"


def test_read_trusted_missing(tdir):
    with pytest.raises(fsutil.MissingFile, match="is missing"):
        fsutil.read_trusted(str(tdir / "nope"))
    with pytest.raises(StateError, match="directory .* is missing") as info:
        fsutil.read_trusted(str(tdir / "nodir" / "f"))
    assert not isinstance(info.value, fsutil.MissingFile)


def test_read_trusted_symlink(tdir):
    (tdir / "real").write_bytes(b"x")
    os.symlink("real", tdir / "link")
    with pytest.raises(StateError, match="is a symlink"):
        fsutil.read_trusted(str(tdir / "link"))


def test_read_trusted_symlinked_directory(tdir, tmp_path):
    (tdir / "f").write_bytes(b"x")
    os.symlink(tdir, tmp_path / "dlink")
    with pytest.raises(StateError, match="directory .* is a symlink"):
        fsutil.read_trusted(str(tmp_path / "dlink" / "f"))


def test_read_trusted_not_regular(tdir):
    os.mkdir(tdir / "sub", 0o700)
    with pytest.raises(StateError, match="not a regular file"):
        fsutil.read_trusted(str(tdir / "sub"))
    os.mkfifo(tdir / "fifo", 0o600)
    with pytest.raises(StateError, match="not a regular file"):
        fsutil.read_trusted(str(tdir / "fifo"))


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_read_trusted_writable(tdir, mode):
    path = tdir / "f"
    path.write_bytes(b"x")
    os.chmod(path, mode)
    with pytest.raises(StateError, match="group- or world-writable"):
        fsutil.read_trusted(str(path))


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777])
def test_read_trusted_writable_directory(tdir, mode):
    (tdir / "f").write_bytes(b"x")
    os.chmod(tdir, mode)
    with pytest.raises(StateError, match="directory .* group- or world-writable"):
        fsutil.read_trusted(str(tdir / "f"))


def test_read_trusted_wrong_owner(tdir):
    path = tdir / "f"
    path.write_bytes(b"x")
    # Simulated: the file is ours, but another owner is expected (the directory is checked first).
    with pytest.raises(StateError, match="owned by uid %d, not uid %d" % (os.geteuid(), OTHER_UID)):
        fsutil.read_trusted(str(path), owner_uid=OTHER_UID)
    assert os.geteuid() == 0, "the suite runs as root (as CI does)"
    os.chown(path, OTHER_UID, -1)
    with pytest.raises(StateError, match="owned by uid %d, not uid 0" % OTHER_UID):
        fsutil.read_trusted(str(path))
    os.chown(path, 0, -1)
    os.chown(tdir, OTHER_UID, -1)
    with pytest.raises(StateError, match="directory .* owned by uid %d" % OTHER_UID):
        fsutil.read_trusted(str(path))


def test_read_trusted_too_large(tdir):
    path = tdir / "f"
    path.write_bytes(b"x" * 101)
    with pytest.raises(StateError, match="too large"):
        fsutil.read_trusted(str(path), max_bytes=100)
    assert fsutil.read_trusted(str(path), max_bytes=101) == b"x" * 101


def _as_nobody(func):
    """Run ``func`` in a forked child as uid/gid 65534; its result (a str) comes back."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = func()
        except BaseException as exc:
            out = "%s: %s" % (type(exc).__name__, exc)
        os.write(write_end, out.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read().decode()
    os.waitpid(pid, 0)
    return out


def test_read_trusted_unreadable():
    top = tempfile.mkdtemp()
    try:
        os.chmod(top, 0o711)
        path = os.path.join(top, "f")
        with open(path, "wb") as handle:
            handle.write(b"x")
        os.chmod(path, 0o600)
        assert "unreadable (permission denied)" in _as_nobody(lambda: fsutil.read_trusted(path, owner_uid=0))
        os.chmod(top, 0o700)
        out = _as_nobody(lambda: fsutil.read_trusted(path, owner_uid=0))
        assert "directory" in out and "unreadable (permission denied)" in out
    finally:
        shutil.rmtree(top)


def test_atomic_write_new_and_replace(tdir):
    path = str(tdir / "f")
    fsutil.atomic_write(path, b"one")
    assert open(path, "rb").read() == b"one"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    inode = os.stat(path).st_ino
    fsutil.atomic_write(path, b"two", mode=0o640)
    assert open(path, "rb").read() == b"two"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.stat(path).st_ino != inode
    assert os.listdir(tdir) == ["f"]


def test_atomic_write_owner_group(tdir):
    path = str(tdir / "f")
    fsutil.atomic_write(path, b"x", mode=0o440, owner_uid=OTHER_UID, group_gid=OTHER_UID)
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (OTHER_UID, OTHER_UID, 0o440)


def test_atomic_write_replaces_symlink_not_target(tdir, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    os.symlink(victim, tdir / "f")
    fsutil.atomic_write(str(tdir / "f"), b"new")
    assert victim.read_bytes() == b"keep"
    assert not os.path.islink(tdir / "f")
    assert (tdir / "f").read_bytes() == b"new"


def test_atomic_write_failure_removes_temp(tdir, monkeypatch):
    (tdir / "f").write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(fsutil.os, "fsync", broken_fsync)
        with pytest.raises(OSError, match="Input/output"):
            fsutil.atomic_write(str(tdir / "f"), b"new")
    assert os.listdir(tdir) == ["f"]
    assert (tdir / "f").read_bytes() == b"old"
    (tdir / "f").unlink()
    os.mkdir(tdir / "isdir")
    (tdir / "isdir" / "inner").write_bytes(b"")
    with pytest.raises(OSError):
        fsutil.atomic_write(str(tdir / "isdir"), b"x")
    assert sorted(os.listdir(tdir)) == ["isdir"]
    with pytest.raises(TypeError):
        fsutil.atomic_write(str(tdir / "g"), "text")


def test_remove_temp_files(tdir):
    (tdir / ".state.json.tmp-0123").write_bytes(b"")
    (tdir / "state.json").write_bytes(b"")
    assert fsutil.remove_temp_files(str(tdir)) == [".state.json.tmp-0123"]
    assert os.listdir(tdir) == ["state.json"]


def test_lock_excludes_and_times_out(tdir):
    path = str(tdir / "lock")
    with fsutil.lock(path, timeout=1):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        started = time.monotonic()
        with pytest.raises(StateError, match="timed out waiting for the state lock"):
            with fsutil.lock(path, timeout=0.2):
                pass
        assert 0.15 < time.monotonic() - started < 1.0
    assert os.path.exists(path)  # never deleted
    with fsutil.lock(path, timeout=0.2):
        pass


def test_lock_waits_for_release(tdir):
    path = str(tdir / "lock")
    held = fsutil.lock(path).acquire()
    order = []

    def other():
        with fsutil.lock(path, timeout=5):
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.1)
    order.append("first")
    held.release()
    thread.join()
    assert order == ["first", "other"]


def test_lock_refuses_symlink(tdir, tmp_path):
    os.symlink(tmp_path / "elsewhere", tdir / "lock")
    with pytest.raises(StateError, match="symlink"):
        with fsutil.lock(str(tdir / "lock")):
            pass
    assert not (tmp_path / "elsewhere").exists()


def test_gate_side_imports_stay_small():
    plugins = os.path.dirname(os.path.dirname(fsutil.__file__))
    code = ("import sys; sys.path.insert(0, %r); from module_utils import store, fsutil;"
            "print(' '.join(sorted(sys.modules)))" % plugins)
    loaded = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    for heavy in ("json", "re", "enum", "typing", "dataclasses", "contextlib", "hashlib", "module_utils.state"):
        assert heavy not in loaded


# ---- the one trust test (check_trusted) and the callers that share it


def _kinds(tdir):
    """Each way a path can fail the trust test, made under ``tdir``: name -> (path, refusal)."""
    made = {}
    (tdir / "real").write_bytes(b"k=v\n")
    os.chmod(tdir / "real", 0o600)
    os.symlink("real", tdir / "link")
    made["symlink"] = (tdir / "link", "is a symlink")
    os.mkfifo(tdir / "fifo", 0o600)
    made["fifo"] = (tdir / "fifo", "is not a regular file")
    os.mkdir(tdir / "dir", 0o700)
    made["directory"] = (tdir / "dir", "is not a regular file|cannot be written")
    for name, mode in (("group", 0o620), ("world", 0o602)):
        (tdir / name).write_bytes(b"k=v\n")
        os.chmod(tdir / name, mode)
        made[name + "-writable"] = (tdir / name, r"is group- or world-writable \(mode 0%o\)" % mode)
    (tdir / "stranger").write_bytes(b"k=v\n")
    os.chmod(tdir / "stranger", 0o600)
    os.chown(tdir / "stranger", OTHER_UID, -1)
    made["wrong-owner"] = (tdir / "stranger", "is owned by uid %d, not uid %d" % (OTHER_UID, os.geteuid()))
    return made


UNTRUSTED = ["symlink", "fifo", "directory", "group-writable", "world-writable", "wrong-owner"]


@pytest.mark.parametrize("kind", UNTRUSTED)
def test_check_trusted_refuses_with_one_line_naming_the_label(tdir, kind):
    path, refusal = _kinds(tdir)[kind]
    with pytest.raises(StateError, match="^thing %s (%s)" % (path, refusal)) as info:
        fsutil.check_trusted(os.lstat(path), "thing %s" % path)
    assert "\n" not in info.value.message


def test_check_trusted_accepts_ours_and_reads_parameters(tdir):
    (tdir / "f").write_bytes(b"x")
    os.chmod(tdir / "f", 0o644)
    fsutil.check_trusted(os.lstat(tdir / "f"), "f")
    fsutil.check_trusted(os.lstat(tdir), "d", kind=fsutil.DIRECTORY)
    with pytest.raises(StateError, match="^d is not a directory$"):
        fsutil.check_trusted(os.lstat(tdir / "f"), "d", kind=fsutil.DIRECTORY)
    with pytest.raises(StateError, match="owned by uid %d, not uid %d" % (os.geteuid(), OTHER_UID)):
        fsutil.check_trusted(os.lstat(tdir / "f"), "f", owner_uid=OTHER_UID)
    os.chmod(tdir / "f", 0o666)
    with pytest.raises(StateError, match="writable"):
        fsutil.check_trusted(os.lstat(tdir / "f"), "f")
    fsutil.check_trusted(os.lstat(tdir / "f"), "f", writable_ok=True)   # recover repairs the mode next
    os.chown(tdir / "f", OTHER_UID, -1)
    with pytest.raises(StateError, match="owned by uid %d" % OTHER_UID):
        fsutil.check_trusted(os.lstat(tdir / "f"), "f", writable_ok=True)   # the owner still counts


@pytest.mark.parametrize("kind", UNTRUSTED)
def test_open_trusted_refuses_and_leaks_no_descriptor(tdir, kind):
    path, refusal = _kinds(tdir)[kind]
    before = len(os.listdir("/proc/self/fd"))
    for flags in (os.O_RDONLY, os.O_WRONLY | os.O_APPEND | os.O_CREAT):
        with pytest.raises(StateError, match="^label (%s)" % refusal):
            fsutil.open_trusted(str(path), "label", flags)
    assert len(os.listdir("/proc/self/fd")) == before


def test_open_trusted_creates_0600_relative_to_a_directory(tdir):
    dir_fd = fsutil.open_trusted_dir(str(tdir))
    try:
        fd = fsutil.open_trusted("new", "new file", os.O_RDWR | os.O_CREAT, dir_fd=dir_fd)
        os.close(fd)
    finally:
        os.close(dir_fd)
    assert stat.S_IMODE(os.lstat(tdir / "new").st_mode) == 0o600
    with pytest.raises(fsutil.MissingFile, match="^gone is missing$"):
        fsutil.open_trusted(str(tdir / "absent"), "gone")


def test_open_trusted_dir_refuses_a_symlink_a_file_and_a_stranger(tdir, tmp_path):
    os.symlink(tdir, tmp_path / "dlink")
    with pytest.raises(StateError, match="^directory .*dlink is a symlink$"):
        fsutil.open_trusted_dir(str(tmp_path / "dlink"))
    (tdir / "f").write_bytes(b"x")
    with pytest.raises(StateError, match="^directory .*f is not a directory$"):
        fsutil.open_trusted_dir(str(tdir / "f"))
    os.chown(tdir, OTHER_UID, -1)
    with pytest.raises(StateError, match="^directory .* is owned by uid %d" % OTHER_UID):
        fsutil.open_trusted_dir(str(tdir))
    with pytest.raises(StateError, match="^directory .*nope is missing$") as info:
        fsutil.open_trusted_dir(str(tmp_path / "nope"))
    assert not isinstance(info.value, fsutil.MissingFile)


def test_read_fd_refuses_a_file_that_grows_past_the_cap(tdir):
    path = tdir / "f"
    path.write_bytes(b"x" * 10)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert fsutil.read_fd(fd, "f", 10) == b"x" * 10
        with open(path, "ab") as handle:     # grows after the size was looked at
            handle.write(b"y" * 100)
        os.lseek(fd, 0, os.SEEK_SET)
        with pytest.raises(StateError, match="^f is too large"):
            fsutil.read_fd(fd, "f", 50)
    finally:
        os.close(fd)


def test_read_trusted_without_directory_check_is_for_a_file_alone(tdir):
    (tdir / "f").write_bytes(b"x")
    os.chmod(tdir / "f", 0o600)
    os.chmod(tdir, 0o777)
    with pytest.raises(StateError, match="directory .* group- or world-writable"):
        fsutil.read_trusted(str(tdir / "f"))
    assert fsutil.read_trusted(str(tdir / "f"), check_dir=False) == b"x"
    os.chmod(tdir / "f", 0o660)
    with pytest.raises(StateError, match="^my file .* group- or world-writable"):
        fsutil.read_trusted(str(tdir / "f"), label="my file %s" % (tdir / "f"), check_dir=False)


@pytest.mark.parametrize("kind", UNTRUSTED)
def test_gate_config_audit_log_and_budget_refuse_the_same_files(tdir, kind):
    from module_utils import audit, gateconfig, writebudget
    path, refusal = _kinds(tdir)[kind]
    with pytest.raises(StateError, match="^gate config %s (%s)" % (path, refusal)):
        gateconfig.load(str(path))
    with pytest.raises(StateError, match="^audit log %s (%s)" % (path, refusal)):
        audit.append(str(path), audit.record("u", "k", None, "version", "allow", "r"))
    with pytest.raises(StateError, match="^audit log %s (%s)" % (path, refusal)):
        audit.check_appendable(str(path))
    dir_fd = fsutil.open_trusted_dir(str(tdir))
    try:
        with pytest.raises(StateError, match="^the write budget file %s (%s)" % (path.name, refusal)):
            writebudget._open(dir_fd, path.name)
    finally:
        os.close(dir_fd)


def test_gate_config_too_large_and_good(tdir):
    from module_utils import gateconfig
    path = tdir / "gate.conf"
    path.write_bytes(b"#" * (gateconfig.MAX_BYTES + 1))
    os.chmod(path, 0o644)
    with pytest.raises(StateError, match="^gate config %s is too large" % path):
        gateconfig.load(str(path))
    path.write_bytes(b"run_as=nobody\n")
    os.chmod(tdir, 0o777)       # the file alone is checked (--config may point anywhere)
    assert gateconfig.load(str(path)).run_as == "nobody"


def test_audit_log_is_created_0600_and_appended(tdir):
    from module_utils import audit
    path = str(tdir / "audit.log")
    audit.append(path, audit.record("u", "k", None, "version", "allow", "r"))
    audit.append(path, audit.record("u", "k", None, "version", "deny", "r"))
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert [entry["decision"] for entry in audit.read(path)] == ["allow", "deny"]
