# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail-closed reads, atomic writes and the state lock.

``read_trusted`` is on the gate's start-up path: it imports nothing beyond ``os``, ``stat``
and ``errno`` (no ``contextlib``, no ``re``). ``check_trusted`` is the one trust test: a
regular file (not a symlink, FIFO, device or directory) or a real directory, owned by the
expected uid and neither group- nor world-writable. ``open_trusted`` applies it to an open
file, ``open_trusted_dir`` to a directory, ``read_trusted`` to both a file and its directory,
with a size cap. Every refusal is one ``StateError`` line that names the file and the problem.

``atomic_write`` writes a temporary file beside the target (``O_EXCL|O_NOFOLLOW``, a random
name), fsyncs it, renames it over the target and fsyncs the directory: a crash leaves the
old content or the new, never a mix. ``rename`` replaces a symlink at the target itself; it
never writes through one.
"""

from __future__ import annotations

import errno
import os
import stat

from .errors import StateError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
TEMP_MARK = ".tmp-"

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)


class MissingFile(StateError):
    """The file does not exist (its directory does, and is trusted)."""


FILE = stat.S_IFREG
DIRECTORY = stat.S_IFDIR
_KINDS = {FILE: "a regular file", DIRECTORY: "a directory"}


def check_trusted(info, label, owner_uid=None, kind=FILE, writable_ok=False):
    """The one trust test: ``StateError`` unless ``info`` (an ``fstat``, or an ``lstat``: a
    symlink never passes) is a ``kind`` (``FILE`` or ``DIRECTORY``) owned by ``owner_uid``
    (default: the effective uid) and not group- or world-writable. ``writable_ok`` skips the mode
    test, for a caller that repairs the mode next (``dokku-teams recover``). ``label`` names the
    thing in the one-line refusal (``audit log /var/log/...``)."""
    owner_uid = os.geteuid() if owner_uid is None else owner_uid
    if stat.S_IFMT(info.st_mode) != kind:
        raise StateError("%s is %s" % (label, "a symlink" if stat.S_ISLNK(info.st_mode) else "not " + _KINDS[kind]))
    if info.st_uid != owner_uid:
        raise StateError("%s is owned by uid %d, not uid %d" % (label, info.st_uid, owner_uid))
    if info.st_mode & 0o022 and not writable_ok:
        raise StateError("%s is group- or world-writable (mode %04o)" % (label, stat.S_IMODE(info.st_mode)))


def _refusal(error, label, writing):
    """The one line for a trusted open that failed."""
    if error.errno == errno.ELOOP:
        return StateError("%s is a symlink" % label)
    if error.errno == errno.ENOENT and not writing:
        return MissingFile("%s is missing" % label)
    if error.errno == errno.ENXIO:
        # A FIFO with no reader, opened to write without blocking (or a socket, a device
        # without its driver): what fstat would have refused.
        return StateError("%s is not a regular file" % label)
    how = "cannot be written" if writing else "is unreadable"
    if error.errno == errno.EACCES:
        return StateError("%s %s (permission denied)" % (label, how))
    return StateError("%s %s: %s" % (label, how, error.strerror))


def open_trusted(path, label=None, flags=os.O_RDONLY, owner_uid=None, dir_fd=None):
    """An fd on the file ``path`` (relative to ``dir_fd`` when given) once ``check_trusted``
    passes on it; ``StateError`` otherwise. Never follows a symlink, never blocks on a FIFO,
    never takes a terminal as controlling tty; ``O_CREAT`` in ``flags`` creates it 0600. The
    directory is not checked: ``read_trusted`` and ``open_trusted_dir`` do that."""
    return _open_trusted(path, path if label is None else label, flags, owner_uid, dir_fd)[0]


def _open_trusted(path, label, flags, owner_uid, dir_fd):
    """``open_trusted``, with the ``fstat`` it checked (the reader sizes its buffer from it)."""
    try:
        fd = os.open(path, flags | _O_NOFOLLOW | _O_CLOEXEC | _O_NONBLOCK | _O_NOCTTY, 0o600, dir_fd=dir_fd)
    except OSError as error:
        raise _refusal(error, label, bool(flags & (os.O_WRONLY | os.O_RDWR)))
    try:
        info = os.fstat(fd)
        check_trusted(info, label, owner_uid)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def open_trusted_dir(directory, owner_uid=None):
    """An fd on ``directory`` once it is checked: a real directory (not a symlink), owned by
    ``owner_uid``, not group- or world-writable. The caller closes it."""
    label = "directory %s" % directory
    try:
        fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                info = os.lstat(directory)
            except OSError:
                raise _refusal(exc, label, False)
            check_trusted(info, label, owner_uid, DIRECTORY)
        # A plain StateError even when missing: MissingFile says the directory is sound and only
        # the file is absent (read_view answers that as an unknown user).
        raise StateError(_refusal(exc, label, False).message)
    try:
        check_trusted(os.fstat(fd), label, owner_uid, DIRECTORY)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_fd(fd, label, max_bytes, size=None):
    """All of ``fd`` (a regular file of ``size`` bytes, when known), refused past ``max_bytes``
    -- also when it grows while it is read."""
    if size is None:
        size = os.fstat(fd).st_size
    if size > max_bytes:
        raise StateError("%s is too large (%d bytes, at most %d)" % (label, size, max_bytes))
    chunks = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, max(65536, size + 1 - total))
        except OSError as exc:
            raise StateError("%s is unreadable: %s" % (label, exc.strerror))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise StateError("%s is too large (more than %d bytes)" % (label, max_bytes))


def read_trusted(path, owner_uid=None, max_bytes=DEFAULT_MAX_BYTES, label=None, check_dir=True):
    """The bytes of ``path`` once it (``open_trusted``) and its directory (``open_trusted_dir``)
    are trusted; ``StateError`` otherwise (``MissingFile``, a subclass, when only the file is
    missing). ``check_dir=False`` checks the file alone: for a single file whose directory is not
    ours to vouch for (the gate config, wherever ``--config`` points), where the file's own
    checks are what keep a stranger's file or a link out."""
    label = path if label is None else label
    owner_uid = os.geteuid() if owner_uid is None else owner_uid     # asked once for both checks
    if check_dir:
        directory, name = os.path.split(path)
        dir_fd = open_trusted_dir(directory or ".", owner_uid)
        try:
            fd, info = _open_trusted(name, label, os.O_RDONLY, owner_uid, dir_fd)
        finally:
            os.close(dir_fd)
    else:
        fd, info = _open_trusted(path, label, os.O_RDONLY, owner_uid, None)
    try:
        return read_fd(fd, label, max_bytes, info.st_size)
    finally:
        os.close(fd)


def _temp_name(name):
    return ".%s%s%s" % (name, TEMP_MARK, os.urandom(8).hex())


def is_temp_name(name):
    """Whether ``name`` is one of ``atomic_write``'s temporary files (left by a crash)."""
    return name.startswith(".") and TEMP_MARK in name


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data, mode=0o600, owner_uid=None, group_gid=None, sync_dir=True, sync=True,
                 before_rename=None):
    """Replace ``path`` with ``data`` (bytes) atomically and durably.

    ``owner_uid``/``group_gid`` are applied with ``fchown`` when given (``None``: leave as
    created). ``sync_dir=False`` skips the directory fsync for a caller that writes several
    files in one directory and then calls ``fsync_dir`` once before it depends on them.
    ``sync=False`` skips both fsyncs: still atomic for readers, but a crash may lose the new
    content (or leave an empty file) -- only for a marker whose loss is detected and repaired.
    ``before_rename(info)`` is called with the ``fstat`` of the complete new file just before it
    replaces ``path`` (the store seals the state's identity there: ``rename`` keeps the inode).
    """
    if not isinstance(data, bytes):
        raise TypeError("atomic_write needs bytes")
    directory, name = os.path.split(path)
    directory = directory or "."
    if not name or name in (".", ".."):
        raise StateError("cannot write %s: not a file name" % path)
    dir_fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    temp = None
    try:
        for unused_attempt in range(16):
            temp = _temp_name(name)
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o600,
                             dir_fd=dir_fd)
                break
            except FileExistsError:
                temp = None
        else:
            raise StateError("cannot create a temporary file beside %s" % path)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if owner_uid is not None or group_gid is not None:
                os.fchown(fd, -1 if owner_uid is None else owner_uid, -1 if group_gid is None else group_gid)
            os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
            info = os.fstat(fd)
        finally:
            os.close(fd)
        if before_rename is not None:
            before_rename(info)
        os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        temp = None
        if sync_dir and sync:
            os.fsync(dir_fd)
    finally:
        if temp is not None:
            try:
                os.unlink(temp, dir_fd=dir_fd)
            except OSError:
                pass
        os.close(dir_fd)


def remove_temp_files(directory):
    """Remove temporary files a killed writer left in ``directory`` (call it under the lock)."""
    removed = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for name in names:
        if is_temp_name(name):
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(name)
            except FileNotFoundError:
                pass
    return removed


def flock_within(fd, timeout, pause, longest):
    """Take an exclusive ``flock`` on ``fd``, polling until ``timeout`` seconds have passed (the
    pause between tries doubles from ``pause`` up to ``longest``): ``True`` once it is held,
    ``False`` when the time ran out. Any other failure raises its ``OSError``."""
    import fcntl
    import time
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, longest)


class lock(object):
    """``with lock(path, timeout):`` an exclusive ``flock`` on ``path``, a lock file that is
    created 0600 when missing and never deleted (deleting it would let two writers hold two
    different locks). Polls until ``timeout`` seconds have passed, then ``StateError``."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def acquire(self):
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StateError("lock file %s is a symlink" % self.path)
            raise StateError("cannot open the lock file %s: %s" % (self.path, exc.strerror))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StateError("lock file %s is not a regular file" % self.path)
            try:
                held = flock_within(fd, self.timeout, 0.001, 0.02)
            except OSError as exc:
                raise StateError("cannot lock %s: %s" % (self.path, exc.strerror))
            if not held:
                raise StateError("timed out waiting for the state lock %s after %gs (another writer holds it)"
                                 % (self.path, self.timeout))
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def release(self):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False
