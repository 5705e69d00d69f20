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

bench: deps
	bench/gate
	python3 bench/store.py

lab-down:
	tests/lab/lab down --all
