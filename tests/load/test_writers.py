"""Concurrent writers on a live host: Ansible converging a small change loop, an owner changing
membership over SSH (teams:member-add/remove through the gate) and root using dokku-teams, all
at the same time, while gate calls and `dokku-teams doctor` probe the host.

- every change lands and none is lost (the final policy is exactly what the three writers'
  own sequences of successful changes say);
- the gate never sees a partial state: no probe call ever exits 75, and doctor (run in a loop
  on the host) never reports a problem.

Ansible's runs are site.yml with `--tags dokku_teams_policy`: on a host converged before
(conftest.py), the policy tasks are what writes the state in a run; the other tasks would find
everything in place and only lengthen the run, not the part where the writers meet.

Each writer owns its own part of the policy, as the role's contract requires (what inventory
declares is what the host has): Ansible the team `churn` (its apps change every run);
olivia the members of the teams `sq-N` (declared with owners, commands and apps but without
`members`, which the module then leaves as they are); root the apps of `rootteam` (declared
without `apps`).
"""
import re
import threading

import kit

ROUNDS = 2          # Ansible runs in the change loop
POLICY_ONLY = ("--tags", "dokku_teams_policy")
SQUADS = 6
PROBE_SECONDS_MAX = 240


def declaration(keys, churn_app):
    d = kit.declared(keys)
    teams = list(d["dokku_teams_teams"])
    teams.append({"name": "churn", "owners": ["oscar"], "members": ["oscar"], "commands": ["apps:report"],
                  "apps": [churn_app]})
    for i in range(1, SQUADS + 1):
        teams.append({"name": "sq-%d" % i, "owners": ["olivia"], "commands": ["config:get"], "apps": ["web"]})
    teams.append({"name": "rootteam", "owners": ["oscar"], "commands": ["ps:report"]})
    d["dokku_teams_teams"] = teams
    return d


class Writers(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.errors = []
        self.stop = threading.Event()
        self.counts = {}

    def error(self, text):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(text)

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n


def owner_loop(lab, keys, w, members):
    """olivia over SSH: bob joins every squad once; alice joins and leaves them in turn."""
    ops = []
    for i in range(1, SQUADS + 1):
        ops.append(("member-add", "sq-%d" % i, "bob"))
    n = 0
    while not w.stop.is_set() and n < 400:
        if ops:
            verb, team, user = ops.pop(0)
        else:
            team = "sq-%d" % (n % SQUADS + 1)
            verb = "member-remove" if "alice" in members[team] else "member-add"
            user = "alice"
        n += 1
        r = kit.as_user(lab, keys, "olivia", "teams:%s %s %s" % (verb, team, user))
        budget = re.search(r"too many team changes from olivia; try again in (\d+) s", r.stderr)
        if r.returncode == 77 and budget:
            # an owner's writes are bounded (writebudget): wait as told, then the same change again
            w.count("owner waits")
            ops.insert(0, (verb, team, user))
            w.stop.wait(int(budget.group(1)))
            continue
        if r.returncode != 0:
            w.error("olivia teams:%s %s %s -> %d %s" % (verb, team, user, r.returncode, r.stderr.strip()))
            continue
        if verb == "member-add":
            members[team].add(user)
        else:
            members[team].discard(user)
        w.count("owner changes")


def root_loop(lab, w, apps):
    n = 0
    while not w.stop.is_set() and n < 400:
        n += 1
        if n % 3 == 0 and apps:
            app = sorted(apps)[0]
            verb = "teams:app-remove"
        else:
            app = "ra-%d" % n
            verb = "teams:app-add"
        r = kit.root(lab, "dokku-teams %s rootteam %s" % (verb, app), check=False)
        if r.returncode != 0:
            w.error("root dokku-teams %s rootteam %s -> %d %s" % (verb, app, r.returncode, r.stderr.strip()))
            continue
        if verb == "teams:app-add":
            apps.add(app)
        else:
            apps.discard(app)
        w.count("root changes")


def gate_probe(lab, keys, w):
    """Gate calls that must never see a partial state (never exit 75)."""
    n = 0
    while not w.stop.is_set() and n < 2000:
        n += 1
        for user, cmd, ok in (("alice", "config:get web LTW_%d" % n, (0,)),
                              ("bob", "config:get web LTW_%d" % n, (0, 77)),
                              ("oscar", "teams:whoami", (0,))):
            r = kit.as_user(lab, keys, user, cmd)
            w.count("gate probes")
            if r.returncode not in ok:
                w.error("probe %s %r -> %d %s" % (user, cmd, r.returncode, r.stderr.strip()))


def doctor_probe(lab, w, seconds, out):
    """dokku-teams doctor in a bounded loop on the host; every problem it prints is kept."""
    script = ("end=$(( $(date +%%s) + %d )); n=0; bad=0; "
              "while [ $(date +%%s) -lt $end ] && [ ! -e /run/lt-stop ]; do n=$((n+1)); "
              "if ! dokku-teams doctor >/tmp/lt-doctor.out 2>&1; then bad=$((bad+1)); "
              "sed 's/^/doctor: /' /tmp/lt-doctor.out | head -5; fi; done; echo runs=$n bad=$bad") % seconds
    r = kit.root(lab, "rm -f /run/lt-stop; " + script, check=False, timeout=seconds + 60)
    out.append(r.stdout)


DOCTOR = []


def test_concurrent_writers_lose_nothing(converged, inventory, keys):
    lab = converged
    kit.root(lab, "for a in web web-api billing; do dokku apps:exists $a >/dev/null 2>&1 || "
                  "dokku apps:create $a >/dev/null; done")
    r = kit.converge(inventory, keys, declaration(keys, "churn-0"), args=POLICY_ONLY)
    assert r.rc == 0, r
    w = Writers()
    members = {"sq-%d" % i: set() for i in range(1, SQUADS + 1)}
    apps = set()
    doctor_out = []
    threads = [threading.Thread(target=owner_loop, args=(lab, keys, w, members)),
               threading.Thread(target=root_loop, args=(lab, w, apps)),
               threading.Thread(target=gate_probe, args=(lab, keys, w)),
               threading.Thread(target=doctor_probe, args=(lab, w, PROBE_SECONDS_MAX, doctor_out))]
    for t in threads:
        t.start()
    runs = []
    try:
        for i in range(1, ROUNDS + 1):
            r = kit.converge(inventory, keys, declaration(keys, "churn-%d" % i), args=POLICY_ONLY)
            runs.append(r.seconds)
            if r.rc != 0:
                w.error("converge %d failed: %s" % (i, r))
    finally:
        w.stop.set()
        kit.root(lab, "touch /run/lt-stop")
        for t in threads:
            t.join(timeout=PROBE_SECONDS_MAX + 60)
    print("converges: %s s; %s; %s" % (["%.1f" % s for s in runs], w.counts, doctor_out))
    assert not w.errors, "\n".join(w.errors)
    assert w.counts.get("owner changes", 0) >= SQUADS and w.counts.get("root changes", 0) >= 3, w.counts
    # the doctor loop ran (its findings are judged by the next test)
    assert doctor_out and "runs=0" not in doctor_out[0], doctor_out
    DOCTOR.extend(doctor_out)
    # every change landed, none lost
    policy = kit.export(lab)["teams"]
    assert policy["churn"]["apps"] == ["churn-%d" % ROUNDS]
    for team, expected in members.items():
        assert sorted(policy[team]["members"]) == sorted(expected), (team, policy[team], expected)
    assert sorted(policy["rootteam"]["apps"]) == sorted(apps), (policy["rootteam"], apps)
    assert kit.doctor(lab).returncode == 0
    # (the lab keeps this policy: this file runs last in tests/load, the fleet has its own labs)


def test_doctor_never_reports_a_problem_during_concurrent_writes():
    assert DOCTOR, "the writers test did not run"
    assert DOCTOR[0].strip().endswith("bad=0"), DOCTOR
