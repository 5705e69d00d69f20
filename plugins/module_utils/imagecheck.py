# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May app APP's deploy build on (or copy from) this image?

- its own ``dokku/APP`` image (any tag, any Docker Hub spelling): yes;
- another app's ``dokku/OTHER`` image under any spelling (``images.ImageRef.local_app``): no;
- a reference that cannot be read: no;
- an image the local engine holds that did not come from a registry (no ``RepoDigests``: built
  or loaded on this host, or re-tagged from such an image), or one carrying another app's
  ``dokku/OTHER`` tag: no -- the builder would use that local image without pulling;
- otherwise (a registry image, pulled or to be pulled): yes.

The local facts come from ``inspect(ref)``: ``None`` when the engine has no such image, else
``(repo_tags, repo_digests)``. Without an engine (``inspect=None``) only the name rules apply.
The ``# syntax=`` frontend runs inside BuildKit and may read any local image: only Docker's
own ``docker/dockerfile`` frontends are accepted there.

An image's labels become its containers' labels, which Dokku and the shared proxies act on:
``image_label_refusal`` holds an image's ``Config.Labels`` to the keys in ``labelkeys``.
"""

from __future__ import annotations

from . import images, labelkeys
from .names import show

FRONTENDS = frozenset(("docker/dockerfile", "docker/dockerfile-upstream"))


def _other_app(ref, app):
    parsed = images.parse(ref)
    if parsed is None:
        return None
    owner = parsed.local_app
    return owner if owner is not None and owner != app else None


def refusal(app, how, ref, inspect=None):
    """Why APP may not use image ``ref`` (one phrase), or None when it may."""
    parsed = images.parse(ref)
    if parsed is None:
        return "an image reference that cannot be read"
    owner = parsed.local_app
    if how == "syntax":
        hub = (None, "docker.io", "index.docker.io", "registry-1.docker.io")
        if owner is None and parsed.path in FRONTENDS and parsed.host in hub:
            return None
        return "a custom BuildKit frontend (only docker/dockerfile is allowed)"
    if owner == app:
        return None
    if owner is not None:
        return "another app's image"
    if inspect is None:
        return None
    local = inspect(ref)
    if local is None:
        return None
    tags, digests = local
    if any(_other_app(tag, app) for tag in tags):
        return "another app's image"
    if not digests:
        return "a local image that did not come from a registry"
    return None


def image_label_refusal(labels):
    """Why an image whose ``Config.Labels`` are ``labels`` (a dict, or None for no labels) may
    not be deployed (one phrase), or None when every key is one no reader acts on."""
    if labels is None:
        return None
    if not isinstance(labels, dict):
        return "an image whose labels cannot be read"
    for key in sorted(labels, key=str):
        if not labelkeys.allowed(key):
            return "an image with the label %s, which Dokku or a proxy may act on" % show(key)
    return None
