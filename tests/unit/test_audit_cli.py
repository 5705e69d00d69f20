# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dokku-teams audit``: escaped human lines, --since/--tail/--team, rotated files."""

import gzip
import json
import os
import subprocess

import pytest

from module_utils import audit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "bin", "dokku-teams")


def line(stamp, user="alice", command="ps:restart web", decision="allow", team=None, reason="granted"):
    entry = audit.record(user, "SHA256:x", "192.0.2.7", command, decision, reason, "ps:restart", ["web"], (), 0,
                         team)
    entry["time"] = stamp
    return entry


def write(path, entries, compress=False):
    data = "".join(json.dumps(entry) + "\n" for entry in entries).encode("ascii")
    if compress:
        with gzip.open(str(path), "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def cli(log, *args):
    result = subprocess.run([CLI, "--state-dir", os.path.dirname(str(log)), "audit", "--log", str(log)] + list(args),
                            capture_output=True, timeout=60, check=False)
    assert b"Traceback" not in result.stderr, result.stderr
    return result


def test_human_lines_escape_control_bytes_and_terminal_escapes(tmp_path):
    log = tmp_path / "audit.log"
    hostile = "ps:restart web\n2026-01-01T00:00:00.000Z allow root-admin shell\x1b]0;owned\x07\x1b[2J\r\x9b31m\u202e"
    audit.append(str(log), line("2026-12-01T10:00:00.000Z", command=hostile.encode("utf-8"),
                                reason="x\x1b[31m", user="alice"))
    result = cli(log)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count(b"\n") == 1, out          # the client's newline did not start a forged line
    assert all(0x20 <= byte < 0x7F for byte in out.rstrip(b"\n")), out
    text = out.decode("ascii")
    assert "web\\x0a2026" in text and "\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x9b31m\\u202e" in text and "\\x1b[31m" in text, text
    # JSON output stays JSON (the consumer escapes for its own display)
    assert json.loads(cli(log, "--format", "json").stdout)["command"].startswith("ps:restart web\n")


def test_escape_text_is_unambiguous():
    assert audit.escape_text("a\\x1b") == "a\\\\x1b"
    assert audit.escape_text("a\x1bb") == "a\\x1bb"
    assert audit.escape_text("\u202e\U0001f600") == "\\u202e\\U0001f600"
    assert audit.escape_text(None) == "-"


def test_since_tail_team(tmp_path):
    log = tmp_path / "audit.log"
    write(log, [line("2026-12-01T10:00:00.000Z", user="u1", team="web"),
                line("2026-12-01T11:00:00.000Z", user="u2", team="ops"),
                line("2026-12-02T09:30:00.500Z", user="u3", team="web"),
                line("2026-12-02T10:00:00.000Z", user="u4", team="web")])

    def users(*args):
        result = cli(log, "--format", "json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(text)["user"] for text in result.stdout.decode().splitlines()]

    assert users() == ["u1", "u2", "u3", "u4"]
    assert users("--since", "2026-12-02") == ["u3", "u4"]
    assert users("--since", "2026-12-02T09:30:00.6Z") == ["u4"]
    assert users("--since", "2026-12-01 11:00") == ["u2", "u3", "u4"]
    assert users("--tail", "2") == ["u3", "u4"]
    assert users("--tail", "0") == []
    assert users("--team", "web") == ["u1", "u3", "u4"]
    assert users("--team", "web", "--tail", "1") == ["u4"]
    assert users("--team", "ops", "--since", "2026-12-02") == []
    assert users("--user", "u3", "--team", "web") == ["u3"]


def test_since_accepts_an_age():
    now = 1_800_000_000.0
    assert audit.parse_since("90s", now) == "2027-01-15T07:58:30.000Z"
    assert audit.parse_since("2h", now) == "2027-01-15T06:00:00.000Z"
    assert audit.parse_since("7d", now) == "2027-01-08T08:00:00.000Z"
    for bad in ("yesterday", "2026-13-01", "2026-12-01T25:00", "-1h", "1w", ""):
        with pytest.raises(ValueError):
            audit.parse_since(bad)


@pytest.mark.parametrize("args", [("--since", "yesterday"), ("--tail", "-3"), ("--tail", "x"),
                                  ("--decision", "maybe"), ("extra",)])
def test_bad_options_are_one_line(tmp_path, args):
    log = tmp_path / "audit.log"
    write(log, [line("2026-12-01T10:00:00.000Z")])
    result = cli(log, *args)
    assert result.returncode == 64 and result.stdout == b""
    assert result.stderr.count(b"\n") == 1 and result.stderr.startswith(b"!     ")


def test_rotated_files_are_read_oldest_first(tmp_path):
    """logrotate's layout: audit.log.1 (delaycompress), audit.log.2.gz, audit.log.3.gz ..."""
    log = tmp_path / "audit.log"
    write(tmp_path / "audit.log.3.gz", [line("2026-11-01T00:00:00.000Z", user="oldest")], compress=True)
    write(tmp_path / "audit.log.2.gz", [line("2026-11-08T00:00:00.000Z", user="older")], compress=True)
    write(tmp_path / "audit.log.1", [line("2026-11-15T00:00:00.000Z", user="old")])
    write(log, [line("2026-11-22T00:00:00.000Z", user="current")])
    (tmp_path / "audit.log.bak").write_text("not a rotated copy\n")
    (tmp_path / "audit.log.10.gz").write_bytes(b"\x1f\x8b damaged")
    result = cli(log, "--format", "json")
    records = [json.loads(text) for text in result.stdout.decode().splitlines()]
    assert [r["user"] for r in records] == [None, "oldest", "older", "old", "current"]
    assert records[0]["decision"] == "error" and "audit.log.10.gz is damaged" in records[0]["reason"]
    assert [r["user"] for r in records if r["user"]][-2:] == ["old", "current"]
    assert [json.loads(t)["user"] for t in cli(log, "--format", "json", "--since", "2026-11-10").stdout.decode()
            .splitlines()] == [None, "old", "current"]     # the damaged copy shows, whatever the time


def test_a_missing_log_is_one_line(tmp_path):
    result = cli(tmp_path / "nothing.log")
    assert result.returncode == 75 and result.stderr.count(b"\n") == 1
