# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tar builder for the tests: headers as Go's ``archive/tar`` writes them for ``docker save``
(octal fields with a NUL, ``ustar\\0``/``00``), with every byte open to tampering, and the
crafted archives that different readers read differently (the gate must refuse each one).

Used by the unit tests and by the lab test (tests/integration/test_loadimage_lab.py).
"""

import gzip
import io
import json
import struct
import tarfile
import zlib

BLOCK = 512
EOF = bytes(2 * BLOCK)
OTHER = "dokku/other-app:v1"


def octal(value, width):
    return b"%0*o\0" % (width - 1, value)


def header(name, flag=b"0", size=0, mode=0o644, mtime=1700000000, linkname=b"", gnu=False,
           prefix=b"", override=None, checksum=True):
    """One 512-byte header. ``override``: {offset: bytes} applied before the checksum."""
    name = name.encode() if isinstance(name, str) else name
    linkname = linkname.encode() if isinstance(linkname, str) else linkname
    block = bytearray(BLOCK)
    block[0:len(name)] = name
    block[100:108] = octal(mode, 8)
    block[108:116] = octal(0, 8)
    block[116:124] = octal(0, 8)
    block[124:136] = octal(size, 12)
    block[136:148] = octal(mtime, 12)
    block[156:157] = flag
    block[157:157 + len(linkname)] = linkname
    block[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    block[329:337] = octal(0, 8)
    block[337:345] = octal(0, 8)
    if prefix:
        block[345:345 + len(prefix)] = prefix
    for offset, data in (override or {}).items():
        block[offset:offset + len(data)] = data
    if checksum:
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pad(data):
    return data + bytes(-len(data) % BLOCK)


def member(name, data=b"", **kw):
    return header(name, size=len(data), **kw) + pad(data)


def directory(name):
    return header(name.rstrip("/") + "/", flag=b"5", mode=0o755)


def symlink(name, target):
    return header(name, flag=b"2", mode=0o777, linkname=target)


def pax(records, name="PaxHeaders.0/x"):
    data = b""
    for key, value in records:
        body = b" %s=%s\n" % (key.encode(), value.encode() if isinstance(value, str) else value)
        length = len(body) + 1
        while len(b"%d" % length) + len(body) != length:
            length += 1
        data += b"%d" % length + body
    return header(name, flag=b"x", size=len(data)) + pad(data)


def layer():
    return member("app/hello.txt", b"hello\n") + EOF


def docker_save_members(tags, repositories=None, index=None, manifest=None, layer_name="l1/layer.tar"):
    """The members of a small archive shaped like ``docker save`` output (no end blocks)."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    if manifest is None:
        manifest = json.dumps([{"Config": "cfg.json", "RepoTags": list(tags), "Layers": [layer_name]}]).encode()
    if repositories is None:
        repositories = {}
        for tag in tags:
            repo, unused_colon, name = tag.rpartition(":")
            repositories.setdefault(repo, {})[name] = "l1"
    out = directory("l1") + member("l1/VERSION", b"1.0") + member("l1/json", b"{}") + \
        member("l1/layer.tar", layer()) + member("cfg.json", config) + member("manifest.json", manifest)
    if repositories is not False:
        out += member("repositories", json.dumps(repositories).encode())
    if index is not None:
        out += member("index.json", index if isinstance(index, bytes) else json.dumps(index).encode())
    return out


def docker_save(tags, extra=b"", **kw):
    return docker_save_members(tags, **kw) + extra + EOF


def manifest_bytes(tags):
    return json.dumps([{"Config": "cfg.json", "RepoTags": list(tags), "Layers": ["l1/layer.tar"]}]).encode()


# -- archives read differently by different readers ------------------------------------------

def v7_device_header(app="web"):
    """Python's tarfile stops at a V7 header whose device field is not octal (it takes it for
    the end); Go reads V7 headers without their device fields and goes on to the second
    manifest.json, which names another app."""
    v7 = bytearray(member("zz", b"x" * 10))
    v7[257:265] = bytes(8)
    v7[329:337] = b"garbage!"
    v7[148:156] = b" " * 8
    v7[148:156] = b"%06o\0 " % sum(v7[:BLOCK])
    return docker_save_members(["dokku/%s:v1" % app]) + bytes(v7) + \
        member("manifest.json", manifest_bytes([OTHER])) + EOF


def nul_led_size(app="web"):
    """A size field that starts with NUL: Python reads 0, Go trims the NUL and reads the
    number, so Go skips a hidden archive (with the good manifest and an end) that Python reads,
    and reads the evil manifest.json after it, which Python never reaches."""
    hidden = docker_save_members(["dokku/%s:v1" % app]) + EOF
    carrier = header("carrier", size=0, override={124: b"\0" + b"%010o\0" % len(hidden)})
    return carrier + hidden + docker_save_members([OTHER], repositories=False) + EOF


def gzip_polyglot(app="web"):
    """A gzip stream whose header's extra field holds a complete plain tar naming dokku/APP:
    Python's tarfile (mode ``r:``) reads that tar; Docker sniffs the gzip magic, decompresses
    and loads the archive inside, which names another app."""
    evil = docker_save([OTHER])
    body = docker_save(["dokku/%s:v1" % app])
    total = BLOCK + len(body)  # a first member holds the gzip header bytes in its name
    first = bytearray(header(b"G" * 12, size=0))
    gz = b"\x1f\x8b\x08\x04" + bytes(4) + b"\x00\xff" + struct.pack("<H", total - 12)
    first[0:12] = gz
    first[148:156] = b" " * 8
    first[148:156] = b"%06o\0 " % sum(first)
    plain = bytes(first) + body
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = deflate.compress(evil) + deflate.flush()
    return plain + stream + struct.pack("<II", zlib.crc32(evil), len(evil) & 0xFFFFFFFF)


def trailing_data(app="web"):
    return docker_save(["dokku/%s:v1" % app]) + docker_save([OTHER])


def repotags_case(app="web"):
    """Go matches ``repotags`` to the RepoTags field, and the later key wins."""
    manifest = ('[{"Config": "cfg.json", "RepoTags": ["dokku/%s:v1"], "Layers": ["l1/layer.tar"],'
                ' "repotags": ["%s"]}]' % (app, OTHER)).encode()
    return docker_save(["dokku/%s:v1" % app], manifest=manifest)


def repotags_fold(app="web"):
    """``RepoTagſ``: Go's case folding maps the long s to s."""
    manifest = ('[{"Config": "cfg.json", "RepoTags": ["dokku/%s:v1"], "Layers": ["l1/layer.tar"],'
                ' "RepoTag\u017f": ["%s"]}]' % (app, OTHER)).encode()
    return docker_save(["dokku/%s:v1" % app], manifest=manifest)


def duplicate_key(app="web"):
    manifest = ('[{"Config": "cfg.json", "RepoTags": ["%s"], "Layers": ["l1/layer.tar"],'
                ' "RepoTags": ["dokku/%s:v1"]}]' % (OTHER, app)).encode()
    return docker_save(["dokku/%s:v1" % app], manifest=manifest)


def duplicate_repositories_key(app="web"):
    text = '{"dokku/%s": {"v1": "l1"}, "dokku/%s": {"v2": "l1"}}' % (app, app)
    return docker_save_members(["dokku/%s:v1" % app], repositories=False) + \
        member("repositories", text.encode()) + EOF


CRAFTED = {
    "v7-device-header": v7_device_header,
    "nul-led-size": nul_led_size,
    "gzip-polyglot": gzip_polyglot,
    "trailing-data": trailing_data,
    "repotags-case": repotags_case,
    "repotags-fold": repotags_fold,
    "duplicate-key": duplicate_key,
    "duplicate-repositories-key": duplicate_repositories_key,
}


def python_view(archive):
    """What Python's tarfile (the old check) reads as manifest.json, or None."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as handle:
            found = None
            for info in handle:
                if info.name.lstrip("./") == "manifest.json" and info.isreg():
                    found = handle.extractfile(info).read()
            return found
    except tarfile.TarError:
        return None


def gunzip(archive):
    return gzip.decompress(archive)
