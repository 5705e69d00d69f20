# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload limits of ``git:load-image`` (``upload``, the gate's load-image path): caps on one
upload, on all uploads and on one user's, the free-space reserve, the idle and total timeouts,
the audit line at the start, and an audit log that stays writable when the spool is full."""

import json
import os
import subprocess
import tempfile
import time

import pytest

import gate_helpers as H
import tarcraft as T
from module_utils import gateconfig, upload
from module_utils.errors import Denied, StateError

MiB = 1024 * 1024


class Vfs(object):
    def __init__(self, free):
        self.f_bavail = free
        self.f_frsize = 1


def config(**values):
    base = {"max_image_bytes": 64 * MiB, "max_spool_bytes": 64 * MiB, "max_user_spool_bytes": 32 * MiB,
            "spool_reserve_bytes": 8 * MiB, "upload_idle_timeout": 5, "upload_timeout": 60}
    base.update(values)
    return gateconfig.GateConfig(base)


@pytest.fixture
def spool():
    directory = tempfile.mkdtemp(prefix="spool-test-")
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    yield directory, dir_fd
    os.close(dir_fd)
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


def make_upload(spool, cfg, user="alice", data=b"", free=1 << 40, clock=time.monotonic, close=True):
    directory, dir_fd = spool
    name = upload.spool_name(user)
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=dir_fd)
    if close:  # the whole stream at once: a file (a pipe would block on more than 64 KiB)
        handle = tempfile.TemporaryFile()
        handle.write(data)
        handle.flush()
        read_fd = os.dup(handle.fileno())
        handle.close()
        os.lseek(read_fd, 0, 0)
        write_fd = None
    else:
        read_fd, write_fd = os.pipe()
        if data:
            os.write(write_fd, data)
    free_box = [free]
    stream = upload.Upload(cfg, dir_fd, fd, user, stdin=read_fd, clock=clock,
                           statvfs=lambda unused_fd: Vfs(free_box[0]))
    return stream, free_box, write_fd


def other_upload(spool, user, size):
    """A spool file of another upload in progress (its gate is this test: the pid is alive)."""
    directory, unused = spool
    path = os.path.join(directory, upload.spool_name(user))
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def pump(stream, chunk=MiB):
    while True:
        data = stream.read(chunk)
        if not data:
            return
        stream.write(data)


def test_an_upload_within_every_limit_is_read_whole(spool):
    stream, unused, unused_w = make_upload(spool, config(), data=b"x" * 50000)
    stream.start()
    pump(stream)
    assert os.fstat(stream.fd).st_size == 50000 and stream.received == 50000


def test_free_space_reserve_refuses_the_start(spool):
    stream, free, unused = make_upload(spool, config(), free=10 * MiB)
    with pytest.raises(Denied, match="spool_reserve_bytes"):
        stream.start()  # 10 MiB free - 4 MiB window < 8 MiB reserve


def test_free_space_reserve_stops_an_upload_midway(spool):
    stream, free, write_fd = make_upload(spool, config(), free=100 * MiB, close=False)
    stream.start()
    os.write(write_fd, b"y" * 65536)
    free[0] = 9 * MiB  # someone else filled the disk meanwhile
    with pytest.raises(Denied, match="spool_reserve_bytes"):
        for unused in range(200):
            stream.write(stream.read(65536) or b"")
            os.write(write_fd, b"y" * 65536)
    assert os.fstat(stream.fd).st_size <= upload.CHECK_EVERY + 65536
    os.close(write_fd)


def test_total_cap_counts_every_upload_in_progress(spool):
    other_upload(spool, "bob", 41 * MiB)
    other_upload(spool, "carol", 20 * MiB)
    stream, unused, unused_w = make_upload(spool, config())
    with pytest.raises(Denied, match="max_spool_bytes"):
        stream.start()


def test_total_cap_stops_an_upload_that_grows_past_it(spool):
    other_upload(spool, "bob", 50 * MiB)
    stream, unused, unused_w = make_upload(spool, config(), data=b"z" * (16 * MiB))
    stream.start()
    with pytest.raises(Denied, match="max_spool_bytes"):
        pump(stream)


def test_per_user_cap_counts_only_that_users_uploads(spool):
    other_upload(spool, "alice", 30 * MiB)
    stream, unused, unused_w = make_upload(spool, config(), user="alice")
    with pytest.raises(Denied, match="max_user_spool_bytes"):
        stream.start()
    stream, unused, unused_w = make_upload(spool, config(), user="bob")
    stream.start()  # bob's own uploads hold nothing


def test_files_of_dead_gates_are_removed_and_not_counted(spool):
    directory, dir_fd = spool
    stale = os.path.join(directory, "load-999999999-%s-00" % b"alice".hex())
    with open(stale, "wb") as handle:
        handle.truncate(60 * MiB)
    upload.remove_stale(dir_fd)
    assert not os.path.exists(stale)
    assert upload.usage(dir_fd, "alice") == (0, 0)


def test_size_cap_of_one_upload(spool):
    stream, unused, unused_w = make_upload(spool, config(max_image_bytes=1000), data=b"x" * 1001)
    stream.start()
    with pytest.raises(Denied, match="larger than 1000 bytes"):
        pump(stream, chunk=4096)


def test_idle_timeout(spool):
    stream, unused, write_fd = make_upload(spool, config(upload_idle_timeout=0.3), close=False)
    stream.start()
    os.write(write_fd, b"abc")
    assert stream.read(10) == b"abc"
    started = time.monotonic()
    with pytest.raises(Denied, match="sent nothing for"):
        stream.read(10)
    assert 0.25 <= time.monotonic() - started < 3
    os.close(write_fd)


def test_total_timeout_even_while_bytes_keep_coming(spool):
    now = [1000.0]

    def clock():
        now[0] += 1.0  # every look at the clock: one second later
        return now[0]

    stream, unused, write_fd = make_upload(spool, config(upload_timeout=10), clock=clock, close=False)
    stream.start()
    with pytest.raises(Denied, match="longer than 10 seconds"):
        for unused in range(100):
            os.write(write_fd, b"d")
            stream.read(10)
    os.close(write_fd)


def test_a_full_device_is_a_refusal_not_a_crash(spool):
    unused, dir_fd = spool
    fd = os.open("/dev/full", os.O_WRONLY)
    stream = upload.Upload(config(), dir_fd, fd, "alice", statvfs=lambda unused_fd: Vfs(1 << 40))
    with pytest.raises(Denied, match="spool is full"):
        stream.write(b"x")
    os.close(fd)


# -- the loader's pipe ---------------------------------------------------------------------------

def test_what_is_written_goes_to_the_spool_and_the_loaders_pipe(spool):
    stream, unused, unused_w = make_upload(spool, config(), data=b"")
    read_fd, write_fd = os.pipe()
    stream.start()
    stream.attach(write_fd)
    stream.write(b"canonical bytes")
    assert os.read(read_fd, 100) == b"canonical bytes" == stream.pread(0, 100)
    os.close(read_fd)
    with pytest.raises(upload.LoaderGone):
        stream.write(b"more")
    os.close(write_fd)


def test_a_loader_that_stops_reading_cannot_hold_the_upload_past_its_timeout(spool):
    stream, unused, unused_w = make_upload(spool, config(upload_timeout=1))
    read_fd, write_fd = os.pipe()
    stream.start()
    stream.attach(write_fd)
    started = time.monotonic()
    with pytest.raises(Denied, match="longer than 1 seconds .* while docker load read it"):
        stream.write(b"x" * (4 * MiB))  # more than any pipe holds; nobody reads
    assert 0.5 <= time.monotonic() - started < 5
    os.close(read_fd)
    os.close(write_fd)


def test_move_splices_content_into_the_pipe_and_counts_it_as_a_hole_in_the_spool(spool):
    stream, unused, write_fd = make_upload(spool, config(max_user_spool_bytes=12 * MiB), close=False)
    stream.start()
    assert stream.move(100) is None  # no loader attached: nothing moved
    read_fd, tee = os.pipe()
    stream.attach(tee)
    stream.write(b"header")
    os.write(write_fd, b"content!")
    assert stream.move(100) == 8 and os.read(read_fd, 100) == b"headercontent!"
    stream.write(b"next")
    info = os.fstat(stream.fd)
    assert info.st_size == 18 and stream.pread(0, 18) == b"header" + bytes(8) + b"next"
    assert stream.received == 8
    # The caps count moved bytes like written ones (the spool file's size grows with them).
    chunk = b"m" * 60000  # less than a pipe holds
    with pytest.raises(Denied, match="max_user_spool_bytes"):
        for unused in range(400):  # 24 MB
            os.write(write_fd, chunk)
            assert stream.move(len(chunk)) == len(chunk)
            assert len(os.read(read_fd, len(chunk))) == len(chunk)
    assert 8 * MiB <= stream.received <= 12 * MiB and os.fstat(stream.fd).st_size > 8 * MiB
    assert os.fstat(stream.fd).st_blocks * 512 < MiB  # a hole: the bytes went to the loader only
    os.close(write_fd)
    os.close(read_fd)
    os.close(tee)


def test_move_at_the_end_of_stdin_is_zero_and_a_closed_loader_is_gone(spool):
    stream, unused, write_fd = make_upload(spool, config(), close=False)
    stream.start()
    read_fd, tee = os.pipe()
    stream.attach(tee)
    os.close(write_fd)
    assert stream.move(3) == 0
    stream, unused, write_fd = make_upload(spool, config(), close=False)
    stream.start()
    stream.attach(tee)
    os.write(write_fd, b"abc")
    os.close(read_fd)
    with pytest.raises(upload.LoaderGone):
        stream.move(3)
    os.close(write_fd)
    os.close(tee)


def test_kill_takes_the_loaders_whole_group_down_before_its_pipe_closes(tmp_path):
    # The loader starts a reader of its own (as dokku starts docker load) that would write a
    # file on seeing the end of its stdin: after kill() it never does.
    eof, pid_file = tmp_path / "eof", tmp_path / "pid"
    script = ("import os, sys\n"
              "if os.fork() == 0:\n"
              "    open(sys.argv[1], 'w').write('%d' % os.getpid())\n"
              "    while os.read(0, 65536):\n"
              "        pass\n"
              "    open(sys.argv[2], 'w').close()\n"
              "os.wait()\n")
    loader = upload.Loader(["/usr/bin/python3", "-c", script, str(pid_file), str(eof)], {}, lambda: None)
    os.write(loader.pipe, b"x" * 1000)
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    reader = int(pid_file.read_text())
    assert os.getpgid(reader) == loader.process.pid != os.getpgid(0)
    loader.kill()
    assert loader.pipe is None and loader.process.returncode == -9
    assert H.wait_gone(reader)
    time.sleep(0.2)
    assert not eof.exists()


def test_wait_closes_the_pipe_and_returns_the_loaders_code(tmp_path):
    loader = upload.Loader(["/bin/sh", "-c", "cat > %s; exit 3" % (tmp_path / "got")], {"PATH": "/usr/bin:/bin"},
                           lambda: None)
    os.write(loader.pipe, b"all of it")
    assert loader.wait() == 3
    assert (tmp_path / "got").read_bytes() == b"all of it"


# -- the config ----------------------------------------------------------------------------------

def test_config_keys_and_defaults():
    cfg = gateconfig.parse("")
    assert (cfg.max_spool_bytes, cfg.max_user_spool_bytes, cfg.spool_reserve_bytes, cfg.upload_idle_timeout,
            cfg.upload_timeout) == (24 << 30, 11 << 30, 1 << 30, 300, 3600)
    assert cfg.max_user_spool_bytes > cfg.max_image_bytes  # one full upload per user fits
    cfg = gateconfig.parse("max_spool_bytes=100\nupload_idle_timeout=7\n")
    assert (cfg.max_spool_bytes, cfg.upload_idle_timeout) == (100, 7)


@pytest.mark.parametrize("text", ["max_spool_bytes=0", "max_user_spool_bytes=-1", "spool_reserve_bytes=1G",
                                  "upload_timeout=", "upload_idle_timeout=1.5",
                                  "audit_log=/var/lib/dokku-teams/spool/audit.log",
                                  "spool_dir=/var/log/dokku-teams"])
def test_config_refuses_bad_limits_and_an_audit_log_in_the_spool(text):
    with pytest.raises(StateError):
        gateconfig.parse(text + "\n")


# -- through the gate ----------------------------------------------------------------------------

@pytest.fixture
def world():
    w = H.World()
    w.fp = {"alice": w.add_user("alice"), "bob": w.add_user("bob"), "carol": w.add_user("carol")}
    w.team("web", members=["alice", "bob", "carol"], commands=["git:load-image", "config:*"], apps=["web"])
    yield w
    w.cleanup()


def _popen(world, user, command):
    environ = {b"PATH": b"/usr/bin:/bin", b"SSH_CONNECTION": b"192.0.2.7 50000 192.0.2.1 22",
               b"SSH_ORIGINAL_COMMAND": command.encode()}
    return subprocess.Popen(world.gate_argv(user, world.fp[user]), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)


def _wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_start_of_an_upload_is_audited_before_a_byte_is_read(world):
    before = len(world.audit_lines())
    proc = _popen(world, "alice", "git:load-image web dokku/web:v1")
    try:
        assert _wait_for(lambda: len(world.audit_lines()) == before + 1), "no audit line while the upload waits"
        (line,) = world.audit_records()[before:]
        assert line["decision"] == "allow" and "upload started" in line["reason"]
        assert line["command"] == "git:load-image web dokku/web:v1"
        proc.stdin.write(T.docker_save(["dokku/web:v1"]))
        proc.stdin.close()
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert [r["decision"] for r in world.audit_records()[before:]] == ["allow", "allow"]


def _spooled(world):
    return sum(os.stat(os.path.join(world.spool_dir, name)).st_size for name in os.listdir(world.spool_dir))


def test_held_uploads_hit_the_total_cap_and_everyone_else_still_works(world):
    world.write_config(max_spool_bytes=str(16 * MiB), max_user_spool_bytes=str(10 * MiB),
                       spool_reserve_bytes="1")
    held = []
    try:
        for user in ("alice", "bob"):
            proc = _popen(world, user, "git:load-image web dokku/web:v1")
            held.append(proc)
            # a member announced at 64 MiB, of which 7 MiB arrive: the upload stays open
            proc.stdin.write(T.docker_save_members(["dokku/web:v1"]) + T.header("big", size=64 * MiB))
            proc.stdin.write(b"\0" * (7 * MiB))
            proc.stdin.flush()
        assert _wait_for(lambda: _spooled(world) >= 14 * MiB), _spooled(world)
        more = world.run("carol", world.fp["carol"], "git:load-image web dokku/web:v1",
                         stdin=T.docker_save(["dokku/web:v1"]))
        assert more.returncode == 77 and b"max_spool_bytes" in more.stderr, more.stderr
        # every other command of every user still runs and is audited
        for user in ("alice", "bob", "carol"):
            ok = world.run(user, world.fp[user], "config:show web")
            assert ok.returncode == 0, ok.stderr
            assert world.audit_records()[-1]["command"] == "config:show web"
    finally:
        for proc in held:
            proc.kill()
            proc.wait()


def test_idle_upload_through_the_gate_is_refused_and_leaves_nothing(world):
    world.write_config(upload_idle_timeout="1")
    proc = _popen(world, "alice", "git:load-image web dokku/web:v1")
    try:
        proc.stdin.write(T.docker_save_members(["dokku/web:v1"]))
        proc.stdin.flush()
        assert proc.wait(20) == 77
        assert b"sent nothing for 1 seconds" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert os.listdir(world.spool_dir) == []
    assert world.audit_records()[-1]["decision"] == "deny"


def _mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755" % size, "tmpfs", path],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail("cannot mount a tmpfs for the spool test: %s" % result.stderr.strip())


def test_a_small_spool_file_system_never_fills_and_the_audit_log_stays_writable(world):
    """The spool shares a small file system with what the loader writes (as /var/lib/docker
    would): the upload is refused before the reserve is eaten, the audit log stays writable."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs as the spool: run the unit tests as root")
    shared = os.path.join(world.root, "fs")
    _mount_tmpfs(shared, 8 * MiB)
    try:
        loader_dir = os.path.join(shared, "docker")
        os.mkdir(loader_dir)
        os.chmod(loader_dir, 0o777)
        world.settings["stream_dir"] = loader_dir
        world.write_settings()
        world.write_config(spool_dir=os.path.join(shared, "spool"), spool_reserve_bytes=str(3 * MiB))
        archive = T.docker_save(["dokku/web:v1"], extra=T.member("pad", b"p" * (6 * MiB)))
        result = world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=archive)
        assert result.returncode == 77 and b"spool_reserve_bytes" in result.stderr, result.stderr
        assert os.listdir(os.path.join(shared, "spool")) == []
        assert not os.path.exists(os.path.join(loader_dir, "eof"))  # the loader got no end
        records = world.audit_records()
        assert [r["decision"] for r in records[-2:]] == ["allow", "deny"]
        os.unlink(os.path.join(loader_dir, "stdin"))  # as Docker drops a broken load's files
        small = T.docker_save(["dokku/web:v1"])
        assert world.run("alice", world.fp["alice"], "git:load-image web dokku/web:v1", stdin=small).returncode == 0
        assert world.run("bob", world.fp["bob"], "config:show web").returncode == 0
    finally:
        subprocess.run(["umount", shared], check=False)
    assert json.loads(world.audit_lines()[-1])["command"] == "config:show web"
