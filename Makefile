# The two commands a newcomer needs: `make demo` and `make test` (both install what they need).
# Python tools run from the checkout's .venv (scripts/deps makes it), never a system one.
VENV := .venv/bin
.PHONY: demo test test-unit test-integration sanity bench deps lab-down

deps:
	scripts/deps

demo: deps
	scripts/demo

test: deps
	scripts/test

test-unit: deps
	$(VENV)/python3 -m pytest -q -p no:cacheprovider tests/unit

sanity: deps
	scripts/sanity

# Benchmarks print their figures (the lab ones start their own lab hosts).
bench: deps
	bench/gate
	$(VENV)/python3 bench/store.py
	bench/converge
	bench/load
	bench/fleet
	bench/fuzz --minutes 10

lab-down:
	tests/lab/lab down --all
