"""One converged lab for the load, writer and fault proofs (the fleet test has its own).

The lab `loadtest` (10.200.41.2) is booted fresh, converged once with playbooks/site.yml and
the example inventory (keys from examples/make-keys), shared by the tests of this directory
and taken down at the end. Needs root; a lab that cannot start is a failure, never a skip.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kit  # noqa: E402

LAB_NAME, LAB_INDEX = "loadtest", 41


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("load")


@pytest.fixture(scope="session")
def keys(work):
    return kit.make_keys(str(work / "keys"))


@pytest.fixture(scope="session")
def lab():
    try:
        lab = kit.fresh_lab(LAB_NAME, LAB_INDEX)
    except (kit.labctl.LabError, kit.Failed) as e:
        pytest.fail("the lab could not be built or started: %s" % e)
    yield lab
    kit.labctl.down(LAB_NAME)


@pytest.fixture(scope="session")
def inventory(lab, work):
    return kit.write_inventory(str(work / "inventory"), [lab])


@pytest.fixture(scope="session")
def converged(lab, inventory, keys):
    r = kit.converge(inventory, keys)
    assert r.rc == 0, "the first converge failed:\n%s" % r
    print("converge: %.1f s" % r.seconds)
    return lab
