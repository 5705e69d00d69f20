# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synthetic SSH public keys for tests (well-formed ed25519 wire format, random key bytes)."""

import base64
import os
import struct


def _string(data):
    return struct.pack(">I", len(data)) + data


def ed25519_line(comment="test", seed=None):
    material = seed if seed is not None else os.urandom(32)
    blob = _string(b"ssh-ed25519") + _string(material)
    line = "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")
    return line + (" " + comment if comment else "")


def blob_line(blob, key_type="ssh-ed25519"):
    return "%s %s" % (key_type, base64.b64encode(blob).decode("ascii"))
