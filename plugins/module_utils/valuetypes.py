# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The closed set of value types the command registry gives to every word a non-admin may pass.

Each type is a full-string check over ASCII character sets: a value either is of the type or the
command is malformed. Nothing is normalised, trimmed or unquoted first. No type accepts a blank,
a quote, a shell or ``sed``/nginx metacharacter, a leading ``-`` (Dokku collects ``--*`` words
from any position as global flags) or a ``..`` path segment, unless its row says why it may; the
comments say what Dokku does with values of each type. (No ``re``: the gate imports this.)
"""

from __future__ import annotations

from . import images
from .names import APP, Pattern

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_DIGIT = frozenset(_DIGITS)
_ALNUM = _LOWER + _UPPER + _DIGITS

_WORD = Pattern(_ALNUM, _ALNUM + "._-", 128)
_PROCTYPE = Pattern(_ALNUM, _ALNUM + "_-", 63)
_CONFIG_KEY = Pattern(_ALNUM.replace(_DIGITS, "") + "_", _ALNUM + "_", 128)
_PATH_CHARS = frozenset(_ALNUM + "._/-")
_URL_CHARS = frozenset(_ALNUM + "._~/%:@+-=")
_LABEL = Pattern(_LOWER + _DIGITS, _LOWER + _DIGITS + "-", 63)
# Printable ASCII without a blank: the words the gate's splitter can produce outside quotes.
_VISIBLE = frozenset(chr(c) for c in range(0x21, 0x7F))
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def _digits(value, most=9):
    return isinstance(value, str) and 0 < len(value) <= most and all(c in _DIGIT for c in value)


def t_int(value, ctx=None):
    return _digits(value)


def t_port(value, ctx=None):
    return _digits(value, 5) and 0 < int(value) <= 65535


def t_bool(value, ctx=None):
    return value in ("true", "false")


def t_size(value, ctx=None):
    """Docker's memory sizes (``units.RAMInBytes``): digits and one unit letter."""
    if not isinstance(value, str) or not value:
        return False
    number = value[:-1] if value[-1] in "bkmgBKMG" else value
    return _digits(number)


def t_cpus(value, ctx=None):
    if not isinstance(value, str):
        return False
    whole, dot, frac = value.partition(".")
    return _digits(whole, 4) and (not dot or _digits(frac, 3))


def t_word(value, ctx=None):
    return _WORD.match(value) and ".." not in value


def t_proctype(value, ctx=None):
    """A Procfile process type. Dokku joins it into paths and container names and passes it
    unquoted to globs (``enter``): letters, digits, ``_`` and ``-`` only."""
    return _PROCTYPE.match(value)


def t_proctypes(value, ctx=None):
    return isinstance(value, str) and 0 < len(value) <= 512 and all(t_proctype(p) for p in value.split(","))


def t_scale(value, ctx=None):
    kind, eq, count = value.partition("=") if isinstance(value, str) else ("", "", "")
    return bool(eq) and t_proctype(kind) and _digits(count, 4)


def t_domain(value, ctx=None):
    """A DNS name (RFC 1123 labels, lower case), optionally a leading ``*.`` wildcard."""
    if not isinstance(value, str) or not 0 < len(value) <= 253:
        return False
    name = value[2:] if value.startswith("*.") else value
    labels = name.split(".")
    for label in labels:
        if not _LABEL.match(label) or label.endswith("-"):
            return False
    return True


def t_portmap(value, ctx=None):
    """``SCHEME:HOST:CONTAINER`` as ports:add/set take it."""
    if not isinstance(value, str):
        return False
    parts = value.split(":")
    return (len(parts) == 3 and parts[0] in ("http", "https", "tcp", "udp")
            and t_port(parts[1]) and t_port(parts[2]))


def t_relpath(value, ctx=None):
    """A path inside the app's own source tree: relative, no ``..`` segment, no leading ``-``."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or value[0] in "/-":
        return False
    if any(c not in _PATH_CHARS for c in value):
        return False
    return all(part not in ("", ".", "..") for part in value.split("/"))


def t_git_ref(value, ctx=None):
    """A branch name (``git check-ref-format --branch`` rules, narrowed): Dokku joins the deploy
    branch into ``refs/heads/...`` paths."""
    if not t_relpath(value) or value.endswith(".lock") or value.endswith(".") or "@{" in value:
        return False
    return all(not part.startswith(".") for part in value.split("/"))


def t_url(value, ctx=None):
    """``https://``/``http://``/``git://`` URLs with a host; no blank, quote or metacharacter."""
    if not isinstance(value, str) or not 0 < len(value) <= 512:
        return False
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("https", "http", "git"):
        return False
    body, hash_sep, ref = rest.partition("#")
    if any(c not in _URL_CHARS for c in body) or (hash_sep and not t_git_ref(ref)):
        return False
    host = body.partition("/")[0].rpartition("@")[2].partition(":")[0]
    return t_domain(host.lower()) and "." in host


def t_registry_image(value, ctx=None):
    """An image on a named registry (``host.name[:port]/path:tag``): never a local image, never
    an app's ``dokku/APP`` image under any Docker Hub spelling."""
    ref = images.parse(value)
    return (ref is not None and ref.host is not None and ref.local_app is None
            and ref.host.lower() not in images.DOCKER_HUB_HOSTS and (ref.tag is not None or ref.digest is not None))


def t_own_image(value, ctx=None):
    """``dokku/APP:TAG`` of the command's own app."""
    image = images.app_image(value)
    return image is not None and ctx is not None and image[0] == ctx


def t_source_image(value, ctx=None):
    """What ``git:from-image`` deploys: the app's own ``dokku/APP:TAG`` or a registry image."""
    return t_own_image(value, ctx) or t_registry_image(value)


def t_restart_policy(value, ctx=None):
    """Docker's ``--restart`` values; Dokku re-splits the value into the docker command line."""
    if value in ("no", "always", "unless-stopped", "on-failure"):
        return True
    head, sep, count = value.partition(":") if isinstance(value, str) else ("", "", "")
    return head == "on-failure" and bool(sep) and _digits(count, 4)


# Config keys Dokku or the programs it runs on the host read from the app's environment. Dokku
# exports an app's config into its own bash during builds (``config_export``), so a key that bash,
# the dynamic loader, git, docker or Dokku itself interprets would change what the host runs.
_RESERVED_KEYS = frozenset((
    "BASH_ENV", "ENV", "PATH", "HOME", "IFS", "SHELL", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
    "CDPATH", "GLOBIGNORE", "TMPDIR", "TMP", "TEMP", "TEMPDIR", "USER", "LOGNAME", "PWD", "OLDPWD",
    "HOSTNAME", "TERM", "SSH_ORIGINAL_COMMAND", "SSH_CONNECTION", "SSH_AUTH_SOCK", "NAME", "FINGERPRINT",
    "PLUGIN_PATH", "APP", "IMAGE", "IMAGE_TAG", "TZ", "EDITOR", "VISUAL", "PAGER", "BROWSER", "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PERL5LIB", "PERL5OPT", "RUBYOPT",
    "NODE_OPTIONS", "GCONV_PATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS", "NLSPATH", "MALLOC_CHECK_",
    "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
))
_RESERVED_PREFIXES = ("DOKKU_", "DOCKER_", "GIT_", "LD_", "BASH_FUNC_", "BUILDKIT_", "PLUGN_", "SSH_", "LC_",
                      "LANG", "SUDO_", "SYSTEMD_", "DBUS_", "KUBE", "K3S_", "HELM_", "NIXPACKS_", "RAILPACK_",
                      "PACK_", "CNB_", "HEROKUISH_", "SIGIL_", "GO", "CURL_", "WGET", "SSL_", "OPENSSL_")


def t_config_key(value, ctx=None):
    if not _CONFIG_KEY.match(value) or value in _RESERVED_KEYS:
        return False
    upper = value.upper()
    return not any(upper.startswith(prefix) for prefix in _RESERVED_PREFIXES) and upper not in _RESERVED_KEYS


def t_config_pair(value, ctx=None):
    """``KEY=VALUE``: any printable value (Dokku stores it base64-encoded and exports it quoted)."""
    key, eq, rest = value.partition("=") if isinstance(value, str) else ("", "", "")
    return bool(eq) and t_config_key(key) and len(rest) <= 16384 and all(c in _PRINTABLE for c in rest)


def t_cmdword(value, ctx=None):
    """A word of a container's command line. Dokku collects ``--*`` words from any position as
    its own global flags (``--app``, ``--trace``, ``--force``, ``--label*`` into the docker run
    arguments), so no word may start with ``--``; quote a flag into one word with its command
    (``run web sh -c 'manage.py migrate --noinput'``)."""
    return (isinstance(value, str) and 0 < len(value) <= 4096 and not value.startswith("--")
            and all(c in _PRINTABLE or c == "\t" for c in value))


# Words Dokku's own argument parser acts on wherever they stand (common/functions parse_args:
# --app, --trace, --force, --quiet) and the ones scheduler-run copies into ``docker run``
# (``--label*``, scheduler-docker-local/scheduler-run), besides the gate's admin-only options.
_FLAG_WORDS = frozenset(("--app", "--trace", "--force", "--quiet", "--global", "--all", "--all-apps", "--help"))


def t_report_flag(value, ctx=None):
    """One field of a ``:report`` (``--ps-restart-policy``): Dokku only compares it with the
    report's keys; it still lands in DOKKU_GLOBAL_FLAGS, so Dokku's own flags are not one."""
    if not isinstance(value, str) or not value.startswith("--") or not 3 <= len(value) <= 96:
        return False
    body = value[2:]
    return (body[0] in _LOWER and all(c in _LOWER or c in _DIGIT or c == "-" for c in body)
            and value not in _FLAG_WORDS and not value.startswith("--label"))


def t_any(value, ctx=None):
    """Anything printable but Dokku's own flags: only on ``literal`` rows, whose grant already
    trusts the team with the host (docker options, host paths, archive URLs)."""
    return (isinstance(value, str) and 0 < len(value) <= 4096 and value not in _FLAG_WORDS
            and all(c in _PRINTABLE or c == "\t" for c in value))


def t_app(value, ctx=None):
    return APP.match(value)


TYPES = {
    "int": t_int, "port": t_port, "bool": t_bool, "size": t_size, "cpus": t_cpus, "word": t_word,
    "proctype": t_proctype, "proctypes": t_proctypes, "scale": t_scale, "domain": t_domain,
    "portmap": t_portmap, "relpath": t_relpath, "git-ref": t_git_ref, "url": t_url,
    "registry-image": t_registry_image, "own-image": t_own_image, "source-image": t_source_image,
    "restart-policy": t_restart_policy, "config-key": t_config_key, "config-pair": t_config_pair,
    "env-pair": t_config_pair, "cmdword": t_cmdword, "app": t_app, "report-flag": t_report_flag,
    "any": t_any,
}


def check(type_name, value, ctx=None):
    """Whether ``value`` is of the registry type ``type_name`` (``choice:a|b`` lists words)."""
    if type_name.startswith("choice:"):
        return value in type_name[7:].split("|")
    return bool(TYPES[type_name](value, ctx))


def known(type_name):
    return type_name.startswith("choice:") or type_name in TYPES


def describe(type_name):
    if type_name.startswith("choice:"):
        return "one of " + ", ".join(type_name[7:].split("|"))
    return {"int": "a whole number", "port": "a port 1-65535", "bool": "true or false",
            "size": "a size such as 512m", "cpus": "a number of CPUs such as 1.5",
            "word": "a plain word (letters, digits, . _ -)", "proctype": "a process type (letters, digits, _ -)",
            "proctypes": "process types separated by commas", "scale": "PROCESS=COUNT",
            "domain": "a domain name", "portmap": "SCHEME:HOST_PORT:CONTAINER_PORT (http, https, tcp, udp)",
            "relpath": "a relative path inside the app's source (no .. or leading / or -)",
            "git-ref": "a branch name", "url": "an http(s) or git URL",
            "registry-image": "an image on a named registry (host.name/path:tag)",
            "own-image": "this app's own image dokku/APP:TAG",
            "source-image": "this app's own image dokku/APP:TAG or an image on a named registry",
            "restart-policy": "no, always, unless-stopped, on-failure[:N]",
            "config-key": "a config key (letters, digits, _; not a name Dokku or the host shell reads)",
            "config-pair": "KEY=VALUE with a config key", "env-pair": "KEY=VALUE with a config key",
            "cmdword": "a word that does not start with --", "app": "an app name",
            "report-flag": "one report field such as --ps-restart-policy",
            "any": "printable words other than Dokku's own flags"}.get(type_name, type_name)
