# make demo  - set up, then run the main job on the embedded defaults
# make test  - set up, then run the test suite
# make setup - create .venv and install everything (quick when nothing changed)
# make study - the scaling study (configs/study.yaml; rerun to continue it)
# make docs  - the documentation site (mkdocs.yml, docs/) into site/, strictly

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
CONFIG ?= configs/quickstart.yaml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup system-packages demo test study bench docs clean

setup: $(STAMP)

# Installs exactly the lock files (every package, transitive ones too, pinned with
# hashes; see DEVELOPERS.md for how to update them) and removes anything else, then the
# project itself. Reruns only when a lock, pyproject.toml or this file changes. Bytecode is compiled
# here, as pip does and uv does not by default: where PYTHONDONTWRITEBYTECODE is set (our
# machines set it) every process, each Ray worker included, would otherwise compile torch,
# Ray and transformers from source at every import (about 8 s of each process's start).
$(STAMP): Makefile pyproject.toml requirements.lock requirements-nodeps.lock
	@command -v espeak-ng >/dev/null && test -f $(SOUNDFONT) && ldconfig -p | grep -q libfluidsynth \
	  || $(MAKE) --no-print-directory system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/{p=1} p&&/^ *#/{exit} p' requirements.lock > $(VENV)/uv-requirement.txt
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(VENV)/uv-requirement.txt
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes --compile-bytecode requirements.lock requirements-nodeps.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q -j 0 audiorouter >/dev/null
	$(PY) -m audiorouter.tool_execution.numba_cache --ensure || echo "numba warm-up failed: each tool process will compile for itself (slower)"
	touch $(STAMP)

# Debian packages: the speech families need espeak-ng, the study's real-instruments split
# FluidSynth's library and the General MIDI SoundFont. Installed when we are root with
# apt; otherwise what needs them is skipped with a message, never an error.
SYSTEM_PACKAGES := espeak-ng libfluidsynth3 fluid-soundfont-gm
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && \
	    apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null 2>&1; } || \
	  echo "could not install $(SYSTEM_PACKAGES): speech families and the real-instruments split will be skipped"; \
	else echo "not root: if $(SYSTEM_PACKAGES) are missing, speech families and the real-instruments split are skipped"; fi

demo: setup
	$(VENV)/bin/audiorouter --config $(CONFIG) train

test: setup
	$(VENV)/bin/ruff check audiorouter tests benchmarks ray_jobs
	$(VENV)/bin/lint-imports  # the layers and no import cycles (pyproject.toml)
	$(VENV)/bin/vulture  # no unused code (pyproject.toml, vulture_whitelist.py)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict  # a broken link or anchor, or a page outside the nav, fails (not --quiet: it hides the warnings strict counts)
	$(PY) -X faulthandler -m pytest -q  # faulthandler stays on through interpreter exit: a native crash there prints every thread's stack

study: setup
	$(VENV)/bin/audiorouter --config configs/study.yaml study

bench: setup
	$(PY) benchmarks/bench_synth.py

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) data/perception .pytest_cache
