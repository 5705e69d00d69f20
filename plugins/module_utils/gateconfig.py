# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gate's root-owned configuration file (``/etc/dokku-teams/gate.conf``).

Every path the gate uses comes from here, never from the environment. The format is as
plain as it gets: one ``key=value`` a line, ``#`` starts a comment line, blank lines are
ignored, no quoting (the value is everything after the first ``=``, with surrounding blanks
removed). An unknown key, a repeated key or a bad value makes the whole file unusable: the
gate then refuses everything (exit 75). The file must be a regular file, not a symlink,
owned by the effective user and not writable by group or others.

Keys and defaults::

    state_dir=/var/lib/dokku-teams
    audit_log=/var/log/dokku-teams/audit.log
    dokku=/usr/bin/dokku
    docker=/usr/bin/docker
    docker_over_ssh=/usr/local/bin/docker-over-ssh
    run_as=dokku
    home=/home/dokku
    path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    spool_dir=/var/lib/dokku-teams/spool
    max_image_bytes=10737418240          # one git:load-image stream
    max_spool_bytes=25769803776          # all uploads in progress together (24 GiB)
    max_user_spool_bytes=11811160064     # one user's uploads in progress together (11 GiB)
    spool_reserve_bytes=1073741824       # free space the spool's file system keeps (1 GiB)
    upload_idle_timeout=300              # seconds an upload may send nothing
    upload_timeout=3600                  # seconds a whole upload may take
    drop_privileges=true
    authorized_keys=/home/ci/.ssh/authorized_keys   # the rest are for the CLI and the modules
    gate=/usr/local/lib/dokku-teams/gate
    allow_pty=false
    ci_user=ci

``spool_dir`` may not hold the audit log: a full spool must never stop the audit line every
command needs (``spool_reserve_bytes`` keeps room when they share a file system).

(Imported on the gate's start-up path: ``fsutil`` only, no ``re``.)
"""

from __future__ import annotations

from .errors import StateError
from .fsutil import read_trusted
from .names import USER

# The one place for the collection's default paths: the engine imports them from here; the
# module docs and the role's YAML, which cannot import, are held to them by a unit test
# (tests/unit/test_defaults.py).
DEFAULT_PATH = "/etc/dokku-teams/gate.conf"
# Not keys, because nothing may move them: authorized_keys runs the gate through this sudo
# (the role's sudoers rule names it too), and the installed programs start under this
# interpreter with -IS.
SUDO = "/usr/bin/sudo"
PYTHON = "/usr/bin/python3"
MAX_BYTES = 64 * 1024

DEFAULTS = {
    "state_dir": "/var/lib/dokku-teams",
    "audit_log": "/var/log/dokku-teams/audit.log",
    "dokku": "/usr/bin/dokku",
    "docker": "/usr/bin/docker",
    "docker_over_ssh": "/usr/local/bin/docker-over-ssh",
    "run_as": "dokku",
    "home": "/home/dokku",
    "path": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "spool_dir": "/var/lib/dokku-teams/spool",
    "max_image_bytes": 10 * 1024 * 1024 * 1024,
    "max_spool_bytes": 24 * 1024 * 1024 * 1024,
    "max_user_spool_bytes": 11 * 1024 * 1024 * 1024,
    "spool_reserve_bytes": 1024 * 1024 * 1024,
    "upload_idle_timeout": 300,
    "upload_timeout": 3600,
    "drop_privileges": True,
    # Read by the CLI, the compatibility command and the modules (not by the gate):
    "authorized_keys": "/home/ci/.ssh/authorized_keys",
    "gate": "/usr/local/lib/dokku-teams/gate",
    "allow_pty": False,
    "ci_user": "ci",
}

_ABSOLUTE = ("state_dir", "audit_log", "dokku", "docker", "docker_over_ssh", "home", "spool_dir",
             "authorized_keys", "gate")
_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+@-")
_DIGITS = frozenset("0123456789")
_COUNTS = ("max_image_bytes", "max_spool_bytes", "max_user_spool_bytes", "spool_reserve_bytes",
           "upload_idle_timeout", "upload_timeout")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class GateConfig(object):
    """The parsed configuration: one attribute per key."""

    __slots__ = tuple(DEFAULTS)

    def __init__(self, values=None):
        for key, value in DEFAULTS.items():
            setattr(self, key, value)
        for key, value in (values or {}).items():
            setattr(self, key, value)

    def programs(self):
        """The ``programs`` mapping ``policy.decide`` builds argv from."""
        return {"dokku": self.dokku, "docker": self.docker, "docker-over-ssh": self.docker_over_ssh}

    def as_dict(self):
        return dict((key, getattr(self, key)) for key in DEFAULTS)


# What a decision's argv names when no config is given (dokku-teams check on a checkout).
DEFAULT_PROGRAMS = GateConfig().programs()


def _absolute(key, value):
    if not value.startswith("/") or any(c not in _PATH_CHARS for c in value) or \
            "/../" in value + "/" or "/./" in value + "/" or "//" in value:
        raise StateError("gate config: %s must be a plain absolute path" % key)
    return value


def _value(key, text, line_number):
    if key in _ABSOLUTE:
        return _absolute(key, text)
    if key == "path":
        parts = text.split(":")
        if not text or not all(part and _absolute(key, part) for part in parts):
            raise StateError("gate config line %d: path must be absolute directories joined by ':'" % line_number)
        return text
    if key == "run_as" or key == "ci_user":
        if not USER.match(text) or text[0] in "@.-":
            raise StateError("gate config line %d: %s must be a user name" % (line_number, key))
        return text
    if key in _COUNTS:
        if not text or len(text) > 18 or any(c not in _DIGITS for c in text) or int(text) <= 0:
            raise StateError("gate config line %d: %s must be a positive number of %s"
                             % (line_number, key, "seconds" if key.endswith("timeout") else "bytes"))
        return int(text)
    if key == "drop_privileges" or key == "allow_pty":
        if text not in _BOOLEANS:
            raise StateError("gate config line %d: %s must be true or false" % (line_number, key))
        return _BOOLEANS[text]
    raise StateError("gate config line %d: unknown key" % line_number)


def parse(text):
    """Parse the text of a config file into a ``GateConfig``; ``StateError`` when it is bad."""
    values = {}
    for line_number, line in enumerate(text.split("\n"), 1):
        line = line.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip(" \t")
        if not sep:
            raise StateError("gate config line %d: expected key=value" % line_number)
        if key not in DEFAULTS:
            raise StateError("gate config line %d: unknown key" % line_number)
        if key in values:
            raise StateError("gate config line %d: %s is set twice" % (line_number, key))
        values[key] = _value(key, value.strip(" \t"), line_number)
    config = GateConfig(values)
    log_dir = config.audit_log.rsplit("/", 1)[0] or "/"
    spool = config.spool_dir.rstrip("/") + "/"
    if (log_dir.rstrip("/") + "/").startswith(spool):
        raise StateError("gate config: the audit log may not be in spool_dir (a full spool would stop it)")
    return config


def load(path=DEFAULT_PATH):
    """Read and check the config file at ``path`` (fail closed: ``StateError``)."""
    label = "gate config %s" % path
    # The file alone is checked, as the audit log is (audit._open_checked): --config may name
    # a file in any system directory; the checks on the file itself keep out a link or a file
    # someone else wrote.
    data = read_trusted(path, max_bytes=MAX_BYTES, label=label, check_dir=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise StateError("%s is not UTF-8 text" % label)
    return parse(text)
