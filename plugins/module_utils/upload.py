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

Spool files are named ``load-PID-USERHEX-RANDOM`` so the caps can be summed from the
directory itself; a file whose gate died is removed by the next upload. The caps are checked
every ``CHECK_EVERY`` bytes, so concurrent uploads overshoot a cap by at most that much each.
"""

from __future__ import annotations

import errno
import os
import select
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


class Upload(object):
    """stdin -> ``fd`` (a spool file in ``dir_fd``), under the config's limits."""

    def __init__(self, config, dir_fd, fd, user, stdin=0, clock=time.monotonic, statvfs=os.fstatvfs):
        self.config = config
        self.dir_fd = dir_fd
        self.fd = fd
        self.user = user
        self.stdin = stdin
        self.clock = clock
        self.statvfs = statvfs
        self.received = 0
        self.unchecked = 0
        self.deadline = None
        self.poller = select.poll()
        self.poller.register(stdin, select.POLLIN)

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

    def read(self, limit):
        """Up to ``limit`` bytes of stdin (b"" at its end), within the timeouts and the size cap."""
        now = self.clock()
        if now >= self.deadline:
            raise Denied("image upload took longer than %d seconds (upload_timeout)" % self.config.upload_timeout)
        wait = min(self.config.upload_idle_timeout, self.deadline - now)
        while True:
            try:
                ready = self.poller.poll(max(0, int(wait * 1000)))
                break
            except InterruptedError:
                continue
        if not ready:
            if self.clock() >= self.deadline:
                raise Denied("image upload took longer than %d seconds (upload_timeout)"
                             % self.config.upload_timeout)
            raise Denied("image upload sent nothing for %d seconds (upload_idle_timeout)"
                         % self.config.upload_idle_timeout)
        data = os.read(self.stdin, limit)
        self.received += len(data)
        if self.received > self.config.max_image_bytes:
            raise Denied("image stream larger than %d bytes (the gate's max_image_bytes)"
                         % self.config.max_image_bytes)
        return data

    def write(self, data):
        self.unchecked += len(data)
        if self.unchecked > CHECK_EVERY:
            self.check_space(max(CHECK_EVERY, len(data)))
            self.unchecked = len(data)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise Denied("the server's image spool is full right now; try later")
            raise

    def pread(self, offset, size):
        return os.pread(self.fd, size, offset)
