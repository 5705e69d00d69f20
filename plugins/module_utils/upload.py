# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an upload (``git:load-image``) from stdin into a spool file without letting it
starve anyone else.

Limits, all from the gate's config (``gateconfig``):

- ``max_image_bytes``: one upload's stream;
- ``max_spool_bytes``: all spool files together (every upload in progress);
- ``max_user_spool_bytes``: one user's spool files together;
- ``spool_reserve_bytes``: free space the spool's file system keeps; an upload neither starts
  nor goes on when writing would leave less. The audit log may share that file system: the
  reserve is what keeps it writable (``gateconfig`` refuses the audit log inside the spool);
- ``upload_idle_timeout`` / ``upload_timeout``: seconds without a byte / for the whole read
  (``poll`` on fd 0, no threads, no signals).

The canonical archive goes to the pipe of the ``docker load`` that runs meanwhile (``tee``,
written without blocking: a loader that stops reading cannot hold the upload past
``upload_timeout``) and to the spool file, which the caps count as before. Member content the
gate never interprets is spliced from stdin into the pipe in the kernel (``move``) and leaves a
hole of its size in the spool file: the caps still count it, the bytes themselves land where
Docker writes them (on the spool's file system in a default install, so the reserve check sees
them there). Headers, padding and nested index blobs are written, and read back from it.

Spool files are named ``load-PID-USERHEX-RANDOM`` so the caps can be summed from the
directory itself; a file whose gate died is removed by the next upload. The caps are checked
every ``CHECK_EVERY`` bytes, so concurrent uploads overshoot a cap by at most that much each.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time

from .errors import Denied

CHECK_EVERY = 4 * 1024 * 1024
PREFIX = "load-"


def spool_name(user):
    return "%s%d-%s-%s" % (PREFIX, os.getpid(), user.encode("utf-8").hex(), os.urandom(8).hex())


def _parts(name):
    parts = name.split("-")
    if len(parts) != 4 or parts[0] + "-" != PREFIX or not parts[1].isdigit():
        return None
    return parts


def remove_stale(dir_fd):
    """Remove spool files left by a gate that was killed mid-stream (its pid is gone)."""
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    for name in names:
        parts = _parts(name)
        if parts is None or os.path.exists("/proc/%s" % parts[1]):
            continue
        try:
            os.unlink(name, dir_fd=dir_fd)
        except OSError:
            pass


def usage(dir_fd, user):
    """Bytes held by all spool files, and by ``user``'s."""
    mine_tag = user.encode("utf-8").hex()
    total = mine = 0
    for name in os.listdir(dir_fd):
        parts = _parts(name)
        if parts is None:
            continue
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            continue
        size = max(info.st_size, info.st_blocks * 512)
        total += size
        if parts[2] == mine_tag:
            mine += size
    return total, mine


def _poll(poller, seconds):
    """Whether ``poller`` has an event within ``seconds``."""
    return bool(poller.poll(max(0, int(seconds * 1000))))


class LoaderGone(Exception):
    """The loader closed its end of the pipe before the archive was all sent (it exited)."""


class Upload(object):
    """stdin -> ``fd`` (a spool file in ``dir_fd``) and ``tee`` (a pipe), under the config's limits."""

    def __init__(self, config, dir_fd, fd, user, stdin=0, clock=time.monotonic, statvfs=os.fstatvfs):
        self.config, self.user, self.clock, self.statvfs = config, user, clock, statvfs
        self.dir_fd, self.fd, self.stdin, self.tee = dir_fd, fd, stdin, None
        self.received = self.unchecked = 0
        self.deadline = None
        self.poller = select.poll()
        self.poller.register(stdin, select.POLLIN)
        self.tee_poller = select.poll()
        self.splice = hasattr(os, "splice")  # Linux, Python 3.10+

    def attach(self, tee):
        """From now on, send what is written on into ``tee`` (the loader's pipe) too."""
        os.set_blocking(tee, False)
        self.tee_poller.register(tee, select.POLLOUT)
        self.tee = tee

    def check_space(self, more):
        """Refuse when ``more`` bytes would break a cap or eat into the reserve."""
        config = self.config
        vfs = self.statvfs(self.fd)
        if vfs.f_bavail * vfs.f_frsize - more < config.spool_reserve_bytes:
            raise Denied("the server's image spool is full right now (spool_reserve_bytes); try later")
        total, mine = usage(self.dir_fd, self.user)
        if total + more > config.max_spool_bytes:
            raise Denied("too many image uploads in progress on the server (max_spool_bytes); try later")
        if mine + more > config.max_user_spool_bytes:
            raise Denied("your image uploads in progress exceed max_user_spool_bytes; wait for them to end")

    def start(self):
        self.check_space(CHECK_EVERY)
        self.deadline = self.clock() + self.config.upload_timeout

    def _wait_input(self):
        """Until stdin has bytes (or its end), within the timeouts."""
        now = self.clock()
        if now >= self.deadline:
            raise Denied("image upload took longer than %d seconds (upload_timeout)" % self.config.upload_timeout)
        if not _poll(self.poller, min(self.config.upload_idle_timeout, self.deadline - now)):
            if self.clock() >= self.deadline:
                raise Denied("image upload took longer than %d seconds (upload_timeout)"
                             % self.config.upload_timeout)
            raise Denied("image upload sent nothing for %d seconds (upload_idle_timeout)"
                         % self.config.upload_idle_timeout)

    def _wait_output(self):
        """Until the loader's pipe has room, within ``upload_timeout``."""
        wait = self.deadline - self.clock()
        if wait <= 0 or not _poll(self.tee_poller, wait):
            raise Denied("image upload took longer than %d seconds (upload_timeout) while docker load"
                         " read it" % self.config.upload_timeout)

    def _received(self, count):
        self.received += count
        if self.received > self.config.max_image_bytes:
            raise Denied("image stream larger than %d bytes (the gate's max_image_bytes)"
                         % self.config.max_image_bytes)

    def _grow(self, more):
        """Count ``more`` bytes of the canonical stream against the caps (every CHECK_EVERY)."""
        self.unchecked += more
        if self.unchecked > CHECK_EVERY:
            self.check_space(max(CHECK_EVERY, more))
            self.unchecked = more

    def read(self, limit):
        """Up to ``limit`` bytes of stdin (b"" at its end), within the timeouts and the size cap."""
        self._wait_input()
        data = os.read(self.stdin, limit)
        self._received(len(data))
        return data

    def write(self, data):
        """``data`` into the spool file (within the caps), then on to the loader."""
        self._grow(len(data))
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise Denied("the server's image spool is full right now; try later")
            raise
        if self.tee is not None:
            self.send(data)

    def send(self, data):
        """``data`` into the loader's pipe, as fast as it reads, until ``upload_timeout``."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.tee, view):]
                continue
            except BlockingIOError:
                pass
            except BrokenPipeError:
                raise LoaderGone()
            self._wait_output()

    def move(self, limit):
        """Up to ``limit`` bytes of a member's content from stdin straight into the loader's
        pipe, in the kernel (``os.splice``): the gate never interprets content, and copying it
        through Python was most of its work. The spool file grows by a hole of that size (the
        caps count it as before; only nested index blobs need their bytes, and those are
        written). Returns the count, 0 at the end of stdin, None when splice cannot be used
        here (nothing moved)."""
        if self.tee is None or not self.splice:
            return None
        while True:
            self._wait_input()
            try:
                count = os.splice(self.stdin, self.tee, min(limit, CHECK_EVERY),
                                  flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
                break
            except BlockingIOError:
                self._wait_output()
            except BrokenPipeError:
                raise LoaderGone()
            except OSError as error:
                if error.errno != errno.EINVAL:
                    raise
                self.splice = False  # stdin of a kind splice does not take (a terminal)
                return None
        self._received(count)
        os.ftruncate(self.fd, os.lseek(self.fd, count, os.SEEK_CUR))
        self._grow(count)
        return count

    def pread(self, offset, size):
        return os.pread(self.fd, size, offset)


def discard(dir_fd, name, fd):
    """Remove the spool file and close its descriptors (best effort: this runs on every way out)."""
    for step in (lambda: os.unlink(name, dir_fd=dir_fd), lambda: os.close(fd), lambda: os.close(dir_fd)):
        try:
            step()
        except OSError:
            pass


class Loader(object):
    """The target (``dokku git:load-image``, which runs ``docker load``) reading the canonical
    archive from a pipe while the gate writes it; in a process group of its own, so that a
    refusal can kill it with every process it started before the pipe closes (Go's tar reader
    takes a stream that ends between two members for a whole archive)."""

    PIPE_BYTES = 1024 * 1024

    def __init__(self, argv, env, become_target):
        import fcntl
        import subprocess

        def child():
            os.setpgid(0, 0)
            become_target()

        read_fd, self.pipe = os.pipe()
        try:
            try:
                fcntl.fcntl(self.pipe, fcntl.F_SETPIPE_SZ, self.PIPE_BYTES)
            except (AttributeError, OSError):
                pass  # a smaller pipe only costs some overlap
            self.process = subprocess.Popen(argv, executable=argv[0], stdin=read_fd, env=env, preexec_fn=child)
        except BaseException:
            os.close(self.pipe)
            raise
        finally:
            os.close(read_fd)

    def close(self):
        """The archive is complete: the loader reads EOF after it."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None

    def kill(self):
        """SIGKILL to the whole group and reap it, then close the pipe: no reader is left to
        see the stream end."""
        if self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self.close()

    def wait(self):
        """Close the pipe, wait for the target; its exit code (128+N for a signal)."""
        self.close()
        code = self.process.wait()
        return 128 - code if code < 0 else code
