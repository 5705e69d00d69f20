"""The role's first look at the host (roles/dokku_teams/files/status.py), run as the role runs it."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(os.path.dirname(os.path.dirname(HERE)), "roles", "dokku_teams", "files", "status.py")


def look(**request):
    with open(PROGRAM) as handle:
        source = handle.read()
    done = subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", source, json.dumps(request)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_phase_is_current_until_a_thing_or_the_key_changes(tmp_path):
    managed = tmp_path / "sudoers"
    managed.write_text("ci ALL=(root) NOPASSWD: /gate\n")
    os.chmod(managed, 0o440)
    stamp = str(tmp_path / "stamp.json")
    phases = {"sudoers": [str(managed)], "config": ["meta:%s" % tmp_path, "value:declared-1"]}
    assert look(stamp=stamp, key="k1", phases=phases)["current"] == {"sudoers": False, "config": False}
    assert look(stamp=stamp, key="k1", phases=phases, write=True) == {"changed": True}
    assert os.stat(stamp).st_mode & 0o777 == 0o600
    assert look(stamp=stamp, key="k1", phases=phases)["current"] == {"sudoers": True, "config": True}
    assert look(stamp=stamp, key="k1", phases=phases, write=True) == {"changed": False}
    # another key (a setting or the collection changed): nothing is current
    assert look(stamp=stamp, key="k2", phases=phases)["current"] == {"sudoers": False, "config": False}
    # a hand edit of the content, or of the mode alone, makes that phase run again
    managed.write_text("ci ALL=(ALL) NOPASSWD: ALL\n")
    assert look(stamp=stamp, key="k1", phases=phases)["current"] == {"sudoers": False, "config": True}
    managed.write_text("ci ALL=(root) NOPASSWD: /gate\n")
    os.chmod(managed, 0o444)
    assert look(stamp=stamp, key="k1", phases=phases)["current"]["sudoers"] is False
    os.chmod(managed, 0o440)
    assert look(stamp=stamp, key="k1", phases=phases)["current"]["sudoers"] is True
    # what the controller declares is part of the fingerprint
    changed = dict(phases, config=["meta:%s" % tmp_path, "value:declared-2"])
    assert look(stamp=stamp, key="k1", phases=changed)["current"]["config"] is False


def test_a_stamp_others_may_write_is_not_believed(tmp_path):
    managed = tmp_path / "file"
    managed.write_text("x")
    stamp = str(tmp_path / "stamp.json")
    phases = {"one": [str(managed)]}
    look(stamp=stamp, key="k", phases=phases, write=True)
    os.chmod(stamp, 0o666)
    assert look(stamp=stamp, key="k", phases=phases)["current"] == {"one": False}
    os.chmod(stamp, 0o600)
    os.rename(stamp, stamp + ".real")
    os.symlink(stamp + ".real", stamp)
    assert look(stamp=stamp, key="k", phases=phases)["current"] == {"one": False}


def test_files_accounts_reads_and_commands(tmp_path):
    lib = tmp_path / "module_utils"
    lib.mkdir()
    (lib / "gate.py").write_text("print(1)\n")
    (lib / "old.py").write_text("")
    (lib / "notes.txt").write_text("")
    answer = look(files=[str(lib / "gate.py"), str(lib / "missing.py"), str(tmp_path)], listing=str(lib),
                  accounts=["root", "no-such-account-here"], read=[str(lib / "gate.py"), str(lib / "missing")],
                  run={"true": ["/bin/true"], "echo": ["/bin/echo", "hello"], "absent": ["/no/such/program"]})
    sha, mode, uid, gid = answer["files"][str(lib / "gate.py")].split()
    assert len(sha) == 40 and mode == "%04o" % (os.stat(lib / "gate.py").st_mode & 0o7777)
    assert answer["files"][str(tmp_path)] == "not-a-file" and str(lib / "missing.py") not in answer["files"]
    assert answer["extra"] == [str(lib / "old.py")]
    assert answer["accounts"]["root"][1:3] == [0, 0] and answer["accounts"]["no-such-account-here"] is None
    assert answer["read"] == {str(lib / "gate.py"): "print(1)\n"}
    assert answer["run"] == {"true": {"rc": 0, "stdout": "", "stderr": ""},
                             "echo": {"rc": 0, "stdout": "hello\n", "stderr": ""}}


def test_a_bad_request_is_one_line():
    with open(PROGRAM) as handle:
        source = handle.read()
    done = subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", source, json.dumps({"phases": {"x": ["odd:thing"]}})],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "unknown kind of thing odd:thing" in done.stderr


def test_the_packages_dpkg_does_not_hold_installed_are_missing():
    """The role asks apt only for these (here: the machine's own dpkg database)."""
    answer = look(packages=["dpkg", "no-such-package-here"])
    assert answer["missing"] == ["no-such-package-here"]
    assert answer["systemd"] is os.path.isdir("/run/systemd/system")
