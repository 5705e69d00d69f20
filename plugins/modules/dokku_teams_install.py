#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dokku_teams_install
short_description: Bring directories, files, links, the ci account and sshd blocks in line in one call
description:
  - The installer of the C(dokku_teams) role. Each item of O(items) is brought in line in order,
    and the first item that cannot be stops the call with a message that names it; nothing after
    it is touched. One call instead of one task per file, whose round trips were most of the
    role's first run.
  - Files are replaced atomically (a temporary file beside the target, then a rename), after the
    new content passed O(items[].validate) on a copy with the target's owner and mode.
  - An existing account whose comment is not O(items[].comment) is never changed.
  - The C(blocks) kind edits a file like M(ansible.builtin.blockinfile) with C(insertbefore=BOF),
    byte for byte, so a host the blockinfile tasks configured sees no change.
version_added: 0.2.0
author:
  - dokku_ci.teams contributors (@dokku-ci)
options:
  items:
    description: The things to bring in line, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description:
          - C(dir) a directory (missing parents are made 0755), C(file) a file, C(link) a symlink,
            C(absent) a path to remove (a directory with its content), C(account) the ci account and its
            own group, C(blocks) marked blocks at the top of a file, C(command) a command to run.
        type: str
        required: true
        choices: [dir, file, link, absent, account, blocks, command]
      path:
        description: The path (every kind but C(account) and C(command)).
        type: path
      owner:
        description: Owner of a C(dir) or C(file).
        type: str
        default: root
      group:
        description: Group of a C(dir) or C(file).
        type: str
        default: root
      mode:
        description: Mode of a C(dir) or C(file), octal.
        type: str
        default: "0644"
      content:
        description: The content of a C(file).
        type: str
      keep:
        description: For a C(file), write it only when nothing is at O(items[].path) yet.
        type: bool
        default: false
      validate:
        description:
          - For a C(file) or C(blocks), the command that checks the new content before it replaces
            the file; C(%s) is replaced by the path of a copy. Not run in check mode.
        type: list
        elements: str
      diff:
        description: For a C(file), show the content in the diff; V(false) shows its size only.
        type: bool
        default: true
      src:
        description: What a C(link) points to.
        type: str
      name:
        description: The account's name (C(account)); its own group has the same name.
        type: str
      comment:
        description: The account's comment (C(account)), the mark of an account the role made.
        type: str
      home:
        description: The account's home (C(account)); not created here.
        type: path
      shell:
        description: The account's shell (C(account)).
        type: path
        default: /bin/sh
      groups:
        description: The account's supplementary groups, exactly (C(account)).
        type: list
        elements: str
        default: []
      blocks:
        description: For C(blocks), the blocks in order; a missing one goes to the top of the file.
        type: list
        elements: dict
        suboptions:
          marker:
            description: The marker line, C({mark}) standing for C(BEGIN) and C(END).
            type: str
            required: true
          block:
            description: The lines between the markers; omitted, the block is removed.
            type: str
      argv:
        description: The command of a C(command) item. Not run in check mode.
        type: list
        elements: str
      creates:
        description: For a C(command), do not run it when this path exists.
        type: path
      changed_if:
        description: For a C(command), the text whose presence in the output means it changed something.
        type: str
      phase:
        description: A label; RV(phases) lists the labels of the items that changed.
        type: str
attributes:
  check_mode:
    support: full
    description: Reports exactly what would change and writes nothing; commands are not run.
  diff_mode:
    support: full
    description: Before and after of each changed text file, account and block; a summary for O(items[].diff=false).
  platform:
    support: full
    platforms: posix
    description: Runs on the Dokku host as root with Python 3.
seealso:
  - module: ansible.builtin.blockinfile
  - module: ansible.builtin.user
"""

EXAMPLES = r"""
- name: Install the gate's configuration, the state directory and an empty authorized_keys
  dokku_ci.teams.dokku_teams_install:
    items:
      - {kind: dir, path: /var/lib/dokku-teams, mode: "0700"}
      - kind: file
        path: /etc/dokku-teams/gate.conf
        content: "state_dir=/var/lib/dokku-teams\nci_user=ci\n"
        mode: "0644"
        validate: [grep, -q, "^ci_user=", "%s"]
      - {kind: file, path: /home/ci/.ssh/authorized_keys, content: "", keep: true, group: ci, mode: "0640"}
"""

RETURN = r"""
changes:
  description: What changed (or would, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/dokku-teams, /etc/dokku-teams/gate.conf]
phases:
  description: The O(items[].phase) labels of the items that changed.
  returned: always
  type: list
  elements: str
  sample: [config]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dokku_ci.teams.plugins.module_utils.installer import InstallError, apply

KINDS = ["dir", "file", "link", "absent", "account", "blocks", "command"]
ITEM = dict(
    kind=dict(type="str", required=True, choices=KINDS),
    path=dict(type="path"),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
    mode=dict(type="str", default="0644"),
    content=dict(type="str"),
    keep=dict(type="bool", default=False),
    validate=dict(type="list", elements="str"),
    diff=dict(type="bool", default=True),
    src=dict(type="str"),
    name=dict(type="str"),
    comment=dict(type="str"),
    home=dict(type="path"),
    shell=dict(type="path", default="/bin/sh"),
    groups=dict(type="list", elements="str", default=[]),
    blocks=dict(type="list", elements="dict", options=dict(marker=dict(type="str", required=True),
                                                           block=dict(type="str"))),
    argv=dict(type="list", elements="str"),
    creates=dict(type="path"),
    changed_if=dict(type="str"),
    phase=dict(type="str"),
)
REQUIRED = [("kind", "dir", ["path"]), ("kind", "file", ["path", "content"]), ("kind", "link", ["path", "src"]),
            ("kind", "absent", ["path"]), ("kind", "account", ["name", "comment", "home"]),
            ("kind", "blocks", ["path", "blocks"]), ("kind", "command", ["argv"])]


def main():
    module = AnsibleModule(argument_spec=dict(items=dict(type="list", elements="dict", required=True, options=ITEM,
                                                         required_if=REQUIRED)),
                           supports_check_mode=True)
    items = module.params["items"]
    for item in items:
        if item["kind"] == "blocks":
            item["blocks"] = [(block["marker"], block["block"]) for block in item["blocks"]]
    # the engine's sources would come back in the result: a count says what was asked
    invocation = {"module_args": {"items": "%d items" % len(items)}}
    try:
        outcome = apply(items, check=module.check_mode, diff=module._diff)
    except InstallError as error:
        module.fail_json(msg=str(error), invocation=invocation)
    result = dict(changed=bool(outcome.changed), changes=outcome.changed, phases=outcome.phases,
                  invocation=invocation)
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
