# The two commands a newcomer needs: `make demo` and `make test` (both install what they need).
.PHONY: demo test test-unit test-integration sanity bench deps lab-down

deps:
	scripts/deps

demo: deps
	scripts/demo

test: deps
	scripts/test

test-unit: deps
	python3 -m pytest -q tests/unit

sanity: deps
	scripts/sanity

# Benchmarks print their figures (the lab ones start their own lab hosts).
bench: deps
	bench/gate
	python3 bench/store.py
	bench/converge
	bench/load
	bench/fleet
	bench/fuzz --minutes 10

lab-down:
	tests/lab/lab down --all
