# Two commands on a fresh machine: `make run` (install + start) and `make test` (install + test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HTMX_VERSION := 2.0.11
HTMX := static/vendor/htmx.min.js
NORMALIZE_VERSION := 3.0.1
AXE_VERSION := 4.14.1
# Front-end files from npm, pinned; axe-core is only injected into Chromium by the e2e tests.
VENDOR_STAMP := static/vendor/.npm-$(HTMX_VERSION)-$(NORMALIZE_VERSION)-$(AXE_VERSION)
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

.PHONY: install run test system-deps lint clean chaos

install: $(STAMP) $(VENDOR_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# htmx (pinned to 2.0.x), modern-normalize and axe-core are installed from npm at set-up in one
# npm call (a later call would prune the others), never committed.
$(VENDOR_STAMP):
	mkdir -p build/npm static/vendor
	npm install --silent --no-audit --no-fund --no-save --prefix build/npm htmx.org@$(HTMX_VERSION) \
	  modern-normalize@$(NORMALIZE_VERSION) axe-core@$(AXE_VERSION)
	cp build/npm/node_modules/htmx.org/dist/htmx.min.js $(HTMX)
	cp build/npm/node_modules/modern-normalize/modern-normalize.css static/vendor/modern-normalize.css
	cp build/npm/node_modules/axe-core/axe.min.js build/axe.min.js
	rm -f static/vendor/.npm-*
	touch $(VENDOR_STAMP)

# Debian's Chromium (Playwright cannot download browsers here), pdftotext for PDF checks and
# fonts for invoice PDFs: DejaVu (Latin, Greek, Cyrillic, Arabic, Hebrew; the adapter falls back
# to reportlab's Vera without it), Noto Devanagari (fonts-noto-core), Droid Sans Fallback (CJK)
# and Symbola (monochrome emoji and symbols).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -f /usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf ] || missing="$$missing fonts-noto-core"; \
	[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing="$$missing fonts-droid-fallback"; \
	[ -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] || missing="$$missing fonts-symbola"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: not root, cannot install$$missing; end-to-end tests will be skipped"; fi; \
	fi

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run-embedded

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The chaos run (bench/chaos.py, README "Reliability"): PostgreSQL + Redis, about 10 minutes.
# CHAOS_ARGS="--seconds 60 --kills 10" for a short one; DATABASE_URL / CHAOS_REDIS_URL to point it.
CHAOS_ARGS ?=
chaos: install
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

lint: install
	$(BIN)/ruff check app stripe_sim tests bench

clean:
	rm -rf $(VENV) build static/vendor .pytest_cache
