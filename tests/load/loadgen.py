"""Load on a converged lab host: N concurrent SSH sessions (OpenSSH clients) from several
users for S seconds, then an exact account of what happened.

Every command a session sends carries a unique tag (``LT<run>_<n>``) so that the Dokku
stand-in's call log and the gate's audit log can be matched against what the driver sent:

- every allowed command reaches the stand-in exactly once, with exactly the argv expected;
- every refused or malformed one never reaches it (its tag is in no call);
- the audit log gains exactly one well-formed line per decision (per session that reached
  the gate), with the expected decision;
- concurrent ``git push``es to different apps each land (one ``git-receive-pack`` per push,
  the app's ref is the last commit pushed);
- no session error except sshd's own MaxStartups drops.

Connection drops. The role sets ``MaxStartups 30:30:100``: with more than 30 connections
waiting for authentication, sshd closes new ones at random before authentication (the client
says ``kex_exchange_identification: ...`` / ``Connection reset by peer`` / ``Connection
closed by ... port 22`` and exits 255, or git says it could not read from the remote). Such
a session never reached the gate: the driver counts it as a drop and retries the very same
command (same tag) after a short random pause. If a "dropped" session had in fact run, its
tag would show up twice in the stand-in's log or the audit log and the account fails: the
retry policy cannot hide a double execution.

Latency: ``teams:whoami`` (decided and answered by the gate itself, no Dokku) through the
gate vs a login whose key is forced to ``/bin/true`` (account ``loadtrue``), both as fresh
SSH connections in the same run under the same load; the difference is what the gate (sudo +
Python + decision + audit line) adds to a login.
"""
import collections
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time

import json

import kit

DENIED, MALFORMED = 77, 64
# Before authentication, sshd's MaxStartups drop (or a refused connection when the listen
# queue overflows): the session never reached the gate.
PREAUTH_DROP = re.compile(
    r"kex_exchange_identification|Connection reset by peer|Connection closed by \S+ port \d+|"
    r"Connection refused|banner exchange|Connection timed out during banner exchange")

APPS = ("web", "web-api", "billing")


class Job(object):
    """One command: who sends it, what it is, what must happen."""

    __slots__ = ("kind", "user", "command", "expect", "argv", "tag", "login")

    def __init__(self, kind, user, command, expect, argv=None, tag=None, login="ci"):
        self.kind = kind          # label for the report
        self.user = user          # key name
        self.command = command    # as ssh sends it
        self.expect = expect      # exit code expected
        self.argv = argv          # the stand-in argv expected (allowed dokku commands), else None
        self.tag = tag
        self.login = login


def job_for(kind, tag):
    """The job of ``kind`` tagged ``tag`` (policy: the example inventory)."""
    d = "/usr/bin/dokku"
    if kind == "alice-config-set":       # team web: config:* on web
        return Job(kind, "alice", "config:set web %s=1" % tag, 0, [d, "config:set", "web", "%s=1" % tag], tag)
    if kind == "alice-config-get-quoted":  # POSIX quoting, value with a space
        return Job(kind, "alice", "config:set web-api '%s=hello world'" % tag, 0,
                   [d, "config:set", "web-api", "%s=hello world" % tag], tag)
    if kind == "oscar-ps-set":           # team ops: ps:* on every app
        return Job(kind, "oscar", "ps:scale billing %s=1" % tag.lower().replace("_", ""), 0,
                   [d, "ps:scale", "billing", "%s=1" % tag.lower().replace("_", "")], tag.lower().replace("_", ""))
    if kind == "admin-config-get":       # dokku@admin
        return Job(kind, "root-admin", "config:get billing %s" % tag, 0, [d, "config:get", "billing", tag], tag)
    if kind == "alice-foreign-app":      # opaque refusal
        return Job(kind, "alice", "config:get billing %s" % tag, DENIED, None, tag)
    if kind == "alice-global":           # --global is admin-only
        return Job(kind, "alice", "config:set --global %s=1" % tag, DENIED, None, tag)
    if kind == "oscar-not-granted":      # ops holds no config:*
        return Job(kind, "oscar", "config:get web %s" % tag, DENIED, None, tag)
    if kind == "bob-no-team":            # bob is in no team
        return Job(kind, "bob", "config:get web %s" % tag, DENIED, None, tag)
    if kind == "deploy-bot-not-granted":  # web-deploy holds no config:*
        return Job(kind, "deploy-bot", "config:get web %s" % tag, DENIED, None, tag)
    if kind == "alice-malformed":        # a shell metacharacter: malformed, never run
        return Job(kind, "alice", "config:get web %s;id" % tag, MALFORMED, None, tag)
    if kind == "whoami":                 # the gate's own no-op
        return Job(kind, "alice", "teams:whoami", 0, None, None)
    if kind == "true":                   # a key forced to /bin/true
        return Job(kind, kit.TRUE_USER, "teams:whoami", 0, None, None, login=kit.TRUE_USER)
    raise ValueError(kind)


# The mix a command worker draws from (weights); push workers are separate.
MIX = (("alice-config-set", 3), ("alice-config-get-quoted", 1), ("oscar-ps-set", 2),
       ("admin-config-get", 1), ("alice-foreign-app", 2), ("alice-global", 1),
       ("oscar-not-granted", 1), ("bob-no-team", 1), ("deploy-bot-not-granted", 1),
       ("alice-malformed", 1), ("whoami", 3), ("true", 3))


class Result(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.done = []            # (job, rc, seconds, stderr) for sessions that got an answer
        self.drops = 0            # pre-auth drops (retried)
        self.errors = []          # anything else unexpected (text)
        self.pushes = collections.defaultdict(list)   # app -> [sha pushed, in order]
        self.push_drops = 0
        self.started = self.finished = 0.0
        self.audit_offset = self.calls_offset = 0
        self.run_id = ""

    def add(self, job, rc, seconds, err):
        with self.lock:
            self.done.append((job, rc, seconds, err))

    def error(self, text):
        with self.lock:
            if len(self.errors) < 200:
                self.errors.append(text)


def _ssh(lab, keys_dir, job, timeout):
    argv = kit.user_argv(lab, keys_dir, job.user, user=job.login) + ["--", job.command]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)
    return p.returncode, time.monotonic() - t0, p.stderr


def _run_job(lab, keys_dir, job, result, deadline_hard, rng):
    """Run one job to an answer, retrying pre-auth drops; False when out of time."""
    while True:
        try:
            rc, seconds, err = _ssh(lab, keys_dir, job, timeout=60)
        except subprocess.TimeoutExpired:
            result.error("%s: ssh timed out: %s" % (job.kind, job.command))
            return False
        if rc == 255 and PREAUTH_DROP.search(err or ""):
            with result.lock:
                result.drops += 1
            if time.monotonic() > deadline_hard:
                result.error("%s: still dropped at the deadline: %s" % (job.kind, job.command))
                return False
            time.sleep(rng.uniform(0.05, 0.3))
            continue
        result.add(job, rc, seconds, err)
        if rc != job.expect:
            result.error("%s: %r exited %d, expected %d: %s" % (job.kind, job.command, rc, job.expect,
                                                                (err or "").strip()[:300]))
        return True


def _command_worker(lab, keys_dir, result, counter, deadline, deadline_hard, seed):
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _copy in range(w)]
    while time.monotonic() < deadline:
        with result.lock:
            counter[0] += 1
            n = counter[0]
        # Upper case: a config key a member may set is upper case (Dokku's own locals are not).
        job = job_for(rng.choice(kinds), "LT%s_%d" % (result.run_id.upper(), n))
        if not _run_job(lab, keys_dir, job, result, deadline_hard, rng):
            return


def _push_worker(lab, keys_dir, user, app, result, deadline, deadline_hard, seed):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="loadpush-")
    try:
        git = ["git", "-C", work, "-c", "user.name=load", "-c", "user.email=load@example.invalid"]
        subprocess.run(["git", "init", "-q", "-b", "main", work], check=True)
        ssh = " ".join(kit.user_argv(lab, keys_dir, user)[:-1])
        env = dict(os.environ, GIT_SSH_COMMAND=ssh, GIT_TERMINAL_PROMPT="0")
        n = 0
        while time.monotonic() < deadline:
            n += 1
            subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "load %s %d" % (app, n)], check=True)
            sha = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True,
                                 text=True).stdout.strip()
            while True:
                t0 = time.monotonic()
                p = subprocess.run(git + ["push", "-q", "--force", "ci@%s:%s" % (lab.address, app), "HEAD:refs/heads/main"],
                                   env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=120, check=False)
                seconds = time.monotonic() - t0
                if p.returncode != 0 and PREAUTH_DROP.search(p.stderr or ""):
                    with result.lock:
                        result.push_drops += 1
                    if time.monotonic() > deadline_hard:
                        result.error("push %s: still dropped at the deadline" % app)
                        return
                    time.sleep(rng.uniform(0.05, 0.3))
                    continue
                break
            job = Job("git-push", user, "git-receive-pack '%s'" % app, 0, None, None)
            result.add(job, p.returncode, seconds, p.stderr)
            if p.returncode != 0:
                result.error("push %s by %s failed (%d): %s" % (app, user, p.returncode, p.stderr.strip()[:300]))
                return
            with result.lock:
                result.pushes[app].append(sha)
    finally:
        shutil.rmtree(work, ignore_errors=True)


PUSHERS = (("alice", "web"), ("alice", "web-api"), ("root-admin", "ldpush-1"), ("root-admin", "ldpush-2"))


def prepare(lab, keys_dir):
    """Apps, the /bin/true account; call once per lab."""
    kit.add_true_account(lab, keys_dir)
    kit.root(lab, "for a in %s; do dokku apps:exists $a >/dev/null 2>&1 || dokku apps:create $a >/dev/null; done"
             % " ".join(APPS))


def run(lab, keys_dir, sessions=50, seconds=60.0, pushers=PUSHERS):
    """Drive the load; returns a Result (not yet verified)."""
    result = Result()
    result.run_id = "%x" % (int(time.time() * 1000) % 0xFFFFFFF)
    result.audit_offset = kit.file_size(lab, kit.AUDIT)
    result.calls_offset = kit.file_size(lab, kit.CALLS)
    counter = [0]
    pushers = list(pushers)[:max(0, sessions - 1)]
    threads = []
    start = time.monotonic()
    deadline = start + seconds
    deadline_hard = deadline + 60.0
    for i, (user, app) in enumerate(pushers):
        threads.append(threading.Thread(target=_push_worker, args=(lab, keys_dir, user, app, result, deadline,
                                                                   deadline_hard, 1000 + i), daemon=True))
    for i in range(sessions - len(pushers)):
        threads.append(threading.Thread(target=_command_worker, args=(lab, keys_dir, result, counter, deadline,
                                                                      deadline_hard, i), daemon=True))
    result.started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 200)
        if t.is_alive():
            result.error("a worker did not finish in time")
    result.finished = time.time()
    result.wall = time.monotonic() - start
    return result


class Account(object):
    """What the logs say, matched against what was sent."""

    def __init__(self):
        self.problems = []
        self.figures = collections.OrderedDict()

    def problem(self, text):
        if len(self.problems) < 100:
            self.problems.append(text)


def verify(lab, result):
    acc = Account()
    for e in result.errors:
        acc.problem("session: " + e)
    calls = kit.jsonl(kit.read_from(lab, kit.CALLS, result.calls_offset))
    audit_text = kit.read_from(lab, kit.AUDIT, result.audit_offset)
    audit = []
    for number, line in enumerate(audit_text.splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            acc.problem("audit line %d is not JSON: %r" % (number, line[:200]))
            continue
        if not isinstance(entry, dict) or tuple(entry) != kit.AUDIT_FIELDS:
            acc.problem("audit line %d has fields %s" % (number, list(entry) if isinstance(entry, dict) else entry))
            continue
        if entry["decision"] not in ("allow", "deny", "malformed") or \
                not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z", entry["time"] or "") or \
                any(not (0x20 <= ord(c) < 0x7F) for c in line):
            acc.problem("audit line %d is not well formed: %r" % (number, line[:200]))
        audit.append(entry)

    # ---- tagged commands: the stand-in and the audit log
    tag_re = re.compile(r"\b(LT%s_\d+|lt%s\d+)\b" % (result.run_id.upper(), result.run_id))
    calls_by_tag = collections.Counter()
    argv_by_tag = {}
    for call in calls:
        for word in call.get("argv", []):
            for tag in tag_re.findall(word):
                calls_by_tag[tag] += 1
                argv_by_tag[tag] = call["argv"]
    audit_by_tag = collections.Counter()
    audit_decision = {}
    for entry in audit:
        for tag in set(tag_re.findall(entry.get("command") or "")):
            audit_by_tag[tag] += 1
            audit_decision[tag] = entry["decision"]
    jobs = [j for j, rc, s, e in result.done]
    tagged = [j for j in jobs if j.tag]
    allowed = [j for j in tagged if j.argv is not None]
    refused = [j for j in tagged if j.argv is None]
    for job in allowed:
        if calls_by_tag[job.tag] != 1:
            acc.problem("allowed %s %s reached the stand-in %d times" % (job.kind, job.tag, calls_by_tag[job.tag]))
        elif argv_by_tag[job.tag] != job.argv:
            acc.problem("allowed %s %s ran %r, expected %r" % (job.kind, job.tag, argv_by_tag[job.tag], job.argv))
    for job in refused:
        if calls_by_tag[job.tag]:
            acc.problem("refused %s %s reached the stand-in %d times" % (job.kind, job.tag, calls_by_tag[job.tag]))
    want = {0: "allow", DENIED: "deny", MALFORMED: "malformed"}
    for job in tagged:
        if audit_by_tag[job.tag] != 1:
            acc.problem("%s %s has %d audit lines" % (job.kind, job.tag, audit_by_tag[job.tag]))
        elif audit_decision[job.tag] != want[job.expect]:
            acc.problem("%s %s audited as %s" % (job.kind, job.tag, audit_decision[job.tag]))
    sent_tags = {j.tag for j in tagged}
    for tag in set(calls_by_tag) | set(audit_by_tag):
        if tag not in sent_tags:
            acc.problem("tag %s in the logs was never answered to a client (a dropped session ran?)" % tag)

    # ---- untagged: whoami and pushes
    whoami = sum(1 for j in jobs if j.kind == "whoami")
    audit_whoami = sum(1 for e in audit if e["command"] == "teams:whoami" and e["user"] == "alice")
    if audit_whoami != whoami:
        acc.problem("teams:whoami: %d sessions, %d audit lines" % (whoami, audit_whoami))
    for app, shas in sorted(result.pushes.items()):
        n_calls = sum(1 for c in calls if c.get("argv", [None, None])[1:2] == ["git-receive-pack"]
                      and c["argv"][2:3] in (["'%s'" % app], [app]))
        n_audit = sum(1 for e in audit if e["pseudo"] == "git-receive-pack" and e["apps"] == [app])
        if n_calls != len(shas) or n_audit != len(shas):
            acc.problem("push %s: %d pushes, %d receive-pack calls, %d audit lines" % (app, len(shas), n_calls,
                                                                                       n_audit))
        if shas:
            head = kit.root(lab, "git --git-dir=/home/dokku/%s rev-parse refs/heads/main" % app,
                            check=False).stdout.strip()
            if head != shas[-1]:
                acc.problem("push %s: the app's main is %s, the last push was %s" % (app, head, shas[-1]))
    gate_sessions = sum(1 for j in jobs if j.login == "ci")
    if len(audit) != gate_sessions:
        acc.problem("%d sessions reached the gate, the audit log gained %d lines" % (gate_sessions, len(audit)))

    # ---- figures
    lat = collections.defaultdict(list)
    for job, rc, seconds, err in result.done:
        lat[job.kind].append(seconds * 1000.0)
    acc.figures["run seconds"] = "%.1f" % result.wall
    acc.figures["ssh sessions answered"] = "%d" % len(result.done)
    acc.figures["gate decisions (audit lines)"] = "%d" % len(audit)
    acc.figures["decisions/s"] = "%.1f" % (len(audit) / result.wall)
    acc.figures["allowed tagged -> stand-in once"] = "%d" % len(allowed)
    acc.figures["refused/malformed tagged -> never"] = "%d" % len(refused)
    acc.figures["git pushes landed"] = "%d (%s)" % (sum(len(v) for v in result.pushes.values()),
                                                    ", ".join("%s %d" % (a, len(v)) for a, v in
                                                              sorted(result.pushes.items())))
    acc.figures["pre-auth drops retried (MaxStartups)"] = "%d commands, %d pushes" % (result.drops, result.push_drops)
    for kind in ("whoami", "true"):
        values = lat.get(kind, [])
        acc.figures["%s latency ms p50/p99 (n)" % ("gate teams:whoami" if kind == "whoami" else "/bin/true key")] = \
            "%.0f / %.0f (%d)" % (kit.percentile(values, 50), kit.percentile(values, 99), len(values))
    acc.latency = lat
    return acc


def mux_baseline(lab, keys_dir, n=100):
    """Idle figures over one ControlMaster connection each: the gate's own cost per command
    without the SSH handshake (teams:whoami through the gate vs the /bin/true key)."""
    out = {}
    for label, user, login in (("gate", "alice", "ci"), ("true", kit.TRUE_USER, kit.TRUE_USER)):
        d = tempfile.mkdtemp(prefix="loadmux-")
        path = os.path.join(d, "cm")
        base = kit.labctl.ssh_argv(lab, user=login, key=os.path.join(keys_dir, user),
                                   options=("ControlMaster=auto", "ControlPath=%s" % path, "ControlPersist=30"))
        try:
            subprocess.run(base + ["--", "teams:whoami"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                           check=False)
            times = []
            for _sample in range(n):
                t0 = time.monotonic()
                p = subprocess.run(base + ["--", "teams:whoami"], stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=60, check=False)
                times.append((time.monotonic() - t0) * 1000.0)
                if p.returncode != 0:
                    raise kit.Failed("mux %s: exit %d %s" % (label, p.returncode, p.stderr))
            out[label] = times
        finally:
            subprocess.run(base[:-1] + ["-O", "exit", base[-1]], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30, check=False)
            shutil.rmtree(d, ignore_errors=True)
    return out
