# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker image references: which app's local image a reference means, under any spelling.

Dokku keeps every app's images as ``dokku/APP:TAG`` in the local engine, and Docker reads
``docker.io/dokku/x``, ``index.docker.io/dokku/x`` and ``registry-1.docker.io/dokku/x`` as
that same local ``dokku/x``. A reference without a registry host may name any local image
(Dokku's own base images included), so only ``dokku/APP:TAG`` and references to a named
registry are accepted.
"""

from __future__ import annotations

from .names import APP, HEX, REGISTRY_HOST, REPO_COMPONENT, TAG

DOCKER_HUB_HOSTS = frozenset(("docker.io", "index.docker.io", "registry-1.docker.io"))
_DIGITS = frozenset("0123456789")


class ImageRef(object):
    """A parsed reference: ``host`` (None for a bare name), ``path``, ``tag``, ``digest``."""

    __slots__ = ("host", "path", "tag", "digest")

    def __init__(self, host, path, tag, digest):
        self.host = host
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def local_app(self):
        """The app whose local ``dokku/APP`` image this names, else None."""
        if self.host is not None and self.host.lower() not in DOCKER_HUB_HOSTS:
            return None
        parts = self.path.split("/")
        if len(parts) == 2 and parts[0] == "dokku":
            return parts[1]
        return None


def parse(reference):
    """Parse ``[host[:port]/]path[:tag][@sha256:hex]`` strictly; ``None`` when malformed."""
    if not isinstance(reference, str) or not 0 < len(reference) <= 512:
        return None
    name, at, digest = reference.partition("@")
    if at:
        algo, colon, hexpart = digest.partition(":")
        if algo != "sha256" or not colon or len(hexpart) != 64 or not all(c in HEX for c in hexpart):
            return None
    else:
        digest = None
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not TAG.match(tag):
            return None
    parts = name.split("/")
    host = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        host = parts.pop(0)
        hostname, port_sep, port = host.partition(":")
        if not REGISTRY_HOST.match(hostname) or hostname.endswith(".") or ".." in hostname:
            return None
        if port_sep and not (port and len(port) <= 5 and all(c in _DIGITS for c in port) and 0 < int(port) <= 65535):
            return None
    if not parts or not all(REPO_COMPONENT.match(part) and ".." not in part for part in parts):
        return None
    return ImageRef(host, "/".join(parts), tag, digest)


def app_image(reference):
    """``(app, tag)`` when ``reference`` is exactly ``dokku/APP:TAG``, else None."""
    if not isinstance(reference, str) or not reference.startswith("dokku/"):
        return None
    app, colon, tag = reference[6:].partition(":")
    if not colon or not APP.match(app) or not TAG.match(tag):
        return None
    return app, tag
