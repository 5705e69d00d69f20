# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image label keys an app may set: only keys that nothing on a Dokku host acts on.

An image's labels become its containers' labels, and labels are read by Dokku and by the
shared proxies, which mount the Docker socket and serve every app (Dokku 0.38):

- ``com.dokku.docker-image-labeler/alternate-tags`` (``scheduler-docker-local/
  scheduler-register-retired``): the named image is retired -- removed -- with this app's;
- ``com.dokku.builder-type``, ``com.dokku.image-stage`` (``common/functions``
  ``get_image_builder_type``, ``scheduler-docker-local/scheduler-run``), ``com.dokku.app-name``
  and the other ``com.dokku.*`` keys Dokku filters containers by, and ``dokku``
  (``DOKKU_CONTAINER_LABEL``, ``common/docker.go`` container filters);
- ``io.buildpacks.stack.id`` (``common/docker.go`` ``IsImageCnbBased``) and
  ``org.opencontainers.image.vendor`` (``scheduler-docker-local/bin/scheduler-deploy-process``:
  ``linuxserver.io`` turns ``--init`` off);
- ``traefik.*`` (``traefik-vhosts``, Docker provider), ``caddy`` / ``caddy.*`` / ``caddy_N``
  (``caddy-vhosts``, caddy-docker-proxy), ``haproxy.*`` (``haproxy-vhosts``,
  ``EASYHAPROXY_LABEL_PREFIX``), ``openresty.*`` (``openresty-vhosts``,
  ``OPENRESTY_LABEL_PREFIX``): another app's hostname routed here, proxy configuration injected;
- ``com.docker.compose.*``: the proxies run as compose projects, found by these labels.

A deny-list would have to know every reader, now and later; this allow-list names descriptive
keys only, so a reader added later cannot make an allowed key dangerous unless it reads one of
these. Keys compare without case: no key a reader acts on is a case variant of an allowed one.
"""

from __future__ import annotations

# The OCI image spec's pre-defined annotation keys (annotations.md), without ``vendor`` (read).
_OCI = ("created", "authors", "url", "documentation", "source", "version", "revision", "licenses",
        "ref.name", "title", "description", "base.digest", "base.name")
# label-schema.org 1.0 descriptive keys; Dokku writes ``vendor`` and ``schema-version`` itself.
_LABEL_SCHEMA = ("build-date", "name", "description", "usage", "url", "vcs-url", "vcs-ref", "version")
_PLAIN = ("maintainer", "author", "authors", "description", "summary", "title", "name", "version",
          "license", "url", "vendor")

INERT = frozenset(_PLAIN + tuple("org.opencontainers.image." + key for key in _OCI)
                  + tuple("org.label-schema." + key for key in _LABEL_SCHEMA))

# plugins/git/git-from-image writes this label itself: LABEL KEY=["SOURCE-IMAGE"].
ALTERNATE_TAGS = "com.dokku.docker-image-labeler/alternate-tags"


def allowed(key):
    """Whether label ``key`` is one no reader acts on."""
    return isinstance(key, str) and key.lower() in INERT


def dokku_source_label(key, value, source_image):
    """Whether ``key=value`` is the label ``git-from-image`` writes for ``source_image``.
    ``scheduler-register-retired`` skips an alternate tag equal to the app's source image."""
    return bool(source_image) and key == ALTERNATE_TAGS and value == '["%s"]' % source_image
