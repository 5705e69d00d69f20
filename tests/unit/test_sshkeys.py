# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
import base64
import struct
import subprocess

import pytest

from module_utils import sshkeys
from module_utils.errors import Invalid

from keyutil import ed25519_line

GATE = "/usr/local/lib/dokku-teams/gate"


def keygen(tmp_path, key_type, bits=None, comment="user@host"):
    path = tmp_path / ("key-%s-%s-%s" % (key_type, bits, comment or "none"))
    cmd = ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)]
    if bits:
        cmd[4:4] = ["-b", str(bits)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    line = (tmp_path / (path.name + ".pub")).read_text().rstrip("\n")
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(path) + ".pub"], check=True, capture_output=True,
                            text=True).stdout.split()
    return line, int(listed[0]), listed[1]


@pytest.mark.parametrize("key_type,bits,expect_bits", [
    ("ed25519", None, 256),
    ("ecdsa", 256, 256),
    ("ecdsa", 384, 384),
    ("ecdsa", 521, 521),
    ("rsa", 2048, 2048),
    ("rsa", 3072, 3072),
])
def test_real_keys_match_ssh_keygen(tmp_path, key_type, bits, expect_bits):
    line, listed_bits, listed_fp = keygen(tmp_path, key_type, bits)
    key = sshkeys.parse_key(line)
    assert key.fingerprint == listed_fp
    assert key.bits == listed_bits == expect_bits
    assert key.comment == "user@host"
    assert key.line == line
    assert key.type == line.split()[0]


def test_rsa_1024_refused(tmp_path):
    line, bits, unused_fp = keygen(tmp_path, "rsa", 1024)
    assert bits == 1024
    with pytest.raises(Invalid, match="1024 bits is too weak.*2048"):
        sshkeys.parse_key(line)


def test_key_without_comment_and_with_spaces_in_comment(tmp_path):
    line, unused_bits, fp = keygen(tmp_path, "ed25519", comment="")
    key = sshkeys.parse_key(line.strip())
    assert key.comment == "" and key.fingerprint == fp and key.line == line.strip()
    key = sshkeys.parse_key(line.strip() + " Alice Smith (laptop)")
    assert key.comment == "Alice Smith (laptop)"


@pytest.mark.parametrize("bad,message", [
    ('restrict ' + ed25519_line(), "options before its type"),
    ('from="10.0.0.1",command="/bin/sh" ' + ed25519_line(), "options before its type"),
    (ed25519_line() + "\n" + ed25519_line(), "one line"),
    (ed25519_line() + "\n", "one line"),
    (ed25519_line() + "\r", "one line"),
    (ed25519_line("a\x00b"), "NUL"),
    (ed25519_line("a\x07b"), "control character"),
    (" " + ed25519_line(), "start with its type"),
    ("", "empty"),
    ("ssh-ed25519", "no key data"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "unsupported SSH key type"),
    ("sk-ssh-ed25519@openssh.com AAAA", "unsupported SSH key type"),
    ("ssh-ed25519 AAAA!!!!", "not base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "not valid base64"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x07ssh-rsa").decode(), "type mismatch"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x10" + b"x" * 16).decode(),
     "32-byte"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + b"x" * 33).decode(),
     "trailing"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x01\x00" + b"x" * 3).decode(),
     "truncated"),
])
def test_bad_keys_refused(bad, message):
    with pytest.raises(Invalid, match=message):
        sshkeys.parse_key(bad)


def test_mismatched_type_between_real_keys(tmp_path):
    line, unused_bits, unused_fp = keygen(tmp_path, "ecdsa", 256)
    blob = line.split()[1]
    with pytest.raises(Invalid, match="type mismatch"):
        sshkeys.parse_key("ssh-ed25519 " + blob)
    with pytest.raises(Invalid, match="type mismatch"):
        sshkeys.parse_key("ecdsa-sha2-nistp384 " + blob)
    rsa, unused_bits, unused_fp = keygen(tmp_path, "rsa", 2048)
    with pytest.raises(Invalid, match="type mismatch"):
        sshkeys.parse_key("ssh-ed25519 " + rsa.split()[1])


def test_non_canonical_base64_refused():
    def string(data):
        return struct.pack(">I", len(data)) + data
    raw = string(b"ecdsa-sha2-nistp256") + string(b"nistp256") + string(b"\x04" + b"\x11" * 64)
    assert len(raw) % 3 == 2
    blob = base64.b64encode(raw).decode()
    assert sshkeys.parse_key("ecdsa-sha2-nistp256 " + blob).bits == 256
    # Flip the unused low bits of the last character before the padding.
    last = blob.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    tweaked = alphabet[alphabet.index(last) ^ 1]
    body = blob.rstrip("=")
    bad = body[:-1] + tweaked + "=" * (len(blob) - len(body))
    with pytest.raises(Invalid):
        sshkeys.parse_key("ecdsa-sha2-nistp256 " + bad)
    with pytest.raises(Invalid):
        sshkeys.parse_key("ecdsa-sha2-nistp256 " + body)


def test_rsa_bits_come_from_the_modulus():
    def mpint(value):
        raw = value.to_bytes((value.bit_length() + 8) // 8, "big")
        return struct.pack(">I", len(raw)) + raw
    modulus = (1 << 2047) | 1
    blob = struct.pack(">I", 7) + b"ssh-rsa" + mpint(65537) + mpint(modulus)
    key = sshkeys.parse_key("ssh-rsa " + base64.b64encode(blob).decode())
    assert key.bits == 2048
    small = struct.pack(">I", 7) + b"ssh-rsa" + mpint(65537) + mpint((1 << 2046) | 1)
    with pytest.raises(Invalid, match="2047 bits"):
        sshkeys.parse_key("ssh-rsa " + base64.b64encode(small).decode())


def test_bytes_accepted_and_non_ascii_refused():
    line = ed25519_line()
    assert sshkeys.parse_key(line.encode()).line == line
    with pytest.raises(Invalid, match="not ASCII"):
        sshkeys.parse_key(line.encode() + b" \xff")


def test_authorized_keys_line_exact():
    line = ed25519_line("alice@laptop")
    key = sshkeys.parse_key(line)
    out = sshkeys.authorized_keys_line("alice", line, GATE, [], False)
    assert out == ('restrict,command="/usr/bin/sudo -n %s --user alice --key %s" %s' % (GATE, key.fingerprint, line))
    out = sshkeys.authorized_keys_line("alice", key, GATE, ["10.0.0.0/8", "2001:db8::1", "*.example.com"], True)
    assert out == ('restrict,pty,from="10.0.0.0/8,2001:db8::1,*.example.com",'
                   'command="/usr/bin/sudo -n %s --user alice --key %s" %s' % (GATE, key.fingerprint, line))


@pytest.mark.parametrize("entry", ['10.0.0.1"', "a,b", "a b", "10.0.0.1/8", "10.0.0.0/33", "", "!10.0.0.1",
                                   "host\n", "x=y"])
def test_bad_from_entries(entry):
    with pytest.raises(Invalid):
        sshkeys.authorized_keys_line("alice", ed25519_line(), GATE, [entry], False)


@pytest.mark.parametrize("entry", ["192.0.2.7", "192.0.2.0/24", "2001:db8::/32", "fe80::1", "ci-*.example.org",
                                   "host?.lan", "10.1.*"])
def test_good_from_entries(entry):
    assert sshkeys.check_from([entry]) == [entry]


@pytest.mark.parametrize("gate", ["relative/gate", '/x"y', "/a b", "/a/../gate", "/a;b"])
def test_bad_gate_path(gate):
    with pytest.raises(Invalid):
        sshkeys.authorized_keys_line("alice", ed25519_line(), gate)


def test_bad_user_in_line():
    with pytest.raises(Invalid):
        sshkeys.authorized_keys_line("Alice", ed25519_line(), GATE)


def test_render_authorized_keys_sorted_and_checked_by_ssh_keygen(tmp_path):
    keys = {name: [keygen(tmp_path, "ed25519", comment=name + str(i))[0] for i in range(2)]
            for name in ("zoe", "alice")}
    rsa = keygen(tmp_path, "rsa", 2048, comment="bob")[0]
    state = {"users": {"zoe": {"keys": keys["zoe"], "from": []},
                       "alice": {"keys": keys["alice"], "from": ["192.0.2.0/24"]},
                       "bob": {"keys": [rsa], "from": []}}}
    text = sshkeys.render_authorized_keys(state, GATE)
    lines = text.splitlines()
    assert lines[0].startswith("# Generated") and "Do not edit" in lines[0]
    body = [line for line in lines if not line.startswith("#")]
    users = [line.split("--user ")[1].split()[0] for line in body]
    assert users == ["alice", "alice", "bob", "zoe", "zoe"]
    key_parts = [line.split('" ', 1)[1] for line in body]
    assert key_parts[0:2] == sorted(key_parts[0:2]) and key_parts[3:5] == sorted(key_parts[3:5])
    assert all(line.startswith('restrict,') for line in body)
    assert 'from="192.0.2.0/24"' in body[0] and "from=" not in body[2]
    assert text.endswith("\n")
    path = tmp_path / "authorized_keys"
    path.write_text(text)
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    assert len(listed) == 5
    fps = [sshkeys.parse_key(line.split('" ', 1)[1]).fingerprint for line in body]
    assert [entry.split()[1] for entry in listed] == fps
    for line, fp in zip(body, fps):
        assert "--key %s\"" % fp in line
    assert "restrict,pty," in sshkeys.render_authorized_keys(state, GATE, allow_pty=True)
