"""Run by tests/lab/lab: build, start and stop the dokku_ci.teams lab.  `lab --help`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import labctl  # noqa: E402

sys.exit(labctl.main())
