# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How often a user may change the state over SSH, and how many such writers wait at once.

Every write to the state holds one lock (``store``). Owners may change their team's people
over SSH, as often as they like: without a bound, one owner (or a stolen owner key) looping
``teams:member-add`` keeps that lock busy and the writers that matter -- the recording of an
``apps:create`` (the app exists, its grants do not yet), Ansible, root's ``dokku-teams`` --
time out. Two bounds, both for ``teams:*`` writes of non-admin users over the gate:

- a token bucket per user (``budget/<user>`` in the state directory, under its own ``flock``):
  ``BURST`` writes at once, then one every ``REFILL_SECONDS``; beyond that the verb is refused
  with the time to wait (exit 77). The budget does not count reads (``teams:list`` ...);
- one lane (``budget/.lane``): a user's write waits for the state lock only while it holds the
  lane, so however many owners write at once, at most one of them competes with the other
  writers for the state lock; the others queue here, with a short wait (``LANE_SECONDS``).

Admins are not bounded (they are trusted with the host; Ansible and the CLI never pass here).
"""

from __future__ import annotations

import os
import time

from . import fsutil
from .errors import Denied, StateError

BURST = 30
REFILL_SECONDS = 2.0
LANE_SECONDS = 5.0
DIRECTORY = "budget"
LANE = ".lane"


def _directory(state_dir):
    path = os.path.join(state_dir, DIRECTORY)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise StateError("cannot create %s: %s" % (path, error.strerror))
    return fsutil.open_trusted_dir(path)


def _open(dir_fd, name):
    return fsutil.open_trusted(name, "the write budget file %s" % name, os.O_RDWR | os.O_CREAT, dir_fd=dir_fd)


def take(state_dir, user, now=None, burst=BURST, refill=REFILL_SECONDS):
    """Spend one write of ``user``'s budget, or ``Denied`` saying how long to wait."""
    import fcntl
    now = time.time() if now is None else now
    dir_fd = _directory(state_dir)
    try:
        fd = _open(dir_fd, user)
    finally:
        os.close(dir_fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        tokens, stamp = _parse(os.pread(fd, 64, 0), burst, now)
        tokens = min(float(burst), tokens + max(0.0, now - stamp) / refill)
        if tokens < 1.0:
            wait = int((1.0 - tokens) * refill) + 1
            raise Denied("too many team changes from %s; try again in %d s" % (user, wait))
        record = ("%.3f %.3f\n" % (tokens - 1.0, now)).encode("ascii")
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
    except OSError as error:
        raise StateError("cannot record the write budget of %s: %s" % (user, error.strerror))
    finally:
        os.close(fd)    # releases the flock


def _parse(data, burst, now):
    """``(tokens, time)`` from the file; a new or unreadable file is a full bucket."""
    try:
        tokens, stamp = data.decode("ascii").split()
        tokens, stamp = float(tokens), float(stamp)
    except (UnicodeDecodeError, ValueError):
        return float(burst), now
    if not 0.0 <= tokens <= burst or stamp > now + 60:
        return float(burst), now
    return tokens, stamp


class lane(object):
    """``with lane(state_dir):`` the one place where users' writes wait for the state lock."""

    def __init__(self, state_dir, timeout=LANE_SECONDS):
        self.state_dir = state_dir
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        dir_fd = _directory(self.state_dir)
        try:
            fd = _open(dir_fd, LANE)
        finally:
            os.close(dir_fd)
        try:
            held = fsutil.flock_within(fd, self.timeout, 0.002, 0.05)
        except OSError as error:
            os.close(fd)
            raise StateError("cannot lock the writers' lane: %s" % error.strerror)
        if not held:
            os.close(fd)
            raise StateError("the state is busy with other changes; try again in a moment")
        self.fd = fd
        return self

    def __exit__(self, *exc_info):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)
        return False
