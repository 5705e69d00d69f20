# -*- coding: utf-8 -*-
"""dockerfile + imagecheck: which images a Dockerfile uses, which of them an app may use, and
which labels it (or an image) may set."""

import sys

import pytest

from module_utils import imagecheck, imagefiles
from module_utils.deployguard import ImageReadError
from module_utils.dockerfile import DockerfileError, _words, image_uses, label_refusal


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


# --- LABEL: an image's labels reach Dokku and the shared proxies -------------------------------

@pytest.mark.parametrize("text, line", [
    ('FROM debian\nLABEL com.dokku.docker-image-labeler/alternate-tags=["dokku/other:latest"]\n', 2),
    ('FROM debian\nLABEL com.dokku.docker-image-labeler/alternate-tags=[\\"dokku/other:latest\\"]\n', 2),
    ("FROM debian\nLABEL traefik.enable=true traefik.http.routers.x.rule=Host(`other.example.com`)\n", 2),
    ("FROM debian\nLABEL maintainer=x traefik.enable=true\n", 2),
    ("FROM debian\nLABEL caddy=other.example.com\n", 2),
    ("FROM debian\nLABEL caddy_0.reverse_proxy={{upstreams 80}}\n", 2),
    ("FROM debian\nLABEL haproxy.x.host=other.example.com\n", 2),
    ("FROM debian\nLABEL openresty.include-http-x=c2VydmVyIHt9\n", 2),
    ("FROM debian\nLABEL dokku=\n", 2),
    ("FROM debian\nLABEL com.dokku.builder-type=herokuish\n", 2),
    ("FROM debian\nLABEL io.buildpacks.stack.id=x\n", 2),
    ("FROM debian\nLABEL org.opencontainers.image.vendor=linuxserver.io\n", 2),
    ("FROM debian\nLABEL com.docker.compose.project=traefik\n", 2),
    ("FROM debian\nLABEL traefik.enable true\n", 2),                      # legacy KEY VALUE form
    ('FROM debian\nLABEL "traefik.enable" "true"\n', 2),
    ("FROM debian\nLABEL 'traefik'.enable=true\n", 2),
    ("FROM debian\nlabel Traefik.Enable=true\n", 2),                      # case variants
    ("FROM debian\nLABEL TRAEFIK.ENABLE=true\n", 2),
    ("FROM debian\nLABEL maintainer=x \\\n  # a comment\n  traefik.enable=true\n", 2),
    ('FROM debian\nLABEL description="a b" \\\n    traefik.enable=true\n', 2),
    ("# escape=`\nFROM debian\nLABEL maintainer=x `\n  traefik.enable=true\n", 3),
    ("FROM debian\nONBUILD LABEL traefik.enable=true\n", 2),
    ("FROM debian\nonbuild label caddy=x\n", 2),
    ("FROM debian\nRUN <<EOF\nLABEL traefik.enable=true\nEOF\n", 3),     # the classic builder's reading
])
def test_labels_a_reader_acts_on_are_refused(text, line):
    found = label_refusal(text)
    assert found is not None and found[0] == line, found


@pytest.mark.parametrize("text", [
    "FROM debian\nARG K=traefik.enable\nLABEL $K=true\n",
    "FROM debian\nARG K=maintainer\nLABEL ${K}=x\n",                  # a build argument could change K
    "FROM debian\nARG TARGETARCH\nLABEL x.$TARGETARCH=1\n",
    "FROM debian\nLABEL traefik\\.enable=true\n",
    "FROM debian\nLABEL main\\tainer=x\n",
    'FROM debian\nLABEL "maintainer=x\n',                               # unterminated quote in the key
    "FROM debian\nLABEL maintainer=x traefik.enable\n",               # a word without '='
    "FROM debian\nLABEL maintainer\n",                                # legacy form without a value
    "FROM debian\nLABEL\n",
    "FROM debian\nLABEL maintainer=x\u00a0traefik.enable=true\n",     # a blank Go and Python split differently
    "FROM debian\nLABEL maintainer=x\vtraefik.enable=true\n",
    'FROM debian\nLABEL "" = x\n',
])
def test_labels_that_cannot_be_read_for_certain_are_refused(text):
    found = label_refusal(text)
    assert found is not None and found[0] == text.count("\n", 0, text.index("LABEL")) + 1, found


def test_label_refusal_names_the_key_escaped():
    line, message = label_refusal("FROM debian\nLABEL traefik.http.routers.x.rule='Host(`a`)'\n")
    assert line == 2 and message.startswith("LABEL 'traefik.http.routers.x.rule' is not a descriptive label")
    assert label_refusal("FROM debian\nLABEL 'a\nb'=1\n")[0] == 2
    assert label_refusal("FROM ${X/a/b}\n") == (
        1, "cannot be read as a Dockerfile (a variable modifier this reader cannot expand)")


@pytest.mark.parametrize("text", [
    "FROM debian:bookworm\nRUN true\n",
    "FROM debian\nLABEL org.opencontainers.image.source=https://github.com/acme/web\n",
    'FROM debian\nLABEL maintainer="Jane Doe <jane@example.com>"\n',
    "FROM debian\nLABEL maintainer Jane Doe\n",
    "FROM debian\nMAINTAINER Jane Doe <jane@example.com>\n",
    'FROM debian\nLABEL org.opencontainers.image.title="web" \\\n'
    '      org.opencontainers.image.description="the web app, with a = sign" \\\n'
    "      org.opencontainers.image.licenses=MIT version=1.2 'Description'=x\n",
    'FROM debian\nLABEL "org.opencontainers.image.url"="https://example.com" org.label-schema.vcs-ref=$REF\n',
    "FROM debian\nONBUILD LABEL maintainer=x\n",
    "FROM debian\nRUN echo LABEL traefik.enable=true\n",
    "FROM debian\nRUN <<EOF\necho LABEL traefik.enable=true\nEOF\n",
])
def test_descriptive_labels_pass(text):
    assert label_refusal(text) is None


def test_words_split_as_buildkit_does():
    assert _words('a="b c" d=e', "\\") == ['a="b c"', "d=e"]
    assert _words("a=b\\ c d=''", "\\") == ["a=b\\ c", "d=''"]
    assert _words("a='x\\' b=c", "\\") == ["a='x\\'", "b=c"]        # no escape inside single quotes
    assert _words('"a b"=c', "`") == ['"a b"=c']


def test_image_deploys_own_alternate_tags_label():
    # plugins/git/git-from-image writes exactly this Dockerfile for `git:from-image APP IMAGE`.
    text = 'FROM acme/web:1\nLABEL com.dokku.docker-image-labeler/alternate-tags=[\\"acme/web:1\\"]\n'
    assert label_refusal(text, source_image="acme/web:1") is None
    assert label_refusal(text) is not None                          # a git push may not write it
    assert label_refusal(text, source_image="acme/web:2") is not None
    other = 'FROM acme/web:1\nLABEL com.dokku.docker-image-labeler/alternate-tags=[\\"dokku/other\\"]\n'
    assert label_refusal(other, source_image="acme/web:1") is not None


def test_image_labels():
    assert imagecheck.image_label_refusal(None) is None
    assert imagecheck.image_label_refusal({"maintainer": "x", "org.opencontainers.image.source": "y"}) is None
    assert imagecheck.image_label_refusal({"maintainer": "x", "traefik.enable": "true"}) == (
        "an image with the label 'traefik.enable', which Dokku or a proxy may act on")
    assert imagecheck.image_label_refusal({"org.opencontainers.image.vendor": "linuxserver.io"}) is not None
    assert imagecheck.image_label_refusal(["traefik.enable"]) == "an image whose labels cannot be read"


FAKE_INSPECT = '''#!/usr/bin/env python3
import sys
answers = {"labelled:1": '{"Labels": {"maintainer":"x","traefik.enable":"true"}, "OnBuild": null}',
           "bare:1": '{"Labels": null, "OnBuild": ["RUN id"]}', "odd:1": "[1]"}
ref = sys.argv[-1]
if ref not in answers or sys.argv[-3] != "{{json .Config}}":
    sys.stderr.write("Error: No such image: %s\\n" % ref)
    sys.exit(1)
print(answers[ref])
'''


def test_image_config_from_a_fake_engine(tmp_path):
    docker = tmp_path / "docker"
    docker.write_text(FAKE_INSPECT.replace("#!/usr/bin/env python3", "#!" + sys.executable))
    docker.chmod(0o755)
    engine = imagefiles.Docker(str(docker))
    labels = engine.config("labelled:1")["Labels"]
    assert labels == {"maintainer": "x", "traefik.enable": "true"}
    assert imagecheck.image_label_refusal(labels) is not None
    assert engine.config("bare:1") == {"Labels": None, "OnBuild": ["RUN id"]}
    assert imagecheck.image_label_refusal(None) is None
    for ref in ("odd:1", "nosuch:1"):
        with pytest.raises(ImageReadError):
            engine.config(ref)


@pytest.mark.parametrize("text", [
    "\ufeff# escape=`\nFROM alpine\nRUN true \\\nCOPY --from=dokku/other:latest /a /b\n",
    "\x0b# escape=`\nFROM alpine\n", "#\x0cescape=`\nFROM alpine\n", "\u00a0# escape=`\nFROM alpine\n",
    "FROM alpine\nRUN true\u2028\n", "FROM alpine\nRUN true\u200b\n",
    "#!/bin/sh\n# syntax=docker.io/mallory/frontend:1\nFROM alpine\n",
    "// syntax=docker.io/mallory/frontend:1\nFROM alpine\n", "\n  // syntax=x\nFROM alpine\n",
    '{"syntax": "docker.io/mallory/frontend:1"}',
])
def test_text_buildkit_would_read_differently_is_refused(text):
    # BuildKit drops a BOM, trims Unicode spaces and Go's \\s around directives, and finds the
    # syntax directive after #!, in // comments and in a JSON document (moby/buildkit parser)
    with pytest.raises(DockerfileError):
        image_uses(text)


def test_unicode_text_and_crlf_still_read():
    assert [u.ref for u in image_uses("# syntax=docker/dockerfile:1\r\nFROM debian\r\nRUN echo h\u00e9llo \U0001f600\r\n")] == [
        "docker/dockerfile:1", "debian"]
