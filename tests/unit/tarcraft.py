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


class Image(object):
    """The members of one saved image but its names: ``entries`` are (name, kind, data) with
    kind "dir", "file" or "symlink" (data: the target); ``config`` and ``layers`` as manifest.json
    names them."""

    def __init__(self, entries, config, layers):
        self.entries = entries
        self.config = config
        self.layers = layers

    @classmethod
    def fake(cls, layer_name="l1/layer.tar"):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        return cls([("l1", "dir", None), ("l1/VERSION", "file", b"1.0"), ("l1/json", "file", b"{}"),
                    ("l1/layer.tar", "file", layer()), ("cfg.json", "file", config)], "cfg.json", [layer_name])

    @classmethod
    def from_save(cls, archive):
        """The image of a real ``docker save`` archive (read with tarfile: this is test code)."""
        entries = []
        manifest = None
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as handle:
            for info in handle:
                name = info.name.rstrip("/")
                if name == "manifest.json":
                    manifest = json.loads(handle.extractfile(info).read())
                elif name in ("repositories", "index.json", "oci-layout"):
                    continue
                elif info.isdir():
                    entries.append((name, "dir", None))
                elif info.issym():
                    entries.append((name, "symlink", info.linkname))
                else:
                    entries.append((name, "file", handle.extractfile(info).read()))
        (entry,) = manifest
        return cls(entries, entry["Config"], entry["Layers"])

    def manifest(self, tags):
        return json.dumps([{"Config": self.config, "RepoTags": list(tags), "Layers": self.layers}]).encode()

    def members(self, tags, repositories=None, index=None, manifest=None):
        out = b""
        for name, kind, data in self.entries:
            out += directory(name) if kind == "dir" else symlink(name, data) if kind == "symlink" \
                else member(name, data)
        out += member("manifest.json", self.manifest(tags) if manifest is None else manifest)
        if repositories is None:
            repositories = {}
            for tag in tags:
                repo, unused_colon, name = tag.rpartition(":")
                repositories.setdefault(repo, {})[name] = "l1"
        if repositories is not False:
            out += member("repositories", json.dumps(repositories).encode())
        if index is not None:
            out += member("index.json", index if isinstance(index, bytes) else json.dumps(index).encode())
        return out


FAKE = Image.fake()


def docker_save_members(tags, repositories=None, index=None, manifest=None, layer_name="l1/layer.tar"):
    """The members of a small archive shaped like ``docker save`` output (no end blocks)."""
    image = FAKE if layer_name == "l1/layer.tar" else Image.fake(layer_name)
    return image.members(tags, repositories, index, manifest)


def docker_save(tags, extra=b"", **kw):
    return docker_save_members(tags, **kw) + extra + EOF


def manifest_bytes(tags, image=FAKE):
    return image.manifest(tags)


# -- archives read differently by different readers ------------------------------------------
# Each builder takes the image, the app's own name (dokku/APP:v1) and the name to steal.

def v7_device_header(image=FAKE, good="dokku/web:v1", other=OTHER):
    """Python's tarfile stops at a V7 header whose device field is not octal (it takes it for
    the end); Go reads V7 headers without their device fields and goes on to the second
    manifest.json, which names another app."""
    v7 = bytearray(member("zz", b"x" * 10))
    v7[257:265] = bytes(8)
    v7[329:337] = b"garbage!"
    v7[148:156] = b" " * 8
    v7[148:156] = b"%06o\0 " % sum(v7[:BLOCK])
    return image.members([good]) + bytes(v7) + member("manifest.json", image.manifest([other])) + EOF


def nul_led_size(image=FAKE, good="dokku/web:v1", other=OTHER):
    """A size field that starts with NUL: Python reads 0, Go trims the NUL and reads the
    number, so Go skips a hidden archive (with the good manifest and an end) that Python reads,
    and reads the evil manifest.json after it, which Python never reaches."""
    hidden = image.members([good]) + EOF
    carrier = header("carrier", size=0, override={124: b"\0" + b"%010o\0" % len(hidden)})
    return carrier + hidden + image.members([other], repositories=False) + EOF


def gzip_polyglot(image=FAKE, good="dokku/web:v1", other=OTHER):
    """A gzip stream whose header's extra field holds a complete plain tar naming dokku/APP:
    Python's tarfile (mode ``r:``) reads that tar; Docker sniffs the gzip magic, decompresses
    and loads the archive inside, which names another app."""
    evil = image.members([other]) + EOF
    body = image.members([good]) + EOF
    total = BLOCK + len(body)  # a first member holds the gzip header bytes in its name
    first = bytearray(header(b"G" * 12, size=0))
    first[0:12] = b"\x1f\x8b\x08\x04" + bytes(4) + b"\x00\xff" + struct.pack("<H", total - 12)
    first[148:156] = b" " * 8
    first[148:156] = b"%06o\0 " % sum(first)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = deflate.compress(evil) + deflate.flush()
    return bytes(first) + body + stream + struct.pack("<II", zlib.crc32(evil), len(evil) & 0xFFFFFFFF)


def trailing_data(image=FAKE, good="dokku/web:v1", other=OTHER):
    return image.members([good]) + EOF + image.members([other]) + EOF


def _manifest_text(image, good, key, other, first="RepoTags"):
    return ('[{"Config": %s, "%s": ["%s"], "Layers": %s, "%s": ["%s"]}]'
            % (json.dumps(image.config), first, good, json.dumps(image.layers), key, other)).encode("utf-8")


def repotags_case(image=FAKE, good="dokku/web:v1", other=OTHER):
    """Go matches ``repotags`` to the RepoTags field, and the later key wins."""
    return image.members([good], manifest=_manifest_text(image, good, "repotags", other)) + EOF


def repotags_fold(image=FAKE, good="dokku/web:v1", other=OTHER):
    """``RepoTagſ``: Go's case folding maps the long s to s."""
    return image.members([good], manifest=_manifest_text(image, good, "RepoTag\u017f", other)) + EOF


def duplicate_key(image=FAKE, good="dokku/web:v1", other=OTHER):
    return image.members([good], manifest=_manifest_text(image, good, "RepoTags", other)) + EOF


def duplicate_repositories_key(image=FAKE, good="dokku/web:v1", other=OTHER):
    repo, unused, tag = good.rpartition(":")
    text = '{"%s": {"%s": "l1"}, "%s": {"v2": "l1"}}' % (repo, tag, repo)
    return image.members([good], repositories=False) + member("repositories", text.encode()) + EOF


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
# The ones Docker itself reads as naming ``other`` (the lab proves it on a real engine).
DOCKER_READS_OTHER = ("v7-device-header", "nul-led-size", "gzip-polyglot", "repotags-case", "repotags-fold",
                      "duplicate-key")


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
