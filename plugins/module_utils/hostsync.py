# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the ``ci`` account's ``authorized_keys`` in step with the state.

The file is generated, never hand-edited: every line sends one key to the gate with the
user's name and the key's fingerprint. The new content is checked with ``ssh-keygen -l``
before it replaces the old file atomically, and it is never written where the ``ci`` account
could write (the directory and the file must be root's). The file is ``root:ci`` 0640: sshd
reads it as the ``ci`` user, and nobody else on the host learns who may log in with which
key. The CLI, the compatibility command and the ``dokku_ci_user`` module all call this one
function.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile

from . import fsutil, sshkeys
from .errors import Invalid, StateError


def render(config, state):
    return sshkeys.render_authorized_keys(state, config.gate, config.allow_pty)


def _check_directory(path, owner_uid):
    directory = os.path.dirname(path)
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        raise StateError("the directory %s does not exist (is the ci account set up?)" % directory)
    try:
        fsutil.check_trusted(info, "directory %s" % directory, owner_uid, fsutil.DIRECTORY)
    except StateError as error:
        raise StateError("%s: the ci account must not be able to change its own keys" % error.message)


def validate(text):
    """Run ``ssh-keygen -l`` over the rendered lines; ``Invalid`` when it rejects any of them."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    if not lines:
        return
    with tempfile.NamedTemporaryFile("w", prefix="dokku-teams-keys.", delete=True) as handle:
        handle.write("\n".join(lines) + "\n")
        handle.flush()
        try:
            result = subprocess.run(["ssh-keygen", "-l", "-f", handle.name], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        except OSError as error:
            raise Invalid("cannot run ssh-keygen to check authorized_keys: %s" % error.strerror)
    if result.returncode != 0 or len(result.stdout.splitlines()) != len(lines):
        raise Invalid("ssh-keygen rejected the generated authorized_keys: %s"
                      % (result.stderr.decode("ascii", "replace").strip().splitlines() or ["no detail"])[0])


def current(config):
    try:
        with open(config.authorized_keys, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None


MODE = 0o640


def ci_group(config):
    """The gid of the ``ci`` account (sshd reads ``authorized_keys`` as that user)."""
    import pwd
    try:
        return pwd.getpwnam(config.ci_user).pw_gid
    except KeyError:
        raise StateError("the account %s (ci_user in the gate config) does not exist: authorized_keys"
                         " would be unreadable for sshd" % config.ci_user)


def write_authorized_keys(config, state, owner_uid=None):
    """Regenerate ``authorized_keys``; return ``(changed, before, after)``. The owner, group
    and mode are repaired too when only they differ."""
    owner_uid = os.geteuid() if owner_uid is None else owner_uid
    text = render(config, state)
    before = current(config)
    gid = ci_group(config)
    if before == text and _attributes_ok(config.authorized_keys, owner_uid, gid):
        return False, before, text
    validate(text)
    _check_directory(config.authorized_keys, owner_uid)
    fsutil.atomic_write(config.authorized_keys, text.encode("ascii"), mode=MODE, owner_uid=owner_uid,
                        group_gid=gid)
    return True, before, text


def _attributes_ok(path, owner_uid, gid):
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == owner_uid and info.st_gid == gid and \
        stat.S_IMODE(info.st_mode) == MODE


def doctor(config, state=None):
    """Problems with the host side: authorized_keys out of step, wrong owner or mode."""
    problems = []
    path = config.authorized_keys
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ["%s is missing: run dokku-teams user:list after fixing, or re-run site.yml" % path]
    try:
        fsutil.check_trusted(info, path)
    except StateError as error:
        problems.append(error.message)
    else:
        try:
            gid = ci_group(config)
        except StateError as error:
            problems.append(error.message)
            gid = info.st_gid
        if stat.S_IMODE(info.st_mode) != MODE or info.st_gid != gid:
            problems.append("%s should be mode 0640, group %s (it is %04o, gid %d): the next user change"
                            " or site.yml repairs it" % (path, config.ci_user, stat.S_IMODE(info.st_mode),
                                                         info.st_gid))
    if state is not None and current(config) != render(config, state):
        problems.append("%s does not match the state (re-run site.yml or any user:* command)" % path)
    return problems
