# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a ``docker save`` stream into the canonical archive ``git:load-image`` feeds to
``docker load``, and name every image it carries.

``docker load`` tags every image the archive names, whatever the command line said, so the
gate lets an archive through only when every name in it is the app's own ``dokku/APP:TAG``.
The stream is parsed strictly and re-written as it arrives (``tarcanon``): the check below
reads the very bytes that are written, and ``docker load`` reads only what was written, never
the client's bytes. Names are read from every place Docker takes them from:

- ``manifest.json``: ``RepoTags`` of every entry (moby/moby image/tarexport/load.go, the
  graph-driver store; containerd/containerd core/images/archive/importer.go without an
  ``oci-layout``);
- ``index.json``: the ``io.containerd.image.name`` and ``org.opencontainers.image.ref.name``
  annotations of every manifest (the OCI layout Docker 25+ writes and its containerd store
  reads: containerd/containerd client/import.go ``imageName``), and those of nested indexes
  present in the archive;
- ``repositories``: ``{"dokku/app": {"tag": "id"}}`` (the legacy format).

Docker decodes these with Go's ``encoding/json`` into structs: keys match case-insensitively
(with Unicode folding: ``ſ`` is ``s``) and the last of two equal keys wins. Python keeps the
first exact key. So every document is refused when it holds a duplicate key anywhere, a key
that is not ASCII, or a key that matches a field Docker reads only case-insensitively
(``repotags``). Values Go would not decode as the field's type are refused too.

The archive itself must be plain: member names relative, no ``..``, no devices, FIFOs or hard
links. Symbolic links are accepted only in the shape ``docker save`` itself writes them
(``<id>/layer.tar -> ../<other>/layer.tar`` for a layer shared between images): a relative
target that stays inside the archive and names a regular file in it.

Streaming: ``docker load`` may read the canonical archive while the upload is still arriving,
because both of its load paths read the whole tar stream before they look at a name:
moby/moby image/tarexport/load.go ``Load`` untars the stream into a temporary directory and
only then opens ``manifest.json`` (Docker 20.10: ``legacyLoad`` and ``repositories`` when it is
missing), and containerd/containerd core/images/archive/importer.go ``ImportIndex`` loops over
every member up to ``io.EOF`` before it uses ``manifest.json``, ``oci-layout`` and
``index.json`` (client/import.go names the images after that). So the members Docker takes
names from (``_METADATA``) are held back and written last, with the end-of-archive, after the
names were checked; what goes before them decides no name. Go's tar reader also ends cleanly
at ``io.EOF`` between members without an end-of-archive, which is why the gate kills the
loader before closing its pipe when it refuses (``Gate.load_image``).

Only the gate's ``git:load-image`` path imports this module (it needs ``json``).
"""

from __future__ import annotations

import json
import posixpath

from . import tarcanon
from .images import parse as parse_image
from .tarcanon import BLOCK, ZERO_BLOCK, Refused, clean

MAX_MEMBERS = 100000
MAX_METADATA_BYTES = 8 * 1024 * 1024
MAX_NESTED_BYTES = 1024 * 1024
MAX_NESTING = 4
COPY_CHUNK = 1024 * 1024
_METADATA = ("manifest.json", "index.json", "repositories", "oci-layout")
_IMAGE_NAME = "io.containerd.image.name"
_REF_NAME = "org.opencontainers.image.ref.name"
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json")
# The struct fields Go decodes each document into (case-insensitive matches).
_MANIFEST_FIELDS = ("Config", "RepoTags", "Layers", "Parent", "LayerSources")
_INDEX_FIELDS = ("schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations")
_DESCRIPTOR_FIELDS = ("mediaType", "artifactType", "digest", "size", "urls", "annotations", "data",
                      "platform")
_LAYOUT_FIELDS = ("imageLayoutVersion",)

__all__ = ("Refused", "canonicalise")


# -- JSON as Go reads it -----------------------------------------------------------------------

def _pairs(pairs):
    keys = set()
    for key, unused_value in pairs:
        if not key.isascii():
            raise Refused("image archive metadata has a key that is not ASCII")
        if key in keys:
            raise Refused("image archive metadata has a duplicate key")
        keys.add(key)
    return dict(pairs)


def _no_constant(name):
    raise Refused("image archive metadata has %s, which Docker does not read" % name)


def _json(data, where):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("image archive has a malformed %s" % where)
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except ValueError:
        raise Refused("image archive has a malformed %s" % where)
    except RecursionError:
        raise Refused("image archive has a malformed %s" % where)


def _fields(document, fields, where):
    """A JSON object Go decodes into a struct with ``fields``: refuse a key that would match
    one of them only case-insensitively (Go would use it, Python would not)."""
    if not isinstance(document, dict):
        raise Refused("image archive has a malformed %s" % where)
    folded = dict((field.casefold(), field) for field in fields)
    for key in document:
        field = folded.get(key.casefold())
        if field is not None and field != key:
            raise Refused("image archive has %s key %r where Docker reads %r" % (where, key, field))
    return document


def _string_list(value, where):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Refused("image archive has a malformed %s" % where)
    return value


# -- names ---------------------------------------------------------------------------------------

def _reference_app(reference, app, where):
    """Check one image name from the archive: it must be ``dokku/APP:TAG`` (any Docker Hub
    spelling of it); refuse everything else."""
    ref = parse_image(reference) if isinstance(reference, str) else None
    if ref is None:
        raise Refused("image archive names an invalid image in %s" % where)
    if ref.digest is not None or ref.tag is None or ref.local_app != app:
        raise Refused("image archive carries an image other than dokku/%s:TAG (in %s)" % (app, where))
    return "dokku/%s:%s" % (app, ref.tag)


def _tags_from_manifest(document, app):
    if not isinstance(document, list) or not document:
        raise Refused("image archive has a malformed manifest.json")
    tags = []
    for entry in document:
        _fields(entry, _MANIFEST_FIELDS, "manifest.json")
        config = entry.get("Config")
        if not isinstance(config, str):
            raise Refused("image archive has a malformed manifest.json")
        for path in [config] + _string_list(entry.get("Layers"), "manifest.json"):
            clean(path, "manifest path")
        if not isinstance(entry.get("Parent", ""), str) or \
                not isinstance(entry.get("LayerSources") or {}, dict):
            raise Refused("image archive has a malformed manifest.json")
        for reference in _string_list(entry.get("RepoTags"), "manifest.json"):
            tags.append(_reference_app(reference, app, "manifest.json"))
    return tags


def _tags_from_index(document, app, blobs, depth=0):
    _fields(document, _INDEX_FIELDS, "index.json")
    manifests = document.get("manifests")
    manifests = [] if manifests is None else manifests
    if not isinstance(manifests, list):
        raise Refused("image archive has a malformed index.json")
    tags = []
    for entry in manifests:
        _fields(entry, _DESCRIPTOR_FIELDS, "index.json")
        annotations = entry.get("annotations")
        annotations = {} if annotations is None else annotations
        if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
            raise Refused("image archive has a malformed index.json")
        for key in annotations:
            if key.lower() in (_IMAGE_NAME, _REF_NAME) and key not in (_IMAGE_NAME, _REF_NAME):
                raise Refused("image archive has index.json annotation %r" % key)
        if _IMAGE_NAME in annotations:
            tags.append(_reference_app(annotations[_IMAGE_NAME], app, "index.json"))
        if _REF_NAME in annotations:
            value = annotations[_REF_NAME]
            if "/" in value or ":" in value or "@" in value:
                tags.append(_reference_app(value, app, "index.json"))
            elif _IMAGE_NAME not in annotations:
                # Without io.containerd.image.name, containerd takes the bare ref.name itself as
                # the image's name (client/import.go imageName): a name outside dokku/APP.
                raise Refused("image archive names an image by a bare tag only (in index.json)")
            else:
                _reference_app("dokku/%s:%s" % (app, value), app, "index.json")
        media_type = entry.get("mediaType")
        digest = entry.get("digest")
        if media_type is not None and not isinstance(media_type, str) or \
                digest is not None and not isinstance(digest, str):
            raise Refused("image archive has a malformed index.json")
        if media_type in _INDEX_TYPES and isinstance(digest, str):
            nested = blobs(digest)
            if nested is not None:
                if depth >= MAX_NESTING:
                    raise Refused("image archive nests image indexes too deeply")
                tags += _tags_from_index(_json(nested, "nested index"), app, blobs, depth + 1)
    return tags


def _tags_from_repositories(document, app):
    if not isinstance(document, dict):
        raise Refused("image archive has a malformed repositories file")
    tags = []
    for repository, entries in document.items():
        if not isinstance(entries, dict):
            raise Refused("image archive has a malformed repositories file")
        for tag in entries:
            tags.append(_reference_app("%s:%s" % (repository, tag), app, "repositories"))
    return tags


def image_names(metadata, app, blobs=lambda digest: None):
    """The sorted ``dokku/APP:TAG`` names the metadata documents carry; ``Refused`` otherwise.
    ``blobs(digest)`` returns the bytes of a small blob in the archive, or None."""
    if "manifest.json" not in metadata and "index.json" not in metadata:
        raise Refused("image stream is not a docker save archive (no manifest.json or index.json)")
    if "oci-layout" in metadata:
        _fields(_json(metadata["oci-layout"], "oci-layout"), _LAYOUT_FIELDS, "oci-layout")
    tags = []
    if "manifest.json" in metadata:
        tags += _tags_from_manifest(_json(metadata["manifest.json"], "manifest.json"), app)
    if "index.json" in metadata:
        tags += _tags_from_index(_json(metadata["index.json"], "index.json"), app, blobs)
    if "repositories" in metadata:
        tags += _tags_from_repositories(_json(metadata["repositories"], "repositories"), app)
    if not tags:
        raise Refused("image archive carries no image name: tag it dokku/%s:TAG before docker save" % app)
    return sorted(set(tags))


# -- the stream ----------------------------------------------------------------------------------

class _Input(object):
    """Exact reads over ``read(n)`` (up to n bytes, b"" at the end)."""

    def __init__(self, read):
        self._read = read
        self.buffer = b""

    def some(self, limit):
        if self.buffer:
            data, self.buffer = self.buffer[:limit], self.buffer[limit:]
            return data
        return self._read(limit)

    def exact(self, size, what="member"):
        parts = []
        while size:
            data = self.some(size)
            if not data:
                raise Refused("image stream is truncated (in a %s)" % what)
            parts.append(data)
            size -= len(data)
        return b"".join(parts)


class _Archive(object):
    """One strict pass over the stream. Each member is written in its canonical form as soon
    as it is parsed, except the documents Docker takes image names from (``_METADATA``): they
    are held back, with the end-of-archive, until every name in them has been checked."""

    def __init__(self, read, write, move=None):
        self.source, self._write, self.written, self.count = _Input(read), write, 0, 0
        self._move = move
        self.members, self.links, self.metadata, self.blob_at = {}, [], {}, {}
        self.held = []  # canonical bytes of the held-back members, in the order they came

    def emit(self, data):
        self._write(data)
        self.written += len(data)

    def check_head(self):
        head = b""
        while len(head) < BLOCK:
            data = self.source.some(BLOCK - len(head))
            if not data:
                break
            head += data
        kind = tarcanon.compression(head)
        if kind:
            raise Refused("image stream is %s-compressed: send the plain output of docker save" % kind)
        if len(head) < BLOCK:
            raise Refused("image stream is not a docker save archive")
        self.source.buffer = head

    def next_member(self):
        """The next member's header with its extended headers applied; None at the end."""
        pending = {}
        while True:
            header = tarcanon.parse_header(self.source.exact(BLOCK, "header"))
            if header is None:
                if pending:
                    raise Refused("image archive ends inside a member's headers")
                if self.source.exact(BLOCK, "end-of-archive") != ZERO_BLOCK:
                    raise Refused("image archive has a lone zero block inside it")
                return None
            if header.kind not in ("pax", "longname", "longlink"):
                return _fold(header, pending)
            self._extended(header, pending)

    def _extended(self, header, pending):
        if header.kind in pending or (pending and (header.kind == "pax" or "pax" in pending)):
            raise Refused("image archive has ambiguous extended headers")
        limit = tarcanon.MAX_PAX_BYTES if header.kind == "pax" else tarcanon.MAX_LONGNAME_BYTES
        if header.size > limit:
            raise Refused("image archive has an oversized extended header")
        data = self.source.exact(header.size, "extended header")
        _padding(self.source, header.size)
        if header.kind == "pax":
            pending["pax"] = tarcanon.parse_pax(data)
            return
        if not data.endswith(b"\0") or data.count(0) != 1:
            raise Refused("image archive has a malformed GNU long name")
        pending[header.kind] = tarcanon.text_field(data, "long name")

    def add(self, header):
        """Check one member, then write it (or hold it back)."""
        kind = header.kind
        self.count += 1
        if self.count > MAX_MEMBERS:
            raise Refused("image archive has too many members")
        if header.name.endswith("/") and kind != "dir":
            raise Refused("image archive has a file name ending in '/'")
        if kind != "symlink" and header.linkname:
            raise Refused("image archive has a link name on a member that is not a link")
        if kind != "file" and header.size:
            raise Refused("image archive has a directory or link with content")
        name = clean(header.name)
        if not name:
            if kind == "dir":
                return  # "./": the extraction root itself
            raise Refused("image archive has an empty member name")
        if name in self.members:
            raise Refused("image archive names a member twice")
        self.members[name] = kind
        if kind == "symlink":
            if name in _METADATA:
                raise Refused("image archive metadata is a link")
            self.links.append((name, header.linkname))
        if kind != "file":
            self.emit(tarcanon.header_bytes(kind, name, 0, header.mtime, header.linkname))
        elif name in _METADATA:
            self._hold(name, header)
        else:
            self._copy(name, header)

    def _hold(self, name, header):
        if header.size > MAX_METADATA_BYTES:
            raise Refused("image archive has an oversized %s" % name)
        data = self.source.exact(header.size)
        _padding(self.source, header.size)
        self.metadata[name] = data
        self.held.append(tarcanon.header_bytes("file", name, header.size, header.mtime) + data
                         + bytes(-header.size % BLOCK))

    def _copy(self, name, header):
        self.emit(tarcanon.header_bytes("file", name, header.size, header.mtime))
        start, left = self.written, header.size
        nested = name.startswith("blobs/") and header.size <= MAX_NESTED_BYTES
        while left:
            moved = None
            if self._move and not nested and not self.source.buffer:
                moved = self._move(left)  # content no name is read from: past the gate's memory
                if moved is None:
                    self._move = None  # not here (splice does not take this stdin): copy from now on
                else:
                    self.written += moved
            if moved is None:
                data = self.source.some(min(left, COPY_CHUNK))
                self.emit(data)
                moved = len(data)
            if not moved:
                raise Refused("image stream is truncated (in a member)")
            left -= moved
        pad = _padding(self.source, header.size)
        if pad:
            self.emit(bytes(pad))
        if nested:
            self.blob_at[name] = (start, header.size)

    def blobs(self, pread):
        """``blobs(digest)``: a small blob's bytes read back through ``pread``, or None."""
        def blob(digest):
            algorithm, colon, encoded = digest.partition(":")
            where = self.blob_at.get("blobs/%s/%s" % (algorithm, encoded)) if colon else None
            return None if where is None else pread(where[0], where[1])
        return blob


def _fold(header, pending):
    """``header`` with the pax records and GNU long names that came before it applied."""
    pax = pending.pop("pax", {})
    header.name = pax.get("path", pending.pop("longname", None) or header.name)
    header.linkname = pax.get("linkpath", pending.pop("longlink", None) or header.linkname)
    if pending:
        raise Refused("image archive has ambiguous extended headers")
    if "size" in pax and header.size not in (0, pax["size"]):
        raise Refused("image archive has two different sizes for one member")
    header.size = pax.get("size", header.size)
    header.mtime = pax.get("mtime", header.mtime)
    return header


def canonicalise(read, write, pread, app, move=None):
    """Parse the archive from ``read`` strictly and write its canonical form through ``write``,
    all but the held-back members; ``pread(offset, size)`` reads back what was written (for
    nested index blobs); ``move(limit)``, when given, passes up to ``limit`` bytes of a member's
    content from the input to the output unread (the count, 0 at the end, None when it cannot).
    Returns ``(names, tail)``: the sorted image names the archive carries
    (all ``dokku/APP:TAG``) and the bytes that complete the canonical archive (the held-back
    members, then the end-of-archive), for the caller to write once it has recorded the names.
    ``Refused`` when the archive is compressed, malformed, ambiguous, plays a path trick or
    names another image: then nothing written so far decides a name, and no end-of-archive
    was written."""
    archive = _Archive(read, write, move)
    archive.check_head()
    while True:
        header = archive.next_member()
        if header is None:
            break
        archive.add(header)
    _trailing(archive.source)
    _check_tree(archive.members, archive.links)
    names = image_names(archive.metadata, app, archive.blobs(pread))
    return names, b"".join(archive.held) + ZERO_BLOCK * 2


def _padding(source, size):
    pad = -size % BLOCK
    if pad and source.exact(pad, "padding").count(0) != pad:
        raise Refused("image archive has data hidden in a member's padding")
    return pad


def _trailing(source):
    """After the end-of-archive blocks: only zero bytes (tar's record padding) to the end."""
    while True:
        data = source.some(COPY_CHUNK)
        if not data:
            return
        if data.count(0) != len(data):
            raise Refused("image archive has data after its end")


def _check_tree(members, links):
    for name in members:
        parent = posixpath.dirname(name)
        while parent:
            if members.get(parent, "dir") != "dir":
                raise Refused("image archive has a member below a file or link")
            parent = posixpath.dirname(parent)
    for name, target in links:
        if not target or target.startswith("/"):
            raise Refused("image archive contains an absolute or empty link")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
            raise Refused("image archive contains a link leaving the archive")
        if members.get(resolved) != "file":
            raise Refused("image archive contains a link that does not name a file in it")
