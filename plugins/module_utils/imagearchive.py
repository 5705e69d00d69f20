# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inspect a ``docker save`` archive before ``git:load-image`` may feed it to ``docker load``.

``docker load`` tags every image the archive names, whatever the command line said, so the
gate reads the archive first and lets it through only when every name in it is the app's own
``dokku/APP:TAG``. Names are read from all three places Docker takes them from:

- ``manifest.json``: ``RepoTags`` of every entry (Docker's own format);
- ``index.json``: the ``io.containerd.image.name`` and ``org.opencontainers.image.ref.name``
  annotations of every manifest (the OCI layout Docker 25+ writes);
- ``repositories``: ``{"dokku/app": {"tag": "id"}}`` (the legacy format).

The archive itself must be plain: member names relative, no ``..``, no devices, FIFOs or hard
links. Symbolic links are accepted only in the shape ``docker save`` itself writes them
(``<id>/layer.tar -> ../<other>/layer.tar`` for a layer shared between images): a relative
target that stays inside the archive and names a regular file in it.

Only the gate's ``git:load-image`` path imports this module (it needs ``tarfile`` and ``json``).
"""

from __future__ import annotations

import json
import posixpath
import tarfile

from .errors import Denied
from .images import parse as parse_image

MAX_MEMBERS = 100000
MAX_METADATA_BYTES = 8 * 1024 * 1024
_METADATA = ("manifest.json", "index.json", "repositories")
_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


class Refused(Denied):
    """The archive may not be loaded; the message is one line, safe to show."""


def _clean(name, what="member"):
    """The normalised relative name of a member, or ``Refused`` for a path trick."""
    if not isinstance(name, str) or not name or len(name) > 4096:
        raise Refused("image archive has an invalid %s name" % what)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise Refused("image archive has a %s name with a control character" % what)
    if name.startswith("/"):
        raise Refused("image archive has an absolute %s name" % what)
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Refused("image archive has a %s name containing '..'" % what)
    return "/".join(parts)


def _reference_app(reference, app, where):
    """Check one image name from the archive: it must be ``dokku/APP:TAG`` (any Docker Hub
    spelling of it); refuse everything else."""
    ref = parse_image(reference) if isinstance(reference, str) else None
    if ref is None:
        raise Refused("image archive names an invalid image in %s" % where)
    if ref.digest is not None or ref.tag is None or ref.local_app != app:
        raise Refused("image archive carries an image other than dokku/%s:TAG (in %s)" % (app, where))
    return "dokku/%s:%s" % (app, ref.tag)


def _json(data, where):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("image archive has a malformed %s" % where)


def _tags_from_manifest(document, app):
    if not isinstance(document, list) or not document:
        raise Refused("image archive has a malformed manifest.json")
    tags = []
    for entry in document:
        if not isinstance(entry, dict):
            raise Refused("image archive has a malformed manifest.json")
        for key in ("Config", "Layers"):
            value = entry.get(key)
            for path in ([value] if key == "Config" else value or []):
                if not isinstance(path, str):
                    raise Refused("image archive has a malformed manifest.json")
                _clean(path, "manifest path")
        repo_tags = entry.get("RepoTags")
        if repo_tags is None:
            continue
        if not isinstance(repo_tags, list):
            raise Refused("image archive has a malformed manifest.json")
        for reference in repo_tags:
            tags.append(_reference_app(reference, app, "manifest.json"))
    return tags


def _tags_from_index(document, app):
    if not isinstance(document, dict) or not isinstance(document.get("manifests", []), list):
        raise Refused("image archive has a malformed index.json")
    tags = []
    for entry in document.get("manifests", []):
        if not isinstance(entry, dict):
            raise Refused("image archive has a malformed index.json")
        annotations = entry.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise Refused("image archive has a malformed index.json")
        for key in _NAME_ANNOTATIONS:
            if key not in annotations:
                continue
            value = annotations[key]
            if not isinstance(value, str):
                raise Refused("image archive has a malformed index.json")
            if key == "org.opencontainers.image.ref.name" and "/" not in value and ":" not in value \
                    and "@" not in value:
                # The OCI ref.name is usually a bare tag ("latest"): it names no repository, so
                # it cannot put an image under another app's name; still, it must be a tag.
                _reference_app("dokku/%s:%s" % (app, value), app, "index.json")
                continue
            tags.append(_reference_app(value, app, "index.json"))
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


def inspect(fileobj, app):
    """Read the archive in ``fileobj`` (seekable, positioned at 0) and return the sorted list of
    ``dokku/APP:TAG`` names it carries; ``Refused`` when it is malformed, plays a path trick,
    carries no name, or names anything but ``dokku/APP:*``."""
    try:
        archive = tarfile.open(fileobj=fileobj, mode="r:")
    except (tarfile.TarError, OSError, EOFError, ValueError):
        raise Refused("image stream is not a docker save archive")
    members = {}
    links = []
    metadata = {}
    try:
        with archive:
            count = 0
            for member in archive:
                count += 1
                if count > MAX_MEMBERS:
                    raise Refused("image archive has too many members")
                name = _clean(member.name)
                if not name:
                    if member.isdir():
                        continue
                    raise Refused("image archive has an empty member name")
                if name in members:
                    raise Refused("image archive names a member twice")
                if member.isdir():
                    members[name] = "dir"
                elif member.isreg():
                    members[name] = "file"
                    if name in _METADATA:
                        if member.size > MAX_METADATA_BYTES:
                            raise Refused("image archive has an oversized %s" % name)
                        handle = archive.extractfile(member)
                        metadata[name] = handle.read(MAX_METADATA_BYTES + 1)
                elif member.issym():
                    members[name] = "link"
                    links.append((name, member.linkname))
                elif member.islnk():
                    raise Refused("image archive contains a hard link")
                else:
                    raise Refused("image archive contains a device, FIFO or other special member")
    except tarfile.TarError:
        raise Refused("image stream is not a well-formed docker save archive")
    except (OSError, EOFError, ValueError):
        raise Refused("image stream is truncated or unreadable")
    for name, target in links:
        if not isinstance(target, str) or not target or target.startswith("/"):
            raise Refused("image archive contains an absolute or empty link")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
            raise Refused("image archive contains a link leaving the archive")
        if members.get(resolved) != "file":
            raise Refused("image archive contains a link that does not name a file in it")
        if name in _METADATA:
            raise Refused("image archive metadata is a link")
    if "manifest.json" not in metadata and "index.json" not in metadata:
        raise Refused("image stream is not a docker save archive (no manifest.json or index.json)")
    tags = []
    if "manifest.json" in metadata:
        tags += _tags_from_manifest(_json(metadata["manifest.json"], "manifest.json"), app)
    if "index.json" in metadata:
        tags += _tags_from_index(_json(metadata["index.json"], "index.json"), app)
    if "repositories" in metadata:
        tags += _tags_from_repositories(_json(metadata["repositories"], "repositories"), app)
    if not tags:
        raise Refused("image archive carries no image name: tag it dokku/%s:TAG before docker save" % app)
    return sorted(set(tags))
