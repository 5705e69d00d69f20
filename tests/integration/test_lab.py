"""The lab's own tests: a debootstrap Debian booted with systemd-nspawn, reached over SSH.

Needs root.  Never skips when the lab cannot be built or started: that is a failure.
Labs used here: lab0 (10.200.0.2), lab1, lab2 (three side by side) and `loop` (index 9).
"""
import contextlib
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import labctl  # noqa: E402

LAB_CLI = os.path.join(REPO, "tests", "lab", "lab")
# ansible from the same environment as this pytest (the checkout's .venv, made by scripts/deps)
ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (the lab cannot be built otherwise)")
    was_up = labctl.load_state("lab0") is not None
    try:
        lab = labctl.up("lab0", 0)
    except labctl.LabError as e:
        pytest.fail("the lab could not be built or started: %s" % e)
    yield lab
    if not was_up:  # leave a lab0 someone else started alone
        labctl.down("lab0")


def run(lab, cmd, **kw):
    r = labctl.ssh(lab, cmd, **kw)
    assert r.returncode == 0, "%s -> %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr)
    return r.stdout


def test_ssh_root_true(lab):
    assert lab.address == "10.200.0.2"
    r = subprocess.run(["ssh", "-i", lab.key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                        "-o", "LogLevel=ERROR", "root@10.200.0.2", "true"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["ssh", "-F", lab.ssh_config, lab.name, "hostname"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
    assert (r.returncode, r.stdout) == (0, "lab0\n"), r.stderr


def test_cli_reports_the_lab(lab):
    out = subprocess.run([LAB_CLI, "status"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^lab0\s+up\s+10\.200\.0\.2\s", out, re.M), out
    assert re.search(r"^docker: (available|NOT available)", out, re.M), out
    inv = subprocess.run([LAB_CLI, "inventory", "--name", "lab0"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert inv == lab.inventory
    text = open(inv).read()
    assert "[dokku]" in text and "ansible_host=10.200.0.2" in text
    assert "ansible_user=root" in text and "ansible_python_interpreter=/usr/bin/python3" in text
    assert "ansible_ssh_private_key_file=%s" % lab.key in text
    assert "UserKnownHostsFile=/dev/null" in text


def test_ansible_ping(lab):
    assert os.path.exists(ANSIBLE), "%s is missing: run scripts/deps" % ANSIBLE
    r = subprocess.run([ANSIBLE, "-i", lab.inventory, "dokku", "-m", "ping"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False"), check=False)
    assert r.returncode == 0 and '"ping": "pong"' in r.stdout, r.stdout + r.stderr


def test_real_systemd_and_ssh_service(lab):
    if lab.mode != "nspawn":
        pytest.fail("the lab runs in %s mode: systemd-nspawn could not run here" % lab.mode)
    state = labctl.ssh(lab, "systemctl is-system-running --wait").stdout.strip()
    assert state == "running", run(lab, "systemctl --failed --no-legend || true")
    run(lab, "systemctl reload ssh && systemctl is-active ssh")
    run(lab, "systemctl is-active systemd-journald systemd-logind")


def test_real_debian_programs(lab):
    out = run(lab, "dpkg -S /usr/sbin/useradd /usr/sbin/visudo /usr/sbin/sshd /usr/bin/git "
                   "/usr/bin/npm /usr/bin/node /usr/bin/sudo")
    owners = {line.split(":")[0] for line in out.splitlines()}
    assert owners == {"passwd", "sudo", "openssh-server", "git", "npm", "nodejs"}, out
    run(lab, "useradd --system --shell /bin/sh --home-dir /home/citest --create-home citest "
             "&& id citest && test -d /home/citest")
    run(lab, "printf 'citest ALL=(root) NOPASSWD: /bin/true\\n' > /tmp/ok && visudo -cf /tmp/ok")
    r = labctl.ssh(lab, "printf 'citest ALL=(root NOPASSWD\\n' > /tmp/bad && visudo -cf /tmp/bad")
    assert r.returncode != 0
    run(lab, "sshd -t")
    assert run(lab, "git --version").startswith("git version 2.39")
    assert re.match(r"\d+\.\d+\.\d+$", run(lab, "npm --version").strip())
    run(lab, "python3 -c 'import apt'")
    assert run(lab, "id -nG dokku").split() == ["dokku", "docker"]
    run(lab, "test -d /var/lib/dokku/plugins/available && test -d /var/lib/dokku/plugins/enabled")


def test_standin_records_calls(lab):
    run(lab, "dokku apps:create recorded || dokku apps:exists recorded")
    last = labctl.ssh(lab, "tail -n 1 /var/log/dokku-standin/calls.jsonl").stdout
    import json
    entry = json.loads(last)
    assert entry["argv"][1:] == ["apps:exists", "recorded"] or \
        entry["argv"][1:] == ["apps:create", "recorded"]
    assert entry["uid"] == 0 and "env" in entry
    run(lab, "sudo -u dokku env NAME=alice dokku apps:list | grep -qx recorded")
    entry = json.loads(labctl.ssh(lab, "tail -n 1 /var/log/dokku-standin/calls.jsonl").stdout)
    assert entry["user"] == "dokku" and entry["env"].get("NAME") == "alice"
    r = labctl.ssh(lab, "dokku config:set nope A=1")
    assert (r.returncode, r.stderr) == (1, "!     App nope does not exist\n")
    assert run(lab, "dokku version") == "dokku version 0.38.0\n"
    # Like Dokku, root's calls run as the dokku user: app dirs belong to dokku.
    assert run(lab, "stat -c %U /home/dokku/recorded").strip() == "dokku"


def _git(*args, cwd, env):
    r = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert r.returncode == 0, "git %s: %s" % (" ".join(args), r.stderr)
    return r


def test_git_push_over_ssh(lab, tmp_path):
    # A `dokku` account whose key runs the stand-in the way sshcommand does.
    key = tmp_path / "pusher"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pub = key.with_suffix(".pub").read_text().strip()
    line = 'command="exec /usr/bin/dokku $SSH_ORIGINAL_COMMAND",restrict %s' % pub
    run(lab, "printf '%%s\\n' %s >> /home/dokku/.ssh/authorized_keys" % shlex.quote(line))
    ssh_cmd = " ".join(labctl.ssh_argv(lab, user="dokku", key=str(key))[:-1])
    env = dict(os.environ, GIT_SSH_COMMAND=ssh_cmd, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    src = tmp_path / "src"
    src.mkdir()
    _git("init", "-q", "-b", "main", cwd=src, env=env)
    (src / "app.txt").write_text("v1\n")
    _git("add", ".", cwd=src, env=env)
    _git("commit", "-q", "-m", "v1", cwd=src, env=env)
    _git("push", "dokku@%s:pushed" % lab.address, "main", cwd=src, env=env)
    head = _git("rev-parse", "HEAD", cwd=src, env=env).stdout.strip()
    assert run(lab, "git --git-dir=/home/dokku/pushed rev-parse refs/heads/main").strip() == head
    assert run(lab, "stat -c %U /home/dokku/pushed/refs/heads/main").strip() == "dokku"
    run(lab, "dokku apps:exists pushed")
    _git("clone", "-q", "-b", "main", "dokku@%s:pushed" % lab.address, str(tmp_path / "back"),
         cwd=tmp_path, env=env)
    assert (tmp_path / "back" / "app.txt").read_text() == "v1\n"
    # As root, through root's shell running `dokku git-receive-pack 'APP'`.
    env["GIT_SSH_COMMAND"] = " ".join(labctl.ssh_argv(lab)[:-1])
    _git("push",
         "--receive-pack=dokku git-receive-pack", "root@%s:rootpushed" % lab.address, "main",
         cwd=src, env=env)
    assert run(lab, "git --git-dir=/home/dokku/rootpushed rev-parse main").strip() == head


def test_docker_load_image(lab):
    labctl.require_docker()
    assert lab.docker, "the engine runs but lab0 was started without its socket"
    run(lab, "sudo -u dokku docker version --format '{{.Server.Version}}'")
    run(lab, "docker image inspect %s >/dev/null" % labctl.DOCKER_IMAGE)
    run(lab, "dokku apps:create loadme || true")
    run(lab, "set -e; d=$(mktemp -d); echo hi > $d/f; tar -C $d -c f | docker import - dokku/loadme:1 "
             ">/dev/null; docker save dokku/loadme:1 > /tmp/img.tar; docker rmi dokku/loadme:1 >/dev/null; "
             "sudo -u dokku dokku git:load-image loadme dokku/loadme:1 < /tmp/img.tar; "
             "docker image inspect dokku/loadme:1 >/dev/null; docker rmi dokku/loadme:1 >/dev/null")


def test_require_docker_fails_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(labctl.dockerd, "DOCKER_SOCK", str(tmp_path / "none.sock"))
    monkeypatch.setattr(labctl.dockerd, "DOCKER_STATUS", str(tmp_path / "status.json"))
    with pytest.raises(labctl.DockerUnavailable, match="needs the lab's Docker engine"):
        labctl.require_docker()
    assert issubclass(labctl.DockerUnavailable, AssertionError)  # a failure, not a skip


def test_three_labs_side_by_side(lab):
    labs = [lab]
    try:
        labs += [labctl.up("lab1", 1), labctl.up("lab2", 2)]
        assert [x.address for x in labs] == ["10.200.0.2", "10.200.1.2", "10.200.2.2"]
        for x in labs:
            assert run(x, "hostname").strip() == x.name
        # Each lab is its own host: an app made in one is absent in the others.
        run(labs[1], "dokku apps:create only-in-lab1")
        assert labctl.ssh(labs[2], "dokku apps:exists only-in-lab1").returncode == 1
        inv = subprocess.run([LAB_CLI, "inventory", "--all"], capture_output=True, text=True,
                             check=True).stdout.strip()
        text = open(inv).read()
        for x in labs:
            assert "ansible_host=%s " % x.address in text
        r = subprocess.run([ANSIBLE, "-i", inv, "dokku", "-m", "ping", "-o"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        for x in labs:  # other labs that happen to be up are listed too
            assert re.search(r"^%s \| SUCCESS" % x.name, r.stdout, re.M), r.stdout
    finally:
        labctl.down("lab1")
        labctl.down("lab2")


def _snapshot(others):
    """What a lab leaves on the host.  OTHERS: labs up meanwhile (this machine may be shared
    with other sessions' labs); what is theirs is left out."""
    host_net = os.stat("/proc/self/ns/net").st_ino
    other_nets = set()
    for name in others:
        with contextlib.suppress(OSError):
            other_nets.add(os.stat("/run/netns/" + name).st_ino)
    marks = [m for name in others for m in (name, labctl.lab_dir(name))]
    procs = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % pid).read()
            comm, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if rest.split()[0] == "Z":
                continue  # reaped by pid 1 in its own time
            net = os.stat("/proc/%s/ns/net" % pid).st_ino
            cmdline = open("/proc/%s/cmdline" % pid).read().replace("\0", " ")
        except (OSError, IndexError):
            continue
        if net in other_nets or any(m in cmdline for m in marks):
            continue
        if net != host_net or comm in ("systemd-nspawn", "unshare", "sshd", "systemd"):
            procs.add((int(pid), comm))
    mounts = sorted(line for line in open("/proc/mounts").read().splitlines()
                    if not any(m in line for m in marks))
    netns = sorted(n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                             text=True, check=False).stdout.split("\n")
                   if n.split(" ")[0] not in others)
    other_ifs = {"dtlab%d" % other.index for other in labctl.running_labs() if other.name in others}
    links = sorted(set(os.listdir("/sys/class/net")) - other_ifs)
    run_dirs = sorted(set(os.listdir(os.path.join(labctl.RUN_DIR, "labs"))) - set(others))
    return {"processes": procs, "mounts": mounts, "netns": netns, "links": links,
            "run": run_dirs}


def test_up_down_20_times_leaves_nothing(lab):
    labctl.up("loop", 9)
    labctl.down("loop")  # the first `ip netns add` may mount /run/netns once

    def others():
        return {other.name for other in labctl.running_labs()} - {"loop"}

    seen = others()
    before = _snapshot(seen)
    t0 = time.monotonic()
    for i in range(20):
        x = labctl.up("loop", 9)
        assert x.address == "10.200.9.2"
        labctl.down("loop")
    elapsed = time.monotonic() - t0
    seen |= others()
    before = _snapshot(seen) if seen != others() else before
    after = _snapshot(seen)
    for unused_attempt in range(50):  # processes killed by down may take a moment to vanish from /proc
        if after["processes"] == before["processes"]:
            break
        time.sleep(0.1)
        after = _snapshot(seen)
    assert after == before
    print("20x up/down: %.1f s" % elapsed)
    assert labctl.load_state("loop") is None


def test_down_is_idempotent(lab):
    labctl.down("never-up")
    labctl.down("never-up")
    r = subprocess.run([LAB_CLI, "down", "--name", "never-up"], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


def test_chroot_fallback(lab):
    x = labctl.up("fallback", 8, mode="chroot")
    try:
        assert run(x, "hostname").strip() == "fallback"
        run(x, "sshd -t && git --version && dokku version")
        assert x.mode == "chroot"
    finally:
        labctl.down("fallback")
    assert not os.path.exists("/run/netns/fallback")
