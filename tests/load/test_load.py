"""Load on a provisioned host (the short version of bench/load): 30 concurrent SSH sessions
from several users for 20 s — allowed, refused and malformed commands, concurrent git pushes
to different apps — then an exact account (tests/load/loadgen.py):

- every allowed command reached the Dokku stand-in exactly once, with the argv expected;
- no refused or malformed one reached it;
- the audit log gained exactly one well-formed line per decision, with the right decision;
- every push landed (one receive-pack each, the app's ref is the last commit pushed);
- no session error beyond sshd's MaxStartups drops before authentication (retried, counted).
"""
import loadgen

SESSIONS, SECONDS = 30, 20.0


def test_load_loses_nothing_and_runs_nothing_refused(converged, keys, record_property):
    lab = converged
    loadgen.prepare(lab, keys)
    result = loadgen.run(lab, keys, SESSIONS, SECONDS)
    acc = loadgen.verify(lab, result)
    for k, v in acc.figures.items():
        print("%s: %s" % (k, v))
        record_property(k, v)
    assert not acc.problems, "\n".join(acc.problems)
    kinds = {job.kind for job, rc, s, e in result.done}
    # the mix really happened: allowed, refused, malformed, pushes, both latency probes
    for kind in ("alice-config-set", "alice-foreign-app", "alice-malformed", "git-push", "whoami", "true"):
        assert kind in kinds, (kind, sorted(kinds))
    assert len(result.done) >= 60, "too few sessions answered: %d" % len(result.done)
