# -*- coding: utf-8 -*-
# Copyright: contributors to dokku_ci.teams
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's installer (module_utils/installer.py), as root in a temporary directory."""
import grp
import os
import pwd
import stat

import pytest

from module_utils import installer
from module_utils.installer import InstallError, apply, set_blocks

NOBODY_GROUP = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name


def meta(path):
    info = os.lstat(path)
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def tree(top):
    """Every path below ``top`` with its metadata and content: what "nothing written" compares."""
    out = {}
    for where, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(where, name)
            info = os.lstat(path)
            data = open(path, "rb").read() if stat.S_ISREG(info.st_mode) else os.readlink(path) \
                if stat.S_ISLNK(info.st_mode) else None
            out[path] = (info.st_mode, info.st_uid, info.st_gid, data)
    return out


def items(top):
    return [
        {"kind": "dir", "path": str(top / "lib" / "sub"), "owner": "root", "group": "root", "mode": "0755"},
        {"kind": "file", "path": str(top / "lib" / "sub" / "a.py"), "content": "print(1)\n", "owner": "root",
         "group": "root", "mode": "0644", "diff": False, "phase": "engine"},
        {"kind": "file", "path": str(top / "conf"), "content": "key=value\n", "owner": "root",
         "group": NOBODY_GROUP, "mode": "0640", "phase": "config"},
        {"kind": "link", "path": str(top / "bin" / "tool"), "src": str(top / "lib" / "sub" / "a.py")},
        {"kind": "absent", "path": str(top / "old")},
    ]


def test_a_first_call_makes_everything_and_a_second_changes_nothing(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "f").write_text("x")
    done = apply(items(tmp_path), diff=True)
    assert done.changed == [str(tmp_path / "lib" / "sub"), str(tmp_path / "lib" / "sub" / "a.py"),
                            str(tmp_path / "conf"), str(tmp_path / "bin" / "tool"), str(tmp_path / "old")]
    assert done.phases == ["engine", "config"]
    assert meta(tmp_path / "lib" / "sub")[0] == 0o755
    assert meta(tmp_path / "conf") == (0o640, 0, grp.getgrnam(NOBODY_GROUP).gr_gid)
    assert os.readlink(tmp_path / "bin" / "tool") == str(tmp_path / "lib" / "sub" / "a.py")
    assert not os.path.lexists(tmp_path / "old")
    # the engine's source is summarised, a small file shown in full
    shown = dict((entry["after_header"], entry["after"]) for entry in done.diff)
    assert shown[str(tmp_path / "lib" / "sub" / "a.py")] == "(9 bytes, content not shown)\n"
    assert shown[str(tmp_path / "conf")] == "key=value\n"
    again = apply(items(tmp_path), diff=True)
    assert (again.changed, again.diff, again.phases) == ([], [], [])


def test_check_mode_reports_the_same_and_writes_nothing(tmp_path):
    (tmp_path / "conf").write_text("old\n")
    before = tree(tmp_path)
    checked = apply(items(tmp_path), check=True, diff=True)
    assert tree(tmp_path) == before
    assert checked.changed == apply(items(tmp_path)).changed
    conf = [entry for entry in checked.diff if entry["after_header"] == str(tmp_path / "conf")][0]
    assert (conf["before"], conf["after"]) == ("old\n", "key=value\n")


def test_owner_and_mode_are_repaired_without_rewriting(tmp_path):
    apply(items(tmp_path))
    conf = tmp_path / "conf"
    inode = os.stat(conf).st_ino
    os.chmod(conf, 0o666)
    done = apply(items(tmp_path), diff=True)
    assert done.changed == [str(conf) + " (owner and mode)"]
    assert meta(conf)[0] == 0o640 and os.stat(conf).st_ino == inode


def test_a_file_failing_validation_leaves_the_old_one_and_stops_the_call(tmp_path):
    target = tmp_path / "sudoers"
    target.write_text("good\n")
    later = tmp_path / "later"
    bad = [{"kind": "file", "path": str(target), "content": "bad\n", "owner": "root", "group": "root",
            "mode": "0440", "validate": ["/bin/sh", "-c", "grep -q good %s && test $(stat -c %a %s) = 440"]},
           {"kind": "dir", "path": str(later), "owner": "root", "group": "root", "mode": "0755"}]
    with pytest.raises(InstallError) as failed:
        apply(bad)
    assert "item 1 (file %s)" % target in str(failed.value) and "exit 1" in str(failed.value)
    assert target.read_text() == "good\n" and not later.exists()
    # the copy it checks has the target's mode: a check of the mode passes with good content
    bad[0]["content"] = "good too\n"
    assert apply(bad).changed == [str(target), str(later)]
    assert target.read_text() == "good too\n" and meta(target)[0] == 0o440


def test_a_missing_owner_and_things_in_the_way_fail_with_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    cases = [({"kind": "dir", "path": str(tmp_path / "file"), "owner": "root", "group": "root", "mode": "0755"},
              "is not a directory"),
             ({"kind": "file", "path": str(tmp_path / "dir"), "content": "", "owner": "root", "group": "root",
               "mode": "0644"}, "is a directory"),
             ({"kind": "link", "path": str(tmp_path / "file"), "src": "/x"}, "is not a symlink"),
             ({"kind": "file", "path": str(tmp_path / "new"), "content": "", "owner": "no-such-user-here",
               "group": "root", "mode": "0644"}, "the user no-such-user-here does not exist")]
    for item, message in cases:
        with pytest.raises(InstallError) as failed:
            apply([item])
        assert message in str(failed.value) and "\n" not in str(failed.value), item


def test_keep_writes_a_file_only_when_there_is_none(tmp_path):
    item = {"kind": "file", "path": str(tmp_path / "keys"), "content": "", "keep": True, "owner": "root",
            "group": "root", "mode": "0640"}
    assert apply([item]).changed == [str(tmp_path / "keys")]
    (tmp_path / "keys").write_text("written by the modules\n")
    os.chmod(tmp_path / "keys", 0o600)
    assert apply([item]).changed == []
    assert (tmp_path / "keys").read_text() == "written by the modules\n" and meta(tmp_path / "keys")[0] == 0o600


def test_a_changed_link_is_replaced(tmp_path):
    os.symlink("/elsewhere", tmp_path / "link")
    item = {"kind": "link", "path": str(tmp_path / "link"), "src": "/here"}
    assert apply([item], diff=True).diff == [{"before_header": str(tmp_path / "link"),
                                              "after_header": str(tmp_path / "link"),
                                              "before": "link to /elsewhere\n", "after": "link to /here\n"}]
    assert os.readlink(tmp_path / "link") == "/here"


def test_commands_run_unless_created_and_not_in_check_mode(tmp_path):
    marker = tmp_path / "made"
    make = {"kind": "command", "argv": ["/bin/sh", "-c", "echo written; touch %s" % marker], "creates": str(marker)}
    quiet = {"kind": "command", "argv": ["/bin/echo", "nothing"], "changed_if": "written"}
    assert apply([make, quiet], check=True).changed == ["ran /bin/sh -c echo written; touch %s" % marker]
    assert not marker.exists()
    assert apply([make, quiet]).changed == ["ran /bin/sh -c echo written; touch %s" % marker]
    assert apply([make, quiet]).changed == []
    with pytest.raises(InstallError) as failed:
        apply([{"kind": "command", "argv": ["/bin/sh", "-c", "echo broken >&2; exit 3"]}])
    assert "exit 3" in str(failed.value) and "broken" in str(failed.value)


GLOBAL = "# {mark} dokku_ci.teams: global settings (ANSIBLE MANAGED)"
FIRST = "# {mark} dokku_ci.teams: the ci account, read first (ANSIBLE MANAGED)"
OLD = "# {mark} dokku_ci.teams: the ci account (ANSIBLE MANAGED)"
BLOCKS = [(GLOBAL, "PermitUserEnvironment no\nMaxStartups 30:30:100\n"), (FIRST, "Include /etc/ssh/ci.conf"),
          (OLD, None)]
# What ansible.builtin.blockinfile (insertbefore: BOF) left, task after task, on a stock file
# with the block of a version before 0.2 at its end.
STOCK = b"Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n" \
        b"# BEGIN dokku_ci.teams: the ci account (ANSIBLE MANAGED)\nMatch User ci\n" \
        b"# END dokku_ci.teams: the ci account (ANSIBLE MANAGED)\n"
CONVERGED = b"# BEGIN dokku_ci.teams: the ci account, read first (ANSIBLE MANAGED)\n" \
            b"Include /etc/ssh/ci.conf\n" \
            b"# END dokku_ci.teams: the ci account, read first (ANSIBLE MANAGED)\n" \
            b"# BEGIN dokku_ci.teams: global settings (ANSIBLE MANAGED)\n" \
            b"PermitUserEnvironment no\nMaxStartups 30:30:100\n" \
            b"# END dokku_ci.teams: global settings (ANSIBLE MANAGED)\n" \
            b"Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"


def test_blocks_go_first_replace_in_place_and_remove_like_blockinfile(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_bytes(STOCK)
    os.chmod(config, 0o600)
    item = {"kind": "blocks", "path": str(config), "blocks": BLOCKS}
    assert apply([item]).changed == [str(config)]
    assert config.read_bytes() == CONVERGED and meta(config)[0] == 0o600
    assert apply([item]).changed == []
    # a changed setting is replaced where it is, not moved
    changed = [(GLOBAL, "PermitUserEnvironment no\nMaxStartups 10:30:100\n")] + BLOCKS[1:]
    lines = set_blocks(CONVERGED.splitlines(True), *changed[0])
    assert b"".join(lines) == CONVERGED.replace(b"30:30:100", b"10:30:100")


def test_a_block_after_a_last_line_without_newline(tmp_path):
    lines = set_blocks([b"Port 22"], GLOBAL, None)
    assert lines == [b"Port 22"]
    begin = b"# BEGIN dokku_ci.teams: global settings (ANSIBLE MANAGED)\n"
    end = b"# END dokku_ci.teams: global settings (ANSIBLE MANAGED)\n"
    assert set_blocks([b"Port 22\n", begin, b"old\n", end], GLOBAL, "new") == [b"Port 22\n", begin, b"new\n", end]


def test_a_check_given_as_an_inline_program_is_named_in_one_line(tmp_path):
    target = tmp_path / "gate.conf"
    item = {"kind": "file", "path": str(target), "content": "x=1\n", "owner": "root", "group": "root", "mode": "0644",
            "validate": ["/bin/sh", "-c", "echo 'line 1: x is no key' >&2\nexit 3", "%s"]}
    with pytest.raises(InstallError) as failed:
        apply([item])
    message = str(failed.value)
    assert "fails `/bin/sh -c ... %s` (exit 3), so it was not written: line 1: x is no key" % target in message
    assert "\n" not in message and not target.exists()


def test_blocks_failing_validation_leave_the_file(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_bytes(STOCK)
    item = {"kind": "blocks", "path": str(config), "blocks": BLOCKS, "validate": ["/bin/false", "%s"]}
    with pytest.raises(InstallError):
        apply([item])
    assert config.read_bytes() == STOCK


def test_the_account_is_made_once_and_an_account_the_role_did_not_make_is_refused(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(installer, "_run", lambda argv, what: ran.append(argv) or "")
    item = {"kind": "account", "name": "no-such-account-here", "comment": "dokku_ci.teams gated account",
            "home": "/home/x", "shell": "/bin/sh", "groups": []}
    assert apply([item], check=True).changed == ["group no-such-account-here", "account no-such-account-here"]
    assert ran == []
    apply([item])
    assert ran[0] == ["/usr/sbin/groupadd", "--system", "no-such-account-here"]
    assert ran[1][:2] == ["/usr/sbin/useradd", "--system"] and "--password" in ran[1] and ran[1][-1] == item["name"]
    # nobody exists and carries another comment: never taken over
    with pytest.raises(InstallError) as failed:
        apply([dict(item, name="nobody")])
    assert "the role did not create it" in str(failed.value)
    with pytest.raises(InstallError):
        apply([dict(item, name="root", comment="root")])
    assert len(ran) == 2
