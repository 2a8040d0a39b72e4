# make demo  - set up, then run the main job on the embedded defaults
# make test  - set up, then run the test suite
# make setup - create .venv and install everything (quick when nothing changed)
# make study - the scaling study (configs/study.yaml; rerun to continue it)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
CONFIG ?= configs/quickstart.yaml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup speech-synth demo test study bench clean

setup: $(STAMP)

# Installs exactly the lock files (every package, transitive ones too, pinned with
# hashes; see DEVELOPERS.md for how to update them) and removes anything else, then the
# project itself. Reruns only when a lock or pyproject.toml changes.
$(STAMP): pyproject.toml requirements.lock requirements-nodeps.lock
	@command -v espeak-ng >/dev/null || $(MAKE) --no-print-directory speech-synth
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/{p=1} p&&/^ *#/{exit} p' requirements.lock > $(VENV)/uv-requirement.txt
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(VENV)/uv-requirement.txt
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes requirements.lock requirements-nodeps.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) -m audiorouter.tools.numba_cache --ensure || echo "numba warm-up failed: each tool process will compile for itself (slower)"
	touch $(STAMP)

# The speech families need espeak-ng (a Debian package). Installed when we are root
# with apt; otherwise those families are skipped with a message, never an error.
speech-synth:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q espeak-ng >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q espeak-ng >/dev/null 2>&1; } || \
	  echo "could not install espeak-ng: speech families will be skipped"; \
	else echo "espeak-ng missing and not root: speech families will be skipped"; fi

demo: setup
	$(VENV)/bin/audiorouter --config $(CONFIG) train

test: setup
	$(VENV)/bin/ruff check audiorouter tests benchmarks ray_jobs
	$(VENV)/bin/lint-imports  # the layers and no import cycles (pyproject.toml)
	$(VENV)/bin/vulture  # no unused code (pyproject.toml, vulture_whitelist.py)
	$(PY) -m pytest -q

study: setup
	$(VENV)/bin/audiorouter --config configs/study.yaml study

bench: setup
	$(PY) benchmarks/bench_synth.py

clean:
	rm -rf $(VENV) data/perception .pytest_cache
