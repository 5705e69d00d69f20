# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a ``docker save`` tar stream strictly and write it out again in one canonical form.

``docker load`` reads the archive with Go's ``archive/tar`` after sniffing for compression
(moby/moby image/tarexport/load.go ``untar`` -> chrootarchive.Untar -> DecompressStream);
Python's ``tarfile`` reads the same bytes differently in places (a NUL-led size field, a V7
header whose device fields are not octal, a gzip header whose extra field holds a plain tar).
So the gate never passes the client's bytes on: it parses them here, refusing anything two
readers could disagree on, and writes the members it parsed as a fresh uncompressed ustar
archive that ``docker load`` then reads. What was checked is what is loaded.

Accepted, as Go's writer emits them for ``docker save`` (``Format: tar.FormatPAX``):

- headers with the POSIX ``ustar\\0``/``00`` magic, or the GNU ``ustar  \\0`` magic with its
  extension area all zero; every numeric field plain octal (at least one digit, then only
  NUL/space), the checksum right, padding and unused string bytes zero;
- type ``0`` (file), ``5`` (directory), ``2`` (symlink), ``x`` (a pax header for the next
  member), and GNU ``L``/``K`` long names under the GNU magic;
- pax records ``path``, ``linkpath``, ``size`` and ``mtime`` only. Go adds a pax record only
  for a field USTAR cannot hold; docker save truncates times to seconds and clears atime,
  ctime, user and group names, so nothing else ever appears. ``SCHILY.xattr.*``, ``GNU.sparse.*``,
  ``hdrcharset`` and global headers change how a member reads and are refused;
- the end-of-archive (two zero blocks), then nothing but zero bytes.

Refused: compression magic (gzip, bzip2, xz, zstd and its skippable frames), V7 headers,
the deprecated ``\\0`` regular-file type, hard links, devices, FIFOs, sparse and unknown
types, a member named twice (after ``./`` and ``//`` are removed), a member below a non-directory,
data after the end of the archive.

The canonical output: one ustar header per member (mode 0644/0755/0777, uid/gid 0, no user
or group names, the parsed mtime), a pax header only for a name or link target longer than
100 bytes or a size of 8 GiB or more, content padded with zeros, two zero blocks at the end.
"""

from __future__ import annotations

from .errors import Denied

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_PAX_BYTES = 64 * 1024
MAX_LONGNAME_BYTES = 4097
MAX_NAME_BYTES = 4096
_OCTAL = frozenset(b"01234567")
_PAX_KEYS = frozenset(("path", "linkpath", "size", "mtime"))
_USTAR_LIMIT = 8 ** 11
_COMPRESSION = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
                (b"\x28\xb5\x2f\xfd", "zstd"))


class Refused(Denied):
    """The archive may not be loaded; the message is one line, safe to show."""


def compression(head):
    """The name of the compression ``head`` starts with (as Docker sniffs it), else None."""
    for magic, name in _COMPRESSION:
        if head.startswith(magic):
            return name
    # zstd skippable frames: magic 0x184D2A50..5F, little-endian
    if len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18":
        return "zstd"
    return None


def _octal(field, what):
    count = 0
    while count < len(field) and field[count] in _OCTAL:
        count += 1
    if count == 0 or any(byte not in (0, 0x20) for byte in field[count:]):
        raise Refused("image archive has a non-octal %s field" % what)
    return int(field[:count], 8)


def text_field(field, what):
    end = field.find(b"\0")
    if end < 0:
        end = len(field)
    elif field[end:].count(0) != len(field) - end:
        raise Refused("image archive has data hidden after the %s field's end" % what)
    try:
        return field[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("image archive has a %s that is not UTF-8" % what)


def clean(name, what="member"):
    """The normalised relative name of a member, or ``Refused`` for a path trick."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise Refused("image archive has an invalid %s name" % what)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise Refused("image archive has a %s name with a control character" % what)
    if name.startswith("/"):
        raise Refused("image archive has an absolute %s name" % what)
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Refused("image archive has a %s name containing '..'" % what)
    return "/".join(parts)


class Header(object):
    __slots__ = ("kind", "name", "linkname", "size", "mtime", "gnu")


def parse_header(block):
    """One 512-byte header block, checked; None for a zero block."""
    if block == ZERO_BLOCK:
        return None
    magic, version = block[257:263], block[263:265]
    if magic == b"ustar\0" and version == b"00":
        gnu = False
    elif magic == b"ustar " and version == b" \0":
        gnu = True
        if block[345:500] != bytes(155):
            raise Refused("image archive has a GNU header with extension data (times, sparse maps)")
    else:
        raise Refused("image archive has a V7 or unknown tar header")
    if block[500:] != bytes(12):
        raise Refused("image archive has data in a header's padding")
    expected = _octal(block[148:156], "checksum")
    if sum(block[:148]) + 256 + sum(block[156:]) != expected:
        raise Refused("image archive has a header with a bad checksum")
    for start, end, what in ((100, 108, "mode"), (108, 116, "uid"), (116, 124, "gid"),
                             (329, 337, "device major"), (337, 345, "device minor")):
        _octal(block[start:end], what)
    header = Header()
    header.gnu = gnu
    header.size = _octal(block[124:136], "size")
    header.mtime = _octal(block[136:148], "mtime")
    flag = block[156:157]
    kinds = {b"0": "file", b"5": "dir", b"2": "symlink", b"x": "pax"}
    if gnu:
        kinds.update({b"L": "longname", b"K": "longlink"})
    if flag == b"1":
        raise Refused("image archive contains a hard link")
    if flag in (b"3", b"4", b"6"):
        raise Refused("image archive contains a device or FIFO")
    if flag not in kinds:
        raise Refused("image archive has an unsupported tar member type")
    header.kind = kinds[flag]
    name = text_field(block[0:100], "name")
    prefix = "" if gnu else text_field(block[345:500], "name prefix")
    header.name = prefix + "/" + name if prefix else name
    header.linkname = text_field(block[157:257], "link name")
    text_field(block[265:297], "user name")
    text_field(block[297:329], "group name")
    return header


def parse_pax(data):
    """The records of a pax header, strictly ``LEN key=value\\n`` with known keys only."""
    records = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 8)
        digits = data[pos:space] if space > pos else b""
        if not digits or not digits.isdigit() or (digits[:1] == b"0"):
            raise Refused("image archive has a malformed pax header")
        length = int(digits)
        record = data[pos:pos + length]
        if len(record) != length or not record.endswith(b"\n"):
            raise Refused("image archive has a malformed pax header")
        key, eq, value = record[space - pos + 1:-1].partition(b"=")
        try:
            key, value = key.decode("ascii"), value.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("image archive has a malformed pax header")
        if not eq or key not in _PAX_KEYS:
            raise Refused("image archive has a pax record other than path, linkpath, size, mtime")
        if key in records:
            raise Refused("image archive has a pax record twice")
        records[key] = value
        pos += length
    if "size" in records:
        size = records["size"]
        if not size.isdigit() or not size.isascii() or len(size) > 20 or (size[0] == "0" and size != "0"):
            raise Refused("image archive has a malformed pax size")
        records["size"] = int(size)
    if "mtime" in records:
        whole, dot, frac = records["mtime"].partition(".")
        if not (whole.isascii() and whole.isdigit()) or (dot and not (frac.isascii() and frac.isdigit())) \
                or len(whole) > 20:
            raise Refused("image archive has a malformed pax mtime")
        records["mtime"] = int(whole)
    return records


def _pad(size):
    return -size % BLOCK


def _field_octal(value, width):
    return b"%0*o\0" % (width - 1, value)


def header_bytes(kind, name, size=0, mtime=0, linkname=""):
    """The canonical header block(s) for one member (a pax header first when needed)."""
    raw_name = name.encode("utf-8") + (b"/" if kind == "dir" else b"")
    raw_link = linkname.encode("utf-8")
    records = []
    if len(raw_name) > 100:
        records.append((b"path", raw_name))
        raw_name = raw_name[:100]
    if len(raw_link) > 100:
        records.append((b"linkpath", raw_link))
        raw_link = raw_link[:100]
    if size >= _USTAR_LIMIT:
        records.append((b"size", b"%d" % size))
    mtime = min(max(mtime, 0), _USTAR_LIMIT - 1)
    out = b""
    if records:
        data = b"".join(_pax_record(key, value) for key, value in records)
        out = _block(b"././@PaxHeader", b"x", 0o644, len(data), mtime, b"") + data + bytes(_pad(len(data)))
    flag, mode = {"file": (b"0", 0o644), "dir": (b"5", 0o755), "symlink": (b"2", 0o777)}[kind]
    return out + _block(raw_name, flag, mode, size if size < _USTAR_LIMIT else 0, mtime, raw_link)


def _pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(b"%d" % length) + len(body) != length:
        length += 1
    return b"%d" % length + body


def _block(name, flag, mode, size, mtime, linkname):
    block = bytearray(BLOCK)
    # (offset, bytes): name, mode, uid, gid, size, mtime, checksum placeholder, type, link, magic,
    # device major and minor; everything else stays zero.
    for offset, data in ((0, name), (100, _field_octal(mode, 8)), (108, _field_octal(0, 8)),
                         (116, _field_octal(0, 8)), (124, _field_octal(size, 12)),
                         (136, _field_octal(mtime, 12)), (148, b" " * 8), (156, flag), (157, linkname),
                         (257, b"ustar\x0000"), (329, _field_octal(0, 8)), (337, _field_octal(0, 8))):
        block[offset:offset + len(data)] = data
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)
