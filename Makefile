# reelguard — the two set-up commands are `make run` and `make test`; both work on a
# fresh machine (they create the virtualenv, build the player assets, fetch test media
# and install the Debian packages the tests need).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .make
STATIC := src/reelguard/web/static
PLAYER_JS := $(STATIC)/shaka-player.compiled.js
SWAGGER_UI := $(STATIC)/swagger-ui-bundle.js $(STATIC)/swagger-ui.css
APT_PACKAGES := chromium fonts-liberation opentracker

.PHONY: run test setup player media system-deps lint typecheck bench bench-watermark bench-fingerprint bench-monitor bench-act clean

run: setup
	$(BIN)/reelguard demo

# Three stages, each well under 15 minutes: the quick tests first, then those marked slow
# (real media, accuracy and scale trials), the traces of attacked copies apart from the rest.
# All always run; a stage that collects nothing is fine, a run that collects nothing at all
# fails (pytest's exit code 5 must not pass silently).
test: setup system-deps
	@status=0; ran=0; \
	for stage in "not slow" "slow and not trace" "slow and trace"; do \
		echo "== make test: tests marked '$$stage'"; \
		$(BIN)/pytest -m "$$stage" $(PYTEST_ARGS); code=$$?; \
		if [ $$code -eq 0 ]; then ran=1; elif [ $$code -ne 5 ]; then status=$$code; fi; \
	done; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	if [ $$ran -eq 0 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi

setup: $(STAMPS)/venv player media

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Front-end assets from npm (install scripts off: swagger-ui-dist's telemetry dependency
# would try the network): Shaka Player for the demo page, Swagger UI for /api/docs offline.
player: $(PLAYER_JS) $(SWAGGER_UI)

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(PLAYER_JS): $(STAMPS)/npm
	mkdir -p $(dir $@)
	cp node_modules/shaka-player/dist/shaka-player.compiled.js $@

$(SWAGGER_UI): $(STAMPS)/npm
	mkdir -p $(dir $@)
	cp node_modules/swagger-ui-dist/$(notdir $@) $@

media: $(STAMPS)/venv
	$(BIN)/python scripts/fetch_test_media.py media

# Debian packages for the browser and swarm tests (opentracker: the loopback tracker); skipped when present.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v opentracker >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
		systemctl disable --now opentracker >/dev/null 2>&1 || true; \
	fi

lint: $(STAMPS)/venv
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

bench: setup
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/packaging_overhead.py
	$(BIN)/python benchmarks/license_throughput.py
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/access_log.py

# The forensic watermark benchmarks: strength against quality and robustness (about 15
# minutes), what a strong re-encode keeps of a segment boundary's change (about 10), the
# attack suite on a 10-minute programme (3 hours or more on 2 cores), then robustness on
# content classes the detector was not tuned on, with attack chains, mirrored copies and
# coalitions (hours per class; give each --work DIR and a stopped run resumes there).
bench-watermark: setup
	$(BIN)/python benchmarks/watermark_strength.py
	$(BIN)/python benchmarks/watermark_boundary.py --marks luma,shift,field
	$(BIN)/python benchmarks/watermark_trace.py
	$(BIN)/python benchmarks/watermark_robustness.py

# Content recognition: the VSC22-style copy-detection suite (about 40 minutes to render once,
# 10 to identify), then extraction speed and index scaling to 1,000 hours (about 20 minutes
# and 12 GB of memory). Both resume in their work folders.
bench-fingerprint: setup
	$(BIN)/python benchmarks/copy_detection.py
	$(BIN)/python benchmarks/fingerprint_scale.py

# Monitoring: release names against the labelled corpus's evaluation half (about a minute).
bench-monitor: setup
	$(BIN)/python benchmarks/release_matching.py
	$(BIN)/python benchmarks/sighting_ingestion.py
	$(BIN)/python benchmarks/swarm_proof.py
	$(BIN)/python benchmarks/monitor_loop.py

# Acting on leaks: the evidence log (appends, checkpoints, proofs to 10^7 leaves, bundle
# verification; about 10 minutes), then case transitions, notice delivery and the sweep.
bench-act: setup
	$(BIN)/python benchmarks/evidence_log.py
	$(BIN)/python benchmarks/act.py

clean:
	rm -rf $(STAMPS) $(PLAYER_JS) $(SWAGGER_UI) .reelguard
