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

import binascii

from . import images
from .names import APP, Pattern

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_DIGIT = frozenset(_DIGITS)
_ALNUM = _LOWER + _UPPER + _DIGITS

_WORD = Pattern(_ALNUM, _ALNUM + "._-", 128)
_PROCTYPE = Pattern(_ALNUM, _ALNUM + "_-", 63)
_CONFIG_KEY = Pattern(_UPPER, _UPPER + _DIGITS + "_", 128)
_ENV_KEY = Pattern(_LOWER + _UPPER + "_", _ALNUM + "_", 128)
_PATH_CHARS = frozenset(_ALNUM + "._/-")
_URL_CHARS = frozenset(_ALNUM + "._~/%:@+-=")
_LABEL = Pattern(_LOWER + _DIGITS, _LOWER + _DIGITS + "-", 63)
# Printable ASCII without a blank: the words the gate's splitter can produce outside quotes.
# No value a member gives Dokku holds a backslash (but the container words of run/enter, below):
# Dokku's bash plugins export what they are given (a datastore's -C/--custom-env and every other
# option: dokku-postgres common-functions:724-807; config values at every deploy,
# builder-herokuish/builder-build:44-45) and plugn's go-basher writes the environment of every
# hook as export K=$'V', escaping only quotes (go-basher v5.1.8 basher.go:393-394): a backslash
# before a quote ends the string and the rest runs as the dokku user. Without a backslash every
# quote stays escaped, and godotenv, which stores config values, cannot be led to misread one
# (a value ending in a backslash swallows the next key's quote: godotenv parser.go:166-169).
_VISIBLE = frozenset(chr(c) for c in range(0x21, 0x7F)) - frozenset("\\")
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) - frozenset("\\")
# A container's command word reaches the container as one argv word: go-basher quotes hook
# arguments whole (basher.go:437) and the scheduler passes them as an array.
_ARGV_WORD = _PRINTABLE | frozenset("\\")
_HEX = frozenset("0123456789abcdef")
_B36 = Pattern(_LOWER + _DIGITS, _LOWER + _DIGITS, 2048)
_TAG = Pattern(_ALNUM + "_", _ALNUM + "_.-", 128)
# env-pair values: visible, no quote or backslash (xargs re-splits ``--env=PAIR``).
_ENV_VALUE = _VISIBLE - frozenset("\"'\\")
# cmdline: printable, no quote or backslash (xargs re-splits the start command).
_CMDLINE = _PRINTABLE - frozenset("\"'\\")
_FLAG_NAME = Pattern(_LOWER + _DIGITS, _LOWER + _DIGITS + "_-", 128)
_REGISTRY_USER = Pattern(_ALNUM + "_$", _ALNUM + "_.@+$-", 256)
_GIT_IDENT = Pattern(_ALNUM, _ALNUM + " ._@+-", 128)
_SERVICE_ARG = frozenset(_ALNUM + "_./:=,+@%-")
_QUERY = frozenset(_ALNUM + "._~%=&+,:/-")
_TOKEN = Pattern(_ALNUM + "._~+/=:@%,", _ALNUM + "._~+/=:@%,-", 256)
_PASSWORD = Pattern(_ALNUM + "._~", _ALNUM + "._~-", 128, 8)
_NGINX_VALUE = Pattern(_ALNUM + "_", _ALNUM + "_", 64)
_BUCKET = Pattern(_ALNUM, _ALNUM + "._-", 63, 2)
_BUCKET_PART = Pattern(_ALNUM + "._-", _ALNUM + "._-", 128)


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


_SCHEMES = ("http", "https", "grpc", "grpcs")


def t_portmap(value, ctx=None):
    """``SCHEME:HOST:CONTAINER``. Dokku never checks the scheme (ports/functions.go:356-360) and
    pastes it into templates and labels; only http, https, grpc, grpcs mean anything to a proxy
    (nginx-vhosts/templates/nginx.conf.sigil:7,116). Ports 1-65535 (functions.go:270-272)."""
    parts = value.split(":") if isinstance(value, str) else ()
    return len(parts) == 3 and parts[0] in _SCHEMES and t_port(parts[1]) and t_port(parts[2])


def t_portspec(value, ctx=None):
    """ports:remove: a mapping, or a bare host port (ports/functions.go:317-331)."""
    return t_portmap(value) or t_port(value)


def _segments_ok(path):
    return all(part not in ("", ".", "..") for part in path.split("/"))


def t_relpath(value, ctx=None):
    """A path inside the app's own source tree: relative, no ``..`` segment, no leading ``-``."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or value[0] in "/-":
        return False
    return all(c in _PATH_CHARS for c in value) and _segments_ok(value)


def t_abspath(value, ctx=None):
    """An absolute path, no ``..`` or empty segment (storage:unmount compares it only)."""
    if not isinstance(value, str) or not 1 < len(value) <= 255 or value[0] != "/":
        return False
    return all(c in _PATH_CHARS for c in value) and _segments_ok(value[1:])


def t_ctrpath(value, ctx=None):
    """A path inside the app's container (scheduler:set shell: one argv element, scheduler-run:143-152)."""
    return t_abspath(value)


def t_git_ref(value, ctx=None):
    """A branch name (``git check-ref-format --branch`` rules, narrowed): Dokku joins the deploy
    branch into ``refs/heads/...`` paths (git/functions:119-120)."""
    if not t_relpath(value) or value.endswith(".lock") or value.endswith(".") or "@{" in value:
        return False
    return all(not part.startswith(".") for part in value.split("/"))


def t_url(value, ctx=None, schemes=("https", "http", "git")):
    """URLs with a dotted host; no blank, quote or metacharacter; an optional ``#ref``."""
    if not isinstance(value, str) or not 0 < len(value) <= 512:
        return False
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in schemes:
        return False
    body, hash_sep, ref = rest.partition("#")
    if any(c not in _URL_CHARS for c in body) or (hash_sep and not t_git_ref(ref)):
        return False
    host = body.partition("/")[0].rpartition("@")[2].partition(":")[0]
    return t_domain(host.lower()) and "." in host


def t_buildpack(value, ctx=None):
    """An http(s) URL or the ``ORG/NAME`` shorthand (buildpacks/functions.go:90-110); never a
    local path, ``file://`` or ``git@`` (pack runs on the host: builder-pack/builder-build:285-302)."""
    if t_url(value, schemes=("https", "http")):
        return True
    org, slash, name = value.partition("/") if isinstance(value, str) else ("", "", "")
    return bool(slash) and _SHORTHAND.match(org) and _SHORTHAND.match(name)


_SHORTHAND = Pattern(_ALNUM + "_-", _ALNUM + "_-", 64)


def t_tag(value, ctx=None):
    return _TAG.match(value)


def t_tags(value, ctx=None):
    parts = value.split(",") if isinstance(value, str) else ()
    return 0 < len(parts) <= 16 and all(_TAG.match(part) for part in parts)


def t_image_tag(value, ctx=None):
    return _TAG.match(value)


def t_registry_image(value, ctx=None):
    """An image on a named registry (``host[:port]/path`` with a tag or digest). Never another
    app's ``dokku/APP`` path, on ANY host: a push-on-release app leaves ``SERVER/dokku/APP:N`` as
    a local tag (registry/functions.go:143-153) and git-from-image skips the pull of a local name
    (git/git-from-image:33-45)."""
    ref = images.parse(value)
    if ref is None or ref.host is None or (ref.tag is None and ref.digest is None):
        return False
    parts = ref.path.split("/")
    return not (len(parts) == 2 and parts[0] == "dokku" and parts[1] != ctx)


def t_own_image(value, ctx=None):
    """``dokku/APP:TAG`` of the command's own app."""
    image = images.app_image(value)
    return image is not None and ctx is not None and image[0] == ctx


def t_image(value, ctx=None):
    """What an app is built or deployed from: its own image or a registry image."""
    return t_own_image(value, ctx) or t_registry_image(value, ctx)


def _ipv4(value):
    parts = value.split(".")
    return len(parts) == 4 and all(_digits(part, 3) and int(part) <= 255 for part in parts)


def t_registry_host(value, ctx=None):
    """``host[:port]`` for docker login and the registry prefix: localhost, IPv4 or a dotted DNS name."""
    if not isinstance(value, str):
        return False
    host, colon, port = value.partition(":")
    if colon and not t_port(port):
        return False
    return host == "localhost" or _ipv4(host) or ("." in host and t_domain(host) and not host.startswith("*"))


def t_hostport(value, ctx=None):
    """A datastore's exposed port: ``PORT`` or ``IPV4:PORT`` (pasted unquoted into ``-p``,
    dokku-postgres common-functions:87-93,905-907)."""
    if not isinstance(value, str):
        return False
    host, colon, port = value.rpartition(":")
    return t_port(port) and (not colon or _ipv4(host))


def t_registry_user(value, ctx=None):
    return _REGISTRY_USER.match(value)


def t_secret(value, ctx=None):
    """A password written to docker login's stdin (registry/subcommands.go:39-40): printable,
    blanks allowed, no leading blank or ``-``."""
    return (isinstance(value, str) and 0 < len(value) <= 512 and value[0] not in " -"
            and all(c in _PRINTABLE for c in value))


def t_git_ident(value, ctx=None):
    """git user.name / user.email: one quoted argv word to ``git config`` (git-from-directory:33-34)."""
    return _GIT_IDENT.match(value)


def t_storage_ref(value, ctx=None):
    """storage:unmount's entry: a name, or ``SRC:DEST[:OPTS]`` (only compared: storage/subcommands.go:280-298)."""
    if t_word(value):
        return True
    parts = value.split(":") if isinstance(value, str) else ()
    if len(parts) not in (2, 3) or not (t_abspath(parts[0]) or t_word(parts[0])) or not t_abspath(parts[1]):
        return False
    return len(parts) == 2 or (0 < len(parts[2]) <= 32 and all(c in _LOWER + "," for c in parts[2]))


def t_phases(value, ctx=None):
    parts = value.split(",") if isinstance(value, str) else ()
    return 0 < len(parts) <= 3 and len(set(parts)) == len(parts) and all(p in ("build", "deploy", "run") for p in parts)


def t_text(value, ctx=None):
    """Any printable word but Dokku's own flags (common/functions:493-507): only on ``literal``
    rows, whose grant already trusts the team with the host (docker options, host paths); the
    registry refuses the type on any other row."""
    if not isinstance(value, str) or not 0 < len(value) <= 1024 or any(c not in _PRINTABLE for c in value):
        return False
    return not (value.startswith("--") and value[2:].partition("=")[0] in _DOKKU_FLAGS)


def t_restart_policy(value, ctx=None):
    """Docker's ``--restart`` values; Dokku re-splits the value into the docker command line
    (ps/triggers.go:57) after checking only its prefix (ps/functions.go:124-141)."""
    if value in ("no", "always", "unless-stopped", "on-failure"):
        return True
    head, sep, count = value.partition(":") if isinstance(value, str) else ("", "", "")
    return head == "on-failure" and bool(sep) and _digits(count, 4)


def t_dyno(value, ctx=None):
    """A process type or one container of it (``web.1``): enter pastes it unquoted into a glob
    path (common/functions:551-566)."""
    kind, dot, index = value.partition(".") if isinstance(value, str) else ("", "", "")
    return t_proctype(kind) and (not dot or _digits(index, 4))


def t_dynos(value, ctx=None):
    parts = value.split(",") if isinstance(value, str) else ()
    return 0 < len(parts) <= 32 and all(t_dyno(part) for part in parts)


def t_checks_proctypes(value, ctx=None):
    """checks:disable|enable|skip's process types, or ``_all_``: the word Dokku fills in when none
    is given (checks/subcommands/enable:14,19), compared whole, never globbed."""
    return value == "_all_" or t_proctypes(value)


def t_checks_dynos(value, ctx=None):
    """checks:run's ``TYPE[.N]`` list, or ``_all_`` (checks/subcommands/run:84,87)."""
    return value == "_all_" or t_dynos(value)


def _index(value):
    """A container or attachment number as Dokku prints it: ``%d``, counting from 1."""
    return _digits(value, 4) and value[0] != "0"


def t_dyno_n(value, ctx=None):
    """One container, ``TYPE.N``: ps:report's ``--status-*`` flags are named after the app's own
    ``CONTAINER.TYPE.N`` files (ps/report.go:93-99)."""
    kind, dot, index = value.partition(".") if isinstance(value, str) else ("", "", "")
    return bool(dot and t_proctype(kind) and _index(index))


_RESOURCE_KEYS = frozenset(("cpu", "memory", "memory-swap", "network", "network-ingress",
                            "network-egress", "nvidia-gpu"))


def t_resource_key(value, ctx=None):
    """A resource property ``TYPE.limit|reserve.KEY`` (resource/resource.go:77-79; TYPE is a
    process type or ``_default_``, the keys are functions.go:69-77): resource:report's flags
    are ``--resource-`` and the key (resource/resource.go:33-37)."""
    parts = value.split(".") if isinstance(value, str) else ()
    return (len(parts) == 3 and (parts[0] == "_default_" or t_proctype(parts[0]))
            and parts[1] in ("limit", "reserve") and parts[2] in _RESOURCE_KEYS)


_ATTACHMENT_FIELDS = frozenset(("entry-name", "host-path", "container-path", "phases", "process-type",
                                "subpath", "readonly", "volume-options", "volume-chown"))


def t_attachment_key(value, ctx=None):
    """``N.FIELD`` of a storage attachment: storage:report's ``--storage-attachment.N.FIELD``
    flags (storage/report.go:76-91)."""
    index, dot, field = value.partition(".") if isinstance(value, str) else ("", "", "")
    return bool(dot and _index(index) and field in _ATTACHMENT_FIELDS)


def t_cronid(value, ctx=None):
    """A cron task id: base36 (cron/cron.go:229,250), joined into a property name."""
    return _B36.match(value)


def t_buildid(value, ctx=None):
    """A build id (builds/builds.go:177-190) or ``current``; joined into a path (builds.go:224-231)."""
    return value == "current" or (_B36.match(value) and len(value) == 14)


def t_cid(value, ctx=None):
    """A container id prefix: grep'd against the app's own ids (scheduler-enter:79-85)."""
    return isinstance(value, str) and 12 <= len(value) <= 64 and all(c in _HEX for c in value)


def t_cmdline(value, ctx=None):
    """A start command: after the IMAGE in an xargs-split docker argument string
    (scheduler-deploy-process-container:30-33,66-72): blanks are fine, quotes and backslashes are not."""
    return (isinstance(value, str) and 0 < len(value) <= 1024 and value[0] != "-"
            and all(c in _CMDLINE for c in value))


def _nginx_number(value, units, most=9):
    if not isinstance(value, str) or not value:
        return False
    for unit in units:
        if unit and value.endswith(unit):
            return _digits(value[:-len(unit)], most)
    return _digits(value, most)


def t_nginx_size(value, ctx=None):
    """nginx size syntax, pasted bare before ``;`` (nginx-vhosts/templates/nginx.conf.sigil:65-82)."""
    return _nginx_number(value, "kKmMgG")


def t_nginx_time(value, ctx=None):
    """nginx time syntax (nginx.conf.sigil:30-34,62-64)."""
    return _nginx_number(value, ("ms", "s", "m", "h", "d"))


def t_nginx_buffers(value, ctx=None):
    """``NUMBER SIZE`` in one word (proxy_buffers, nginx.conf.sigil:67)."""
    count, blank, size = value.partition(" ") if isinstance(value, str) else ("", "", "")
    return bool(blank) and _digits(count, 4) and _nginx_number(size, "kKmM")


def t_nginx_value(value, ctx=None):
    """An nginx variable or plain token (``$remote_addr``, ``https``): nginx.conf.sigil:72-74."""
    return isinstance(value, str) and _NGINX_VALUE.match(value[1:] if value.startswith("$") else value)


def t_service_args(value, ctx=None):
    """A datastore's container command-line options, expanded unquoted on the host
    (dokku-postgres functions:127): single blanks between words, no glob, quote or ``$``."""
    if not isinstance(value, str):
        return False
    words = value.split(" ")
    return (0 < len(words) <= 32 and all(0 < len(w) <= 128 and all(c in _SERVICE_ARG for c in w) for w in words)
            and not _dokku_flag(value))


def t_custom_env(value, ctx=None):
    """``K=V;K=V``: lines of the service's docker env-file (dokku-postgres common-functions:325-331);
    every item needs ``=`` (a bare KEY copies Dokku's own environment)."""
    items = value.split(";") if isinstance(value, str) else ()
    if not 0 < len(items) <= 64:
        return False
    for item in items:
        key, eq, rest = item.partition("=")
        if not eq or not _ENV_KEY.match(key) or len(rest) > 4096 or any(c not in _PRINTABLE for c in rest):
            return False
    return True


def t_password(value, ctx=None):
    """URL-unreserved characters: inert in the DSN, grep patterns and container shells
    (dokku-postgres functions:49-55,240)."""
    return _PASSWORD.match(value)


def t_link_alias(value, ctx=None):
    """``ALIAS`` of a link: ``${ALIAS^^}_URL`` becomes a config key of the app
    (dokku-postgres common-functions:757-759,658-661), so that key must be a config-key."""
    if not isinstance(value, str) or not 0 < len(value) <= 60 or value[0] not in _LOWER + _UPPER:
        return False
    if any(c not in _ALNUM + "_" for c in value):
        return False
    key = value.upper()
    if key.endswith("_URL"):
        key = key[:-4]
    return t_config_key(key + "_URL")


def t_querystring(value, ctx=None):
    """Appended to the linked app's URL value (common-functions:655,792); no blank or glob."""
    if not isinstance(value, str):
        return False
    body = value[1:] if value.startswith("?") else value
    return 0 < len(body) <= 512 and body[0] != "-" and all(c in _QUERY for c in body)


def t_bucket(value, ctx=None):
    """An S3 bucket and prefix, pasted unquoted into ``docker run`` (common-functions:291,316)."""
    parts = value.split("/") if isinstance(value, str) else ()
    return (0 < len(parts) <= 9 and _BUCKET.match(parts[0]) and all(_BUCKET_PART.match(p) for p in parts[1:])
            and ".." not in parts and "." not in parts)


def t_secret_token(value, ctx=None):
    """Backup credentials and passphrases, read back with ``$(cat FILE)`` into an unquoted
    ``docker run`` argument string (common-functions:277,296-316): no blank, quote, glob or ``$``."""
    return _TOKEN.match(value)


def t_gpg_key_id(value, ctx=None):
    body = value[2:] if isinstance(value, str) and value.startswith("0x") else value
    return isinstance(body, str) and 8 <= len(body) <= 40 and all(c in "0123456789abcdefABCDEF" for c in body)


_CRON_NICKNAMES = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
_CRON_FIELD = frozenset(_DIGITS + "*/,-")


def t_cron(value, ctx=None):
    """A schedule written before ``dokku`` (the user field) in /etc/cron.d (common-functions:405,412):
    exactly five fields or a nickname; no ``%`` (cron's newline) and no letters."""
    if value in _CRON_NICKNAMES:
        return True
    fields = value.split(" ") if isinstance(value, str) else ()
    return len(fields) == 5 and all(0 < len(f) <= 32 and all(c in _CRON_FIELD for c in f) for f in fields)


# Config keys an app may not set. Dokku exports every key of the app into its own bash during
# builds and nginx renders (``eval "$(config_export app APP)"``: builder-dockerfile/builder-build:282,
# builder-herokuish/builder-build:44, nginx-vhosts/functions:309, scheduler-docker-local/
# internal-functions:310), so a key that bash, the loader, git, docker, a host tool or Dokku's own
# code reads after the eval changes what the host runs. The set is the runtime research's
# (docs/VALUES.md "config keys"): shell/loader/tool names, every upper-case name Dokku's bash assigns
# or reads and every name its Go code reads with os.Getenv; prefixes of whole families. Added from
# the earlier provisional set: HOSTNAME TZ BROWSER and the PLUGN_ / HEROKUISH_ prefixes.
# Split into a set on first use: the gate pays for it only on the commands that take config keys.
_RESERVED_TEXT = """
ACTION ALL ALLOWED_DOMAINS_FUNC_BASE64 ALL_PLUGIN_COMMANDS ALL_PROXY ALT_IMAGE_ID ALT_IMAGE_TAG
ALT_IMAGE_TAGS APP APP_CIDS APP_CLONE_ROOT APP_DEPLOY_LOCK_FILE APP_DOKKU_CHECKS_ENABLED APP_IMAGE
APP_PATH APP_PORT_MAP APP_ROOT APP_RUNNING_CONTAINER_IDS APP_SKIP_ALL_CHECKS APP_SKIP_DEFAULT_CHECKS
APP_SSL_PATH APP_STATUS APP_VHOST_ENABLED APP_VHOST_PATH ARCHITECTURE ARCHIVE_PATH ARCHIVE_SIZE
ARCHIVE_TYPE ARCHIVE_URL ARGS ARG_ARRAY ATTEMPTS AVAILABLE_CONTAINER_TYPES BASHOPTS BOGUS_PARTS
BRANCH_NAME BROWSER BUILDER BUILDER_TYPE BUILDPACK_URL BUILDPACK_XTRACE BUILD_DIR CACHE_PATH
CANONICAL_DIR CDPATH CERTS_EXIST CERTS_GENERATE_TMP_WORK_DIR CERTS_SET_TMP_WORK_DIR CHECKS_FILENAME
CHECKS_PATH CHECKS_URL CHECK_PROC_TYPE CHOWN_ID CID CIDS CLIENT_BODY_TIMEOUT CLIENT_HEADER_TIMEOUT
CLIENT_MAX_BODY_SIZE CLIENT_VERSION_STRING CMD CN COLOR COLORS COMMON_PREFIX
COMMUNITY_PLUGIN_COMMANDS CONCURRENCY_POLICY CONFIG_SET_ARGS CONFIG_TYPE CONFIG_VAR CONF_PATH
CONF_SIGIL_PATH CONTAINERS CONTAINER_DATE_NAME CONTAINER_FILE CONTAINER_FILES CONTAINER_ID
CONTAINER_IDX_OFFSET CONTAINER_ID_OR_NAME CONTAINER_INDEX CONTAINER_NAME CONTAINER_PATTERN
CONTAINER_STATUS CONTAINER_TYPE CONTAINER_TYPES CORE_PLUGIN_COMMANDS CRON_ID CRT_FILE CRT_FILE_COUNT
CRT_FILE_SEARCH CURL_CA_BUNDLE CURL_CONNECT_TIMEOUT CURL_HOME CURL_TIMEOUT CURRENT_CONTAINER_ID
CURRENT_NAME CURRENT_REF CURRENT_TIME CUSTOM_COMPOSE_TEMPLATE CUSTOM_DOKKU_TEMPLATE
CUSTOM_HSTS_TEMPLATE CUSTOM_NAME CUSTOM_NGINX_TEMPLATE CUSTOM_VALIDATE_TEMPLATE DATA
DBUS_SESSION_BUS_ADDRESS DEAD_CONTAINERS DEAD_CONTAINER_FILE DEAD_FILE DEAD_IMAGES DEAD_IMAGE_FILE
DEAD_TIME DEFAULT DEFAULT_BRANCH DEFAULT_KEEP_GIT_DIR DEFAULT_LISTEN_PORT DEFAULT_SCHEME
DEFAULT_VHOSTS DEPLOYED_REPO DEPLOYED_TAG DEPLOY_BRANCH DESTINATION_FILE DEST_DIR DETAILS DIR
DIRECTORY DISABLE_CUSTOM_CONFIG DOCKERFILE_ARGS DOCKERFILE_PATH DOMAINS_APP_ENABLED
DOMAINS_GLOBAL_ENABLED DOMAIN_NAME DST_DIR DST_FILE DYNO DYNO_NUMBER EDITOR ENABLE_APP_VHOST_ARGS
ENV ENV_ARGS ENV_COUNT ENV_VAR_NAME EVENT EXCLUDE_CONTAINER_ID EXECIGNORE EXEC_CMD EXIT_CODE
EXTRACTION_DIR FAILEDCHECKS FAILED_CONTAINERS_FILE FILE_COUNT FILE_PATH FILTER FINGERPRINT FLAG
FORCE FORCE_CLEANUP FORCE_TTY FORMAT FOUND_LINE FS FTP_PROXY FUNCNAME FUNCNEST GCONV_PATH
GETCONF_DIR GLOBAL_CONFIG_VAR GLOBAL_KEYS GLOBAL_ONLY_KEYS GLOBAL_SKIP_ALL_CHECKS
GLOBAL_SKIP_DEFAULT_CHECKS GLOBAL_VHOST GLOBAL_VHOSTS GLOBAL_VHOSTS_ENABLED GLOBAL_VHOST_PATH
GLOBIGNORE GNUPGHOME GOCACHE GODEBUG GOENV GOFLAGS GOGC GOMAXPROCS GOMEMLIMIT GOPATH GOROOT GOTMPDIR
GOTRACEBACK GRPC_SUPPORTED HAS_NETWORK_CONFIG HAS_SUPPORT HEAD_FILE HISTCONTROL HISTFILE HOME
HOSTALIASES HOSTNAME HSTS HSTS_HEADERS HSTS_INCLUDE_SUBDOMAINS HSTS_MAX_AGE HSTS_PRELOAD
HSTS_TEMPLATE HTTP2_DIRECTIVE_SUPPORTED HTTP2_PUSH_SUPPORTED HTTP2_SUPPORTED HTTPS_PROXY HTTP_PROXY
ID IFS IMAGE IMAGE_ID IMAGE_NAME IMAGE_REMOTE_REPOSITORY IMAGE_REPO IMAGE_SOURCE_TYPE IMAGE_STAGE
IMAGE_TAG INDEX INJECT_INIT_FLAG INPUTRC INSTALLED_APPS IP IP_FILE IS_APP_VHOST_ENABLED
IS_DEPLOYED_WITH_LISTENERS IS_HEROKUISH_CONTAINER IS_SSL_ENABLED JOURNAL_STREAM JQ_COLORS
JQ_LIBRARY_PATH JSON_NODE KEEPALIVE_TIMEOUT KEY KEY_FILE KEY_FILE_COUNT KEY_FILE_SEARCH KEY_TYPE
KRB5CCNAME KRB5_CONFIG LANG LANGUAGE LESSCLOSE LESSOPEN LINE LINGERING_TIMEOUT LISTENERS LOCALDOMAIN
LOCATION_CONF_PATH LOCK_FAILED_MSG LOCK_FD LOCK_FILE LOCK_TYPE LOCK_WAITING_MSG LOCPATH LOG LOGNAME
LOG_PATH MAIL MAILPATH MAJOR_VERSION MALLOC_CHECK_ MALLOC_PERTURB_ MAX_FILES MAX_INDEX MAX_SIZE
MINOR_VERSION MODE NAME NAMES NETRC NEW_APP NEW_DOCKERFILE NEW_DOKKU_IMAGE NEW_IMAGE_REPO
NEW_IMAGE_TAG NEW_LAMBDA_YML NEW_NIXPACKS_YML NEW_PROJECT_TOML NEW_RAILPACK_JSON NF NLSPATH
NODE_OPTIONS NONSSL_VHOSTS NOSSL_SERVER_NAME NOTIFY_SOCKET NO_PROXY NO_RESTART NO_VHOST NUM NUMBER
NUM_RE OIFS OLDPWD OLD_APP OPENSSL_CONF OPENSSL_ENGINES OPTARG OPTIND OUTPUT_PATH PAGER
PASSED_LABEL_NAME PASSED_LABEL_VALUE PASSED_LISTEN_IP_PORT PASSWORD PATCH_VERSION PATH PERLLIB
PID_MISSING PID_TEMPLATE PLUGIN PORT_FILE PORT_MAP PORT_MAPS POSIXLY_CORRECT POTENTIAL_PROCFILE_KEY
PPID PREFIX PRERECEIVE_HOOK PRETTY_PRINT PREVIOUS_CIDS PREVIOUS_CONTAINER_STATUS PRE_VALIDATE
PROCESS_TMP_FILE PROCESS_TYPE PROCFILE_EXISTS PROCS PROCTYPE PROCTYPES PROC_CMD PROC_COUNT PROC_TYPE
PROMPT_COMMAND PROXY PROXY_BUFFERING PROXY_BUFFERS PROXY_BUFFER_SIZE PROXY_BUSY_BUFFERS_SIZE
PROXY_CONNECT_TIMEOUT PROXY_ENABLED PROXY_FILE PROXY_KEEPALIVE PROXY_PORT PROXY_PORT_MAP
PROXY_READ_TIMEOUT PROXY_SEND_TIMEOUT PROXY_SSL_PORT PROXY_TYPE PROXY_UPSTREAM_PORT
PROXY_UPSTREAM_PORTS PROXY_UPSTREAM_SCHEME PROXY_X_FORWARDED_FOR PROXY_X_FORWARDED_PORT
PROXY_X_FORWARDED_PROTO PROXY_X_FORWARDED_SSL PS1 PS2 PS3 PS4 PWD RANDOM REF RELEASED_IMAGE_ID
REMOTE_IMAGE REMOTE_REPO REMOVE_CONTAINERS RESOLV_HOST_CONF RESTART_APP RES_OPTIONS RETIRE_APP REV
RE_IPV4 RE_IPV6 RM_OUTPUT RUBYLIB RUBYOPT RUNNING RUNNING_CONTAINERS RUN_COMMAND RUN_ENV SCHEDULER
SCHEME SEARCH_STRING SEND_TIMEOUT SHELL SHELLOPTS SHOULD_BUILD SHOW_MSG SKIP_DEPLOY_BRANCH
SKIP_INSTALL_TRIGGER SKIP_REBUILD SOURCE SOURCECODE_WORK_DIR SOURCE_LABEL SOURCE_TYPE SPDY_SUPPORTED
SRC_DIR SRC_FILE SSL SSL_CERT_DIR SSL_CERT_FILE SSL_ENABLED SSL_HOSTNAME SSL_HOSTNAMES
SSL_HOSTNAME_ALT SSL_HOSTNAME_REGEX SSL_INUSE SSL_PATH SSL_SERVER_NAME SSL_VHOSTS START_CMD STATE
STDIN STDIN_TMP STRIP_COMPONENTS SUBDOMAIN SYMLINKS SYSTEMD_EDITOR SYSTEMD_PAGER TAG TAG_COUNT TAIL
TARGET_DIR TAR_ARGS TAR_CID TAR_FLAG TEMP TEMPDIR TEMPLATE TERM TERMINFO TEST_PATH TIMEOUT TIMESTAMP
TLS13_SUPPORTED TMOUT TMP TMPDIR TMP_APP_JSON_OUTPUT TMP_CHECKS_FILE TMP_CLONE_DIR
TMP_COMMAND_OUTPUT TMP_COMPOSE_FILE TMP_FILE TMP_INSPECT_CMD TMP_IS_REF_DIR TMP_KEY_FILE TMP_OUTPUT
TMP_RENDERED TMP_WORK_DIR TMP_WORK_DIR_2 TMP_WORK_DIR_3 TMP_WRAPPER TRACE TRIGGER_NAME TYPE TZ TZDIR
UPDATED_REF UPP_PROC_TYPE URL_TYPE USER USERNAME USER_EMAIL USER_NAME VALIDATE_TEMPLATE
VALID_ARCHIVE_TYPES VALID_CHECK_PROC_TYPE VALID_KEYS VALUE VERBOSE VHOST VHOSTS VHOST_PATH VISUAL
WAIT WGETRC
"""
_RESERVED = []
_RESERVED_PREFIXES = ("DOKKU_", "PLUGIN_", "DOCKER_", "BUILDKIT_", "BUILDX_", "COMPOSE_", "GIT_", "LD_", "BASH",
                      "SSH_", "SUDO_", "XDG_", "LC_", "NIXPACKS_", "RAILPACK_", "PACK_", "CNB_", "HELM_", "KUBE",
                      "K3S_", "NGINX_", "SIGIL_", "TRAEFIK_", "CADDY_", "HAPROXY_", "OPENRESTY_", "PYTHON", "PERL5",
                      "PARALLEL", "PLUGN_", "HEROKUISH_")
# Kept although a prefix covers it: Dokku's own default rev-env-var (git/functions:108-114); its one
# host reader assigns it first (builder-lambda/builder-build:36 ``local GIT_REV=``).
# PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE (everyday for Python apps) only change output
# buffering and .pyc writing of any Python that reads them. Dokku 0.38 neither names them nor
# runs Python on the host (`git grep -i python` in dokku/dokku finds only contrib/ build tools:
# contrib/update-deb-dependencies:1, contrib/write-mkdocs:1; none in plugins/ or dokku, none in
# the four official datastore plugins); this collection's host programs run with -I.
_KEPT_KEYS = frozenset(("GIT_REV", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"))


def t_config_key(value, ctx=None):
    """Upper case (Dokku's own locals are lower case), a letter first (``$_`` is bash's), not reserved."""
    if not _CONFIG_KEY.match(value):
        return False
    if value in _KEPT_KEYS:
        return True
    return value not in reserved_keys() and not value.startswith(_RESERVED_PREFIXES)


def reserved_keys():
    """The reserved config key names (a frozenset, built on first use)."""
    if not _RESERVED:
        _RESERVED.append(frozenset(_RESERVED_TEXT.split()))
    return _RESERVED[0]


def t_config_pair(value, ctx=None):
    """``KEY=VALUE``: any printable value but a backslash (plugn's go-basher, above); values are
    single-quoted when exported (config/environment.go:297-310) and reach containers by key
    (config/docker-args-deploy:15)."""
    key, eq, rest = value.partition("=") if isinstance(value, str) else ("", "", "")
    return bool(eq) and t_config_key(key) and config_value(rest)


def config_value(text):
    """A config value a member may set (``config:set``, an app.json ``env`` entry)."""
    return len(text) <= 4096 and all(c in _PRINTABLE for c in text)


_BASE64 = frozenset(_ALNUM + "+/")


def t_config_b64(value, ctx=None):
    """``KEY=BASE64`` for ``config:set --encoded`` (config/functions.go:146-152 decodes every value):
    the value it decodes to is held to ``config-pair``'s, but may span lines (a PEM key): a line
    break inside go-basher's $'...' or Dokku's '...' export stays part of the value."""
    key, eq, rest = value.partition("=") if isinstance(value, str) else ("", "", "")
    body = rest.rstrip("=")
    if not (bool(eq) and t_config_key(key) and len(rest) <= 16384 and len(rest) - len(body) <= 2
            and all(c in _BASE64 for c in body)):
        return False
    try:
        decoded = binascii.a2b_base64(rest.encode("ascii"))
    except (binascii.Error, ValueError):
        return False
    return len(decoded) <= 12288 and all((0x20 <= byte < 0x7F and byte != 0x5C) or byte in b"\t\r\n"
                                         for byte in decoded)


def t_env_pair(value, ctx=None):
    """``run -e KEY=VALUE``: pasted as ``--env=PAIR`` into an xargs-split docker argument string
    (scheduler-docker-local/scheduler-run:87-89,136-139): a config key, ``=``, and no blank, quote
    or backslash in the value."""
    key, eq, rest = value.partition("=") if isinstance(value, str) else ("", "", "")
    return bool(eq) and t_config_key(key) and len(rest) <= 4096 and all(c in _ENV_VALUE for c in rest)


# Words Dokku's own argument parser acts on wherever they stand (common/functions:493-507
# parse_args: --app, --trace, --force, --quiet).
_DOKKU_FLAGS = frozenset(("app", "trace", "force", "quiet"))


def _dokku_flag(word):
    """One of Dokku's own flags (``--app``, ``--trace=1``) or a ``--label*`` word."""
    name = word[2:].partition("=")[0] if word.startswith("--") else None
    return name is not None and (name in _DOKKU_FLAGS or name.startswith("label"))


def t_cmdword(value, ctx=None):
    """A word of a container's command line (run, enter). Printable; a word starting with ``--``
    must be ``--name[=value]``, not one of Dokku's own flags (common/functions:493-507) and not a
    ``--label*`` word, which scheduler-run copies into the docker arguments
    (scheduler-docker-local/scheduler-run:91-98)."""
    if not isinstance(value, str) or not 0 < len(value) <= 4096 or any(c not in _ARGV_WORD for c in value):
        return False
    if not value.startswith("--"):
        return True
    # Every --word of the command also lands in Dokku's exported DOKKU_GLOBAL_FLAGS
    # (common/functions:479-523), so it is a value like any other: no backslash.
    return (_FLAG_NAME.match(value[2:].partition("=")[0]) and not _dokku_flag(value)
            and all(c in _PRINTABLE for c in value))


def t_app(value, ctx=None):
    return APP.match(value)


def t_report_flag(value, ctx=None):
    """One field of a teams report (``--username``, ``--team-apps``): only compared with the
    report's field names; never one of Dokku's own flags nor an admin-only option."""
    if not isinstance(value, str) or not value.startswith("--") or not 3 <= len(value) <= 96:
        return False
    body = value[2:]
    return (body[0] in _LOWER and all(c in _LOWER or c in _DIGIT or c == "-" for c in body)
            and not _dokku_flag(value) and value not in ("--global", "--all", "--all-apps", "--help"))


TYPES = {
    "int": t_int, "port": t_port, "bool": t_bool, "size": t_size, "cpus": t_cpus, "word": t_word,
    "proctype": t_proctype, "proctypes": t_proctypes, "scale": t_scale, "domain": t_domain,
    "portmap": t_portmap, "portspec": t_portspec, "relpath": t_relpath, "abspath": t_abspath,
    "ctrpath": t_ctrpath, "git-ref": t_git_ref, "url": t_url, "buildpack": t_buildpack,
    "tag": t_tag, "tags": t_tags, "image-tag": t_image_tag, "registry-image": t_registry_image,
    "own-image": t_own_image, "image": t_image, "registry-host": t_registry_host, "hostport": t_hostport,
    "registry-user": t_registry_user, "secret": t_secret, "git-ident": t_git_ident,
    "storage-ref": t_storage_ref, "phases": t_phases, "text": t_text, "restart-policy": t_restart_policy,
    "dyno": t_dyno, "dynos": t_dynos, "cronid": t_cronid, "buildid": t_buildid, "cid": t_cid,
    "cmdline": t_cmdline, "nginx-size": t_nginx_size, "nginx-time": t_nginx_time,
    "nginx-buffers": t_nginx_buffers, "nginx-value": t_nginx_value, "service-args": t_service_args,
    "custom-env": t_custom_env, "password": t_password, "link-alias": t_link_alias,
    "querystring": t_querystring, "bucket": t_bucket, "secret-token": t_secret_token,
    "gpg-key-id": t_gpg_key_id, "cron": t_cron, "config-key": t_config_key, "config-pair": t_config_pair,
    "config-b64": t_config_b64, "env-pair": t_env_pair, "cmdword": t_cmdword, "app": t_app,
    "report-flag": t_report_flag, "checks-proctypes": t_checks_proctypes, "checks-dynos": t_checks_dynos,
    "dyno-n": t_dyno_n, "resource-key": t_resource_key, "attachment-key": t_attachment_key,
}


def check(type_name, value, ctx=None):
    """Whether ``value`` is of the registry type ``type_name`` (``choice:a|b`` lists words)."""
    if type_name.startswith("choice:"):
        return value in type_name[7:].split("|")
    return bool(TYPES[type_name](value, ctx))


def known(type_name):
    return type_name.startswith("choice:") or type_name in TYPES


_DESCRIBE = {
    "int": "a whole number",
    "port": "a port 1-65535",
    "bool": "true or false",
    "size": "a size such as 512m",
    "cpus": "a number of CPUs such as 1.5",
    "word": "a plain word (letters, digits, . _ -)",
    "proctype": "a process type (letters, digits, _ -)",
    "proctypes": "process types separated by commas",
    "scale": "PROCESS=COUNT",
    "domain": "a domain name (lower case)",
    "portmap": "SCHEME:HOST_PORT:CONTAINER_PORT (http, https, grpc, grpcs)",
    "portspec": "SCHEME:HOST_PORT:CONTAINER_PORT or a host port",
    "relpath": "a relative path inside the app's source (no .. or leading / or -)",
    "abspath": "an absolute path without .. segments",
    "ctrpath": "an absolute path inside the container",
    "git-ref": "a branch name",
    "url": "an http(s) or git URL",
    "buildpack": "an http(s) buildpack URL or ORG/NAME",
    "tag": "an image tag",
    "tags": "image tags separated by commas",
    "image-tag": "an image tag",
    "registry-image": "an image on a named registry (host.name/path:tag)",
    "own-image": "this app's own image dokku/APP:TAG",
    "image": "this app's own image dokku/APP:TAG or an image on a named registry (host.name/path:tag)",
    "registry-host": "a registry host[:port]",
    "hostport": "a port or IPV4:PORT",
    "registry-user": "a registry user name",
    "secret": "a password (printable, no leading blank or -)",
    "git-ident": "a name or e-mail (letters, digits, blank . _ @ + -)",
    "storage-ref": "a storage entry name or HOST_PATH:CONTAINER_PATH",
    "phases": "build, deploy, run (comma-separated)",
    "text": "a printable word not starting with -",
    "restart-policy": "no, always, unless-stopped, on-failure[:N]",
    "dyno": "a process type or TYPE.N",
    "dynos": "TYPE or TYPE.N, comma-separated",
    "cronid": "a cron task id (a-z 0-9)",
    "buildid": "a build id or current",
    "cid": "a container id (hex)",
    "cmdline": "a command line without quotes or backslashes",
    "nginx-size": "an nginx size such as 10m",
    "nginx-time": "an nginx time such as 60s",
    "nginx-buffers": "NUMBER SIZE such as '8 16k'",
    "nginx-value": "an nginx variable or word such as $remote_addr",
    "service-args": "options separated by single blanks (no quotes, globs or $)",
    "custom-env": "KEY=VALUE;KEY=VALUE",
    "password": "8-128 of A-Z a-z 0-9 . _ ~ -",
    "link-alias": "an alias whose ALIAS_URL is an allowed config key",
    "querystring": "a query string without blanks",
    "bucket": "a bucket name[/prefix]",
    "secret-token": "a credential without blanks, quotes or globs",
    "gpg-key-id": "a GPG key id (hex)",
    "cron": "a five-field cron schedule or @daily etc.",
    "config-key": "a config key (A-Z 0-9 _; not a name Dokku or the host shell reads)",
    "config-pair": "KEY=VALUE with a config key",
    "config-b64": "KEY=VALUE with a base64 value",
    "env-pair": "KEY=VALUE with a config key and no blank or quote in the value",
    "cmdword": "a word that is not one of Dokku's own --flags",
    "app": "an app name",
    "report-flag": "one report field flag such as --username",
    "checks-proctypes": "process types separated by commas, or _all_",
    "checks-dynos": "TYPE or TYPE.N, comma-separated, or _all_", "dyno-n": "TYPE.N such as web.1",
    "resource-key": "TYPE.limit|reserve.KEY such as web.limit.memory", "attachment-key": "N.FIELD such as 1.host-path",
}


def describe(type_name):
    if type_name.startswith("choice:"):
        return "one of " + ", ".join(type_name[7:].split("|"))
    return _DESCRIBE.get(type_name, type_name)
