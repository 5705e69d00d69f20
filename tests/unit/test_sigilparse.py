# -*- coding: utf-8 -*-
"""sigilparse: the functions a template calls, with Go text/template's lexing rules."""

import pytest

from module_utils import sigilfuncs
from module_utils.sigilparse import TemplateError, delims_from, functions_called


def names(text, delims=("{{", "}}")):
    return [name for name, unused in functions_called(text, delims)]


@pytest.mark.parametrize("text, expected", [
    ('{{ sh "touch /tmp/pwned" }}', ["sh"]),
    ('/health  ok\n{{ sh "id" }}\n', ["sh"]),
    ('{{- sh "id" -}}', ["sh"]),
    ('{{ "x" | sh }}', ["sh"]),
    ('{{ printf "%s" (sh "id") }}', ["printf", "sh"]),
    ('{{ printf "%s" sh }}', ["printf", "sh"]),            # an identifier argument is a call
    ('{{ $x := file "/etc/shadow" }}{{ $x }}', ["file"]),
    ('{{ include "/etc/passwd" }}', ["include"]),
    ('{{ if true }}{{ httpget "http://x" }}{{ end }}', ["httpget"]),
    ('{{ range $i, $v := split "," "a,b" }}{{ $v }}{{ end }}', ["split"]),
    ('{{ sh.Field }}', ["sh"]),
    ('{{ define "t" }}{{ sh "id" }}{{ end }}{{ template "t" }}', ["sh"]),
    ('{{ var "X" | default "y" | upper }}', ["var", "default", "upper"]),
    ('{{ (sh "id") }}', ["sh"]),
    ('{{ else with sh "x" }}', ["sh"]),
])
def test_every_called_function_is_found(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize("text", [
    '{{/* {{ sh "id" }} */}}',                      # a comment
    '{{- /* sh "id" */ -}}',                        # a comment after a trim marker
    '{{ "{{ sh \\"id\\" }}" }}',                     # inside a string, escapes included
    '{{ `{{ sh "id" }}` }}',                         # inside a raw string
    '{{ .sh }}{{ $sh }}{{ .X.sh }}',                 # fields and variables are not calls
    'sh "id" and no action at all',
    '{{ true }}{{ false }}{{ nil }}{{ 3 }}{{ -1.5e3 }}{{ 0x1F }}{{ \'a\' }}',
    '{{ if .A }}x{{ else if .B }}y{{ end }}',
])
def test_no_call_where_go_sees_none(text):
    assert names(text) == []


def test_lines_are_reported():
    calls = functions_called('a\nb\n{{ lower "X" }}\n\n{{\n  sh "id"\n}}\n')
    assert calls == [("lower", 3), ("sh", 6)]


def test_sigil_continuation_is_joined_and_lines_stay_right():
    # sigil.go Execute: "\\}}\n{{" becomes "}}{{" before parsing
    calls = functions_called('{{ lower "a" }}\\\n{{ sh "id" }}\n{{ upper "b" }}')
    assert calls == [("lower", 1), ("sh", 2), ("upper", 3)]


@pytest.mark.parametrize("text", [
    '{{ sh "id"',                    # unclosed action
    '{{ "abc }}',                    # unterminated string
    '{{ "a\nb" }}',                  # newline in a string
    '{{ `abc }}',                    # unterminated raw string
    '{{/* abc }}',                   # unclosed comment
    '{{/* a */ sh }}',               # comment must end at the delimiter
    '{{ (sh "id" }}',                # unclosed paren
    '{{ ) }}',
    '{{ sh# }}',                     # bad character after a name
    '{{ a : b }}',
    '{{ \x01 }}',
])
def test_what_cannot_be_read_is_refused(text):
    with pytest.raises(TemplateError):
        functions_called(text)


def test_trim_markers_need_a_space():
    assert names('{{-3}}') == []            # a number, not a trim marker
    assert names('{{- lower "x" -}}') == ["lower"]


def test_custom_delimiters():
    text = '[[ sh "id" ]] {{ not a call }}'
    assert names(text, ("[[", "]]")) == ["sh"]
    assert names('{{ sh "id" }}', ("[[", "]]")) == []


def test_sigil_delims_values():
    assert delims_from(None) == ("{{", "}}")
    assert delims_from("[[,]]") == ("[[", "]]")
    assert delims_from(",]]") == ("{{", "]]")
    assert delims_from("[[") is None


def test_unicode_identifiers_are_calls():
    assert names('{{ shé "x" }}') == ["shé"]


def test_allow_list():
    assert sigilfuncs.refused([("printf", 1), ("split", 2), ("eq", 3)]) is None
    for name in ("sh", "httpget", "include", "file", "text", "exists", "dir", "dirs", "files", "stdin",
                 "var", "render", "json", "yaml", "base64enc", "base64dec", "call", "nosuch"):
        assert sigilfuncs.refused([("lower", 1), (name, 7)]) == (name, 7)


def test_a_copy_of_dokkus_default_template_shape_passes():
    # The constructs Dokku's own plugins/nginx-vhosts/templates/nginx.conf.sigil uses.
    text = ('{{ range $port_map := .PROXY_PORT_MAP | split " " }}\n'
            '{{ $port_map_list := $port_map | split ":" }}\n'
            '{{ $scheme := index $port_map_list 0 }}\n'
            '{{ if eq $scheme "http" }}server { listen [{{ $.NGINX_BIND_ADDRESS_IP6 }}]:{{ $listen_port }}; }'
            '{{ else if and (ne $scheme "https") (not $.SSL_INUSE) }}x{{ end }}{{ end }}\n'
            '{{- if $.DOKKU_APP_WEB_LISTENERS }}{{ range $l := $.DOKKU_APP_WEB_LISTENERS | split " " }}'
            'server {{ $l }};{{ end }}{{ end -}}\n')
    assert sigilfuncs.refused(functions_called(text)) is None
