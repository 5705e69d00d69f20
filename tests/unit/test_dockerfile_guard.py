# -*- coding: utf-8 -*-
"""dockerfile + imagecheck: which images a Dockerfile uses, and which of them an app may use."""

import pytest

from module_utils import imagecheck
from module_utils.dockerfile import DockerfileError, image_uses


def refs(text):
    return [(u.line, u.how, u.ref) for u in image_uses(text)]


def first_refusal(text, app="web", inspect=None):
    for use in image_uses(text):
        why = imagecheck.refusal(app, use.how, use.ref, inspect)
        if why:
            return use.line, use.ref, why
    return None


def test_plain_from():
    assert refs("FROM debian:bookworm\nRUN true\n") == [(1, "FROM", "debian:bookworm")]


def test_stages_are_not_images():
    text = ("FROM golang:1.22 AS Build\nRUN make\nFROM scratch\n"
            "COPY --from=build /out /out\nCOPY --from=0 /x /x\nRUN --mount=type=cache,from=build,target=/c true\n")
    assert refs(text) == [(1, "FROM", "golang:1.22")]


def test_copy_from_and_mount_from_images():
    text = ("FROM debian:bookworm\nCOPY --from=dokku/other:latest /app /app\n"
            "RUN --mount=type=bind,from=dokku/third,target=/m cat /m/x\n"
            "ADD --from dokku/fourth /a /a\n")
    assert refs(text) == [(1, "FROM", "debian:bookworm"), (2, "COPY --from", "dokku/other:latest"),
                          (3, "RUN --mount from", "dokku/third"), (4, "ADD --from", "dokku/fourth")]


def test_arg_defaults_reach_from_and_copy():
    text = ("ARG BASE=dokku/other\nARG TAG=latest\nFROM ${BASE}:$TAG\n")
    assert refs(text) == [(3, "FROM", "dokku/other:latest")]
    text = ("ARG SRC=dokku/other:latest\nFROM debian:bookworm\nARG SRC\nCOPY --from=$SRC /a /a\n")
    assert refs(text)[-1] == (4, "COPY --from", "dokku/other:latest")
    text = "ARG X\nFROM ${X:-dokku/other}\n"
    assert refs(text) == [(2, "FROM", "dokku/other")]
    text = "ARG X=1\nFROM ${X:+dokku/other}\n"
    assert refs(text) == [(2, "FROM", "dokku/other")]
    with pytest.raises(DockerfileError):
        image_uses("ARG X=dokku/other\nFROM ${X/other/web}\n")


def test_continuations_comments_and_case():
    text = "from \\\n  # a comment inside\n\n  dokku/other \\\n  as base\ncopy --from=base /a /b\n"
    assert refs(text) == [(1, "FROM", "dokku/other")]


def test_escape_directive():
    text = "# escape=`\nFROM debian:bookworm\nCOPY `\n  --from=dokku/other /a /b\n"
    assert refs(text)[-1] == (3, "COPY --from", "dokku/other")
    # with the escape directive, a backslash no longer continues a line
    text = "# escape=`\nFROM c:\\\\windows\\\nCOPY --from=dokku/other /a /b\n"
    assert refs(text)[-1] == (3, "COPY --from", "dokku/other")


def test_onbuild_is_read():
    assert refs("FROM debian:bookworm\nONBUILD COPY --from=dokku/other /a /b\n")[-1] == (
        2, "COPY --from", "dokku/other")


def test_heredoc_lines_are_read_both_ways():
    text = "FROM debian:bookworm\nRUN <<EOF\nFROM dokku/other\nEOF\n"
    assert (3, "FROM", "dokku/other") in refs(text)


def test_syntax_directive():
    assert refs("# syntax=docker/dockerfile:1\nFROM debian\n")[0] == (1, "syntax", "docker/dockerfile:1")
    assert first_refusal("# syntax=docker/dockerfile:1.7\nFROM debian\n") is None
    assert first_refusal("# syntax=evil.example/frontend:1\nFROM debian\n")[1] == "evil.example/frontend:1"


@pytest.mark.parametrize("text", [
    "FROM dokku/other", "FROM dokku/other:latest", "FROM docker.io/dokku/other",
    "FROM index.docker.io/dokku/other:1", "FROM registry-1.docker.io/dokku/other@sha256:" + "a" * 64,
    "FROM debian\nCOPY --from=dokku/other:latest /a /b",
    "ARG B=dokku/other\nFROM $B",
    "FROM debian\nARG S=dokku/other\nRUN --mount=from=$S,target=/x true",
])
def test_other_apps_images_are_refused(text):
    refusal = first_refusal(text)
    assert refusal is not None and refusal[2] == "another app's image", refusal


@pytest.mark.parametrize("text", [
    "FROM debian:bookworm", "FROM dokku/web", "FROM dokku/web:latest", "FROM docker.io/dokku/web:2",
    "FROM registry.example.com:5000/team/img:1", "FROM scratch",
    "FROM debian AS dokku\nFROM dokku\n",
])
def test_allowed_images(text):
    assert first_refusal(text, app="web") is None


def test_unreadable_references_are_refused():
    assert first_refusal("FROM Dokku/Other")[2] == "an image reference that cannot be read"
    assert first_refusal("ARG X\nFROM ${X}")[2] == "an image reference that cannot be read"


def test_local_images_without_a_registry_are_refused():
    local = {"debian:bookworm": (["debian:bookworm"], ["debian@sha256:" + "b" * 64]),
             "mybase:1": (["mybase:1"], []),
             "alias:1": (["alias:1", "dokku/other:latest"], ["alias@sha256:" + "c" * 64])}
    inspect = local.get
    assert first_refusal("FROM debian:bookworm", inspect=inspect) is None
    assert first_refusal("FROM mybase:1", inspect=inspect)[2] == "a local image that did not come from a registry"
    assert first_refusal("FROM alias:1", inspect=inspect)[2] == "another app's image"
    assert first_refusal("FROM notlocal:3", inspect=inspect) is None
    assert first_refusal("FROM dokku/web:latest", inspect=inspect) is None   # own image, built here
