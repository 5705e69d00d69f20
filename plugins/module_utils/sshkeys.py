# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSH public keys: validation, fingerprints and the ``ci`` account's ``authorized_keys``.

A key is exactly one line ``TYPE BASE64 [COMMENT]``: no options (access options come from
the policy, never from the key), no line break, no NUL. Types: ``ssh-ed25519``,
``ecdsa-sha2-nistp256|384|521`` and ``ssh-rsa`` of at least 2048 bits. The base64 blob is
decoded strictly and parsed (SSH wire format): the type it embeds must be the declared type,
and the key material must have the right shape. The fingerprint is what ``ssh-keygen -l``
prints: ``SHA256:`` + unpadded base64 of the SHA-256 of the blob.

Not on the gate's start-up path (the gate gets the fingerprint from its command line).
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib

from .errors import Invalid
from .gateconfig import SUDO
from .names import check_user, show

ED25519 = "ssh-ed25519"
RSA = "ssh-rsa"
ECDSA = {"ecdsa-sha2-nistp256": (256, 32), "ecdsa-sha2-nistp384": (384, 48), "ecdsa-sha2-nistp521": (521, 66)}
KEY_TYPES = frozenset((ED25519, RSA) + tuple(ECDSA))
MIN_RSA_BITS = 2048
MAX_LINE = 16384
MAX_COMMENT = 1024
_TYPES_HINT = "use ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of at least %d bits" % MIN_RSA_BITS
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_BLANK = " \t"

_KeyBase = collections.namedtuple("Key", "type blob_b64 comment fingerprint bits")


class Key(_KeyBase):
    """A parsed public key. ``line`` is its canonical one-line form."""

    __slots__ = ()

    @property
    def line(self):
        if self.comment:
            return "%s %s %s" % (self.type, self.blob_b64, self.comment)
        return "%s %s" % (self.type, self.blob_b64)

    @property
    def blob(self):
        return base64.b64decode(self.blob_b64)


def fingerprint(blob):
    """``SHA256:...`` of a key blob, as ``ssh-keygen -l`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


class _Reader(object):
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def string(self, what):
        data, pos = self.data, self.pos
        if len(data) - pos < 4:
            raise Invalid("SSH key data is truncated (reading the %s): copy the whole .pub line" % what)
        size = int.from_bytes(data[pos:pos + 4], "big")
        if size > len(data) - pos - 4:
            raise Invalid("SSH key data is truncated (reading the %s): copy the whole .pub line" % what)
        self.pos = pos + 4 + size
        return data[pos + 4:pos + 4 + size]

    def mpint(self, what):
        raw = self.string(what)
        if raw and raw[0] & 0x80:
            raise Invalid("SSH key data has a negative %s: this is not a valid RSA key" % what)
        if len(raw) > 1 and raw[0] == 0 and not raw[1] & 0x80:
            raise Invalid("SSH key data has a badly encoded %s: this is not a valid RSA key" % what)
        return int.from_bytes(raw, "big")

    def end(self):
        if self.pos != len(self.data):
            raise Invalid("SSH key data has %d unexpected trailing bytes: copy the .pub line exactly"
                          % (len(self.data) - self.pos))


def _key_material(key_type, blob):
    reader = _Reader(blob)
    embedded = reader.string("key type")
    if embedded != key_type.encode("ascii"):
        raise Invalid("SSH key type mismatch: the line says %s but the key data is %s: fix the line's type"
                      % (key_type, show(embedded)))
    if key_type == ED25519:
        if len(reader.string("public key")) != 32:
            raise Invalid("ssh-ed25519 key data does not hold a 32-byte public key")
        reader.end()
        return 256
    if key_type in ECDSA:
        bits, size = ECDSA[key_type]
        curve = reader.string("curve name")
        if curve != key_type[len("ecdsa-sha2-"):].encode("ascii"):
            raise Invalid("%s key data names the curve %s: the type and the curve must agree" % (key_type, show(curve)))
        point = reader.string("public point")
        if len(point) != 1 + 2 * size or point[0] != 4:
            raise Invalid("%s key data does not hold an uncompressed %d-bit point" % (key_type, bits))
        reader.end()
        return bits
    exponent = reader.mpint("RSA exponent")
    modulus = reader.mpint("RSA modulus")
    reader.end()
    if exponent < 3 or not exponent & 1 or not modulus & 1:
        raise Invalid("ssh-rsa key data is not a valid RSA public key")
    bits = modulus.bit_length()
    if bits < MIN_RSA_BITS:
        raise Invalid("ssh-rsa key of %d bits is too weak: use at least %d bits (ssh-keygen -t rsa -b 4096) or"
                      " an ed25519 key (ssh-keygen -t ed25519)" % (bits, MIN_RSA_BITS))
    return bits


def parse_key(line):
    """A ``Key`` from one public-key line, or ``Invalid`` saying what is wrong and what to do."""
    if isinstance(line, bytes):
        try:
            line = line.decode("ascii")
        except UnicodeDecodeError:
            raise Invalid("SSH public key is not ASCII: give the .pub line as ssh-keygen wrote it")
    if not isinstance(line, str):
        raise Invalid("SSH public key must be a string, not %s" % type(line).__name__)
    if not line:
        raise Invalid("SSH public key is empty: give the contents of a .pub file")
    if "\n" in line or "\r" in line:
        raise Invalid("SSH public key must be exactly one line (it contains a line break): give one key a line,"
                      " without a trailing newline")
    if "\x00" in line:
        raise Invalid("SSH public key contains a NUL byte")
    if len(line) > MAX_LINE:
        raise Invalid("SSH public key is too long (%d characters, at most %d)" % (len(line), MAX_LINE))
    if line[0] in _BLANK:
        raise Invalid("SSH public key must start with its type (%s), not with a blank" % _TYPES_HINT)
    fields = []
    rest = line
    for unused_field in range(2):
        end = 0
        while end < len(rest) and rest[end] not in _BLANK:
            end += 1
        fields.append(rest[:end])
        rest = rest[end:].lstrip(_BLANK)
    key_type, blob_b64 = fields
    comment = rest.rstrip(_BLANK)
    if key_type not in KEY_TYPES:
        tokens = line.replace("\t", " ").split(" ")
        if any(token in KEY_TYPES for token in tokens[1:]):
            raise Invalid("SSH public key has options before its type (%s): give only 'TYPE BASE64 [COMMENT]';"
                          " the policy sets the access options" % show(key_type, 40))
        raise Invalid("unsupported SSH key type %s: %s" % (show(key_type, 40), _TYPES_HINT))
    if not blob_b64:
        raise Invalid("SSH public key has no key data after its type: give the whole .pub line")
    if any(char not in _B64 for char in blob_b64):
        raise Invalid("SSH key data is not base64 (it contains %s): copy the .pub line exactly"
                      % show(next(char for char in blob_b64 if char not in _B64)))
    try:
        blob = binascii.a2b_base64(blob_b64, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("SSH key data is not valid base64 (%s): copy the .pub line exactly" % exc)
    if base64.b64encode(blob).decode("ascii") != blob_b64:
        raise Invalid("SSH key data is not canonical base64: copy the .pub line exactly")
    for char in comment:
        if not char.isprintable():
            raise Invalid("SSH key comment contains a control character %s: remove it" % show(char))
    if len(comment) > MAX_COMMENT:
        raise Invalid("SSH key comment is too long (%d characters, at most %d)" % (len(comment), MAX_COMMENT))
    bits = _key_material(key_type, blob)
    return Key(key_type, blob_b64, comment, fingerprint(blob), bits)


def key_of(key):
    """``key`` as a ``Key`` (a ``Key`` is returned as is; a line is parsed)."""
    return key if isinstance(key, Key) else parse_key(key)


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*?:")


def check_from_entry(entry):
    """One ``from=`` entry: an IPv4/IPv6 address, a CIDR network (no host bits set), or a
    host name pattern with ``*`` and ``?`` (letters, digits, ``.``, ``-``, ``:``)."""
    import ipaddress
    if not isinstance(entry, str) or not entry:
        raise Invalid("invalid from entry %s: give an address, a CIDR network or a host name pattern" % show(entry))
    if len(entry) > 253:
        raise Invalid("invalid from entry %s: too long" % show(entry))
    if "/" in entry:
        try:
            ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            raise Invalid("invalid from network %s: %s (write it as NETWORK/BITS with no host bits set,"
                          " e.g. 10.0.0.0/8)" % (show(entry), exc))
        return entry
    try:
        ipaddress.ip_address(entry)
        return entry
    except ValueError:
        pass
    bad = [char for char in entry if char not in _HOST_CHARS]
    if bad:
        raise Invalid("invalid from entry %s: it contains %s; give an address, a CIDR network or a host name"
                      " pattern (letters, digits, . - : and the wildcards * ?)" % (show(entry), show(bad[0])))
    return entry


def check_from(entries):
    """A validated copy of a ``from`` list (order kept)."""
    if entries is None:
        return []
    if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
        raise Invalid("from must be a list of addresses, networks or host patterns")
    return [check_from_entry(entry) for entry in entries]


_GATE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-")


def check_gate_path(path):
    if (not isinstance(path, str) or not path.startswith("/") or any(char not in _GATE_CHARS for char in path)
            or "/../" in path + "/" or "/./" in path + "/"):
        raise Invalid("invalid gate path %s: give an absolute path of letters, digits, / . _ -" % show(path))
    return path


def authorized_keys_line(user, key, gate_path, from_list=(), allow_pty=False):
    """The ``authorized_keys`` line that sends ``key`` of ``user`` to the gate (SPEC §3)."""
    check_user(user)
    check_gate_path(gate_path)
    key = key_of(key)
    options = ["restrict"]
    if allow_pty:
        options.append("pty")
    entries = check_from(list(from_list or ()))
    if entries:
        options.append('from="%s"' % ",".join(entries))
    options.append('command="%s -n %s --user %s --key %s"' % (SUDO, gate_path, user, key.fingerprint))
    return "%s %s" % (",".join(options), key.line)


HEADER = ("# Generated by dokku-teams from its state. Do not edit: every change is overwritten.\n"
          "# Manage keys with dokku-teams user:key-add / user:key-remove or the dokku_ci_user module.\n")


def render_authorized_keys(state, gate_path, allow_pty=False):
    """The whole ``authorized_keys`` file for ``state``: one line a key, sorted by user, then key."""
    lines = [HEADER]
    users = state.get("users", {})
    for user in sorted(users):
        record = users[user]
        for key in sorted(parse_key(line).line for line in record.get("keys", ())):
            lines.append(authorized_keys_line(user, key, gate_path, record.get("from", ()), allow_pty) + "\n")
    return "".join(lines)
