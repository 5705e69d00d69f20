"""git:load-image against the real Docker engine, through the gate, over SSH (issue 17 item 1).

A user granted git:load-image on their own app (deploy-bot on `liweb`) pushes archives built to
be read differently by different tar and JSON readers (tests/unit/tarcraft.py), and archives
with a big member first, refused while `docker load` is already reading the gate's stream
(at the name check at the end, or in the middle). The gate must refuse each one, and `docker image ls`/`inspect` in the engine must show that no other app's tag
(`dokku/liother:v1`) and no base image (`li-lab/herokuish:latest`) moved. As a control, the same
archives fed straight to `docker load` do move a tag: they are real attacks on this engine. A
plain `docker save` of dokku/liweb:v1 still loads through the gate.

Needs root and the lab's Docker engine (labctl.require_docker(): a failure, never a skip).
Lab `li0` at index 50; every image name here starts with dokku/li or li-lab/ (the engine is
shared by every lab).
"""
import json
import os
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "load"))
sys.path.insert(0, os.path.join(REPO, "tests", "unit"))
import kit  # noqa: E402
import labctl  # noqa: E402
import tarcraft as T  # noqa: E402

LAB, INDEX = "li0", 50
OWN, OTHER, BASE, CONTROL = "dokku/liweb:v1", "dokku/liother:v1", "li-lab/herokuish:latest", "dokku/licontrol:v1"
USER = "deploy-bot"


def docker(*args, input=None, check=True):
    env = dict(os.environ, DOCKER_HOST="unix://" + labctl.DOCKER_SOCK)
    r = subprocess.run(["docker"] + list(args), input=input, capture_output=True, env=env, timeout=300,
                       check=False)
    if check and r.returncode != 0:
        raise AssertionError("docker %s -> %d: %s" % (" ".join(args), r.returncode, r.stderr.decode()[-2000:]))
    return r


def image_id(ref):
    r = docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return r.stdout.decode().strip() if r.returncode == 0 else None


def tiny_image(ref, content):
    """A one-file image made with docker import (no registry in the lab)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "f"), "w") as f:
            f.write(content)
        tar = subprocess.run(["tar", "-C", d, "-c", "f"], capture_output=True, check=True).stdout
    docker("import", "-", ref, input=tar)
    return image_id(ref)


def listing():
    """`docker image ls` of every name this test could touch: repository, tag, id."""
    out = docker("image", "ls", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.decode()
    return sorted(line for line in out.splitlines() if line.startswith(("dokku/li", "li-lab/")))


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root")
    try:
        labctl.require_docker()
    except labctl.DockerUnavailable as e:
        pytest.fail(str(e))
    try:
        lab = kit.fresh_lab(LAB, INDEX)
    except (labctl.LabError, kit.Failed) as e:
        pytest.fail("lab %s could not be started: %s" % (LAB, e))
    yield lab
    labctl.down(LAB)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return kit.make_keys(str(tmp_path_factory.mktemp("li-keys")))


@pytest.fixture(scope="module")
def converged(lab, keys, tmp_path_factory):
    inventory = kit.write_inventory(str(tmp_path_factory.mktemp("li-inv")), [lab])
    teams = kit.example_vars()["dokku_teams_teams"] + [
        {"name": "li-deploy", "owners": ["olivia"], "members": [USER], "commands": ["git:load-image"],
         "apps": ["liweb"]}]
    run = kit.converge(inventory, keys, extra_vars=kit.declared(keys, teams=teams))
    assert run.rc == 0, str(run)
    for app in ("liweb", "liother"):
        kit.root(lab, "dokku apps:create %s >/dev/null 2>&1 || dokku apps:exists %s" % (app, app))
    return lab


@pytest.fixture(scope="module")
def images():
    for ref in (OWN, OTHER, BASE, CONTROL):
        docker("rmi", "-f", ref, check=False)
    ids = {OTHER: tiny_image(OTHER, "other app\n"), BASE: tiny_image(BASE, "base image\n"),
           OWN: tiny_image(OWN, "own app %s\n" % os.urandom(8).hex())}
    saved = docker("save", OWN).stdout
    docker("rmi", OWN)
    yield ids, saved, T.Image.from_save(saved)
    for ref in (OWN, OTHER, BASE, CONTROL):
        docker("rmi", "-f", ref, check=False)


def push(lab, keys, archive):
    argv = kit.user_argv(lab, keys, USER) + ["--", "git:load-image liweb %s" % OWN]
    return subprocess.run(argv, input=archive, capture_output=True, timeout=300, check=False)


CASES = [(name, victim) for name in sorted(T.CRAFTED) for victim in (OTHER, BASE)]


@pytest.mark.parametrize("name,victim", CASES)
def test_crafted_archive_is_refused_and_moves_no_tag(converged, keys, images, name, victim):
    ids, unused, image = images
    archive = T.CRAFTED[name](image, OWN, victim)
    before = listing()
    assert image_id(OTHER) == ids[OTHER] and image_id(BASE) == ids[BASE]
    r = push(converged, keys, archive)
    assert r.returncode == 77, (name, r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith(b"!     ") and r.stderr.count(b"\n") == 1, r.stderr
    assert listing() == before
    assert image_id(OTHER) == ids[OTHER] and image_id(BASE) == ids[BASE] and image_id(OWN) is None


FILLER = 32 * 1024 * 1024  # far more than the gate's pipe holds: docker load is mid-stream


def _streamed_then(image, tags, after=b""):
    """A big member first (docker load reads it while the upload goes on), then ``after``, then
    the image naming ``tags``."""
    return (T.member("li-filler/blob", os.urandom(FILLER)) + after + image.members(tags) + T.EOF)


STREAMED = {
    # refused at the end, when the names are checked
    "names-another-image": lambda image, victim: _streamed_then(image, [OWN, victim]),
    # refused in the middle, right after the big member
    "hard-link-mid-stream": lambda image, victim: _streamed_then(
        image, [OWN], after=T.header("li-filler/link", flag=b"1", linkname="li-filler/blob")),
}


@pytest.mark.parametrize("name,victim", [(name, victim) for name in sorted(STREAMED) for victim in (OTHER, BASE)])
def test_refusal_while_docker_load_reads_the_stream_moves_no_tag(converged, keys, images, name, victim):
    """The gate streams to docker load as it reads; a refusal kills docker load before the
    stream ends, and the names only ever come last."""
    ids, unused, image = images
    before = listing()
    r = push(converged, keys, STREAMED[name](image, victim))
    assert r.returncode == 77, (name, r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith(b"!     ") and r.stderr.count(b"\n") == 1, r.stderr
    assert listing() == before
    assert image_id(OTHER) == ids[OTHER] and image_id(BASE) == ids[BASE] and image_id(OWN) is None
    # No docker client (nor the stand-in) is left in the lab waiting for the rest.
    left = kit.root(converged, "pgrep -a -x docker; pgrep -a -f 'dokku [g]it:load-image'; true").stdout
    assert left.strip() == "", left


@pytest.mark.parametrize("name", T.DOCKER_READS_OTHER)
def test_control_docker_load_alone_would_move_the_tag(images, name):
    """Without the gate, this engine reads each of these archives as naming CONTROL."""
    unused, unused_saved, image = images
    docker("rmi", "-f", CONTROL, check=False)
    try:
        docker("load", input=T.CRAFTED[name](image, OWN, CONTROL))
        assert image_id(CONTROL) is not None, name
    finally:
        docker("rmi", "-f", CONTROL, OWN, check=False)


def test_a_legitimate_docker_save_still_loads(converged, keys, images):
    ids, saved, unused = images
    before = [line for line in listing() if not line.startswith(OWN + " ")]
    r = push(converged, keys, saved)
    try:
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert image_id(OWN) == ids[OWN]
        assert [line for line in listing() if not line.startswith(OWN + " ")] == before
        audit = kit.jsonl(kit.root(converged, "tail -n 2 %s" % kit.AUDIT).stdout)
        assert [a["decision"] for a in audit] == ["allow", "allow"]
        assert "upload started" in audit[0]["reason"] and "image names: %s" % OWN in audit[1]["reason"]
    finally:
        docker("rmi", "-f", OWN, check=False)
    assert json.loads(docker("image", "inspect", OTHER).stdout)[0]["Id"] == ids[OTHER]
