# shadowqa: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LABELSTUDIO_STAMP := .cache/labelstudio/venv/.installed-by-make

.PHONY: demo test lint system bench sample models clean kafka-up kafka-down postgres-up postgres-down dashboards \
	screenshots

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "shadowqa needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# nuscenes-devkit (the 3D AP reference of the tests) declares numpy<2: installed without its declared
	# dependencies, whose needed part is in the test extras (pyproject.toml says why)
	$(BIN)/python -m pip install --quiet --no-deps 'nuscenes-devkit==1.2.0'
	@touch $@

## demo: the streaming pipeline end to end on the project's Kafka broker (started and stopped if not running):
## 4,000 rendered driving frames through the four workers and simulated annotators, live progress, a summary,
## reports/demo/report.html; everything it started is stopped at the end
demo: $(STAMP)
	$(BIN)/shadowqa pipeline run --frames 4000 --report reports/demo

## test: install what the tests need (Debian packages, Label Studio's venv and template: `make labelstudio`), lint,
## type-check and run the suite against the project's Kafka broker and PostgreSQL (SHADOWQA_TEST_DATABASE_URL):
## each started first unless it runs, stopped afterwards only if this run started it; pytest's status is kept.
## The tests outside tests/integration run on both cores (pytest-xdist, a file per worker at a time), then the
## integration tests alone; the first failing part's status is kept, and both parts always run.
## The slowest fault, scale and load tests (marker `faults`) are `make test-faults`; `.ci/run` runs both
KAFKA_STARTED := .cache/kafka/started-by-make-test
POSTGRES_STARTED := .cache/postgres/started-by-make-test
define run_suite
	scripts/helm.sh >/dev/null
	$(BIN)/shadowqa infra kafka up --started-file $(KAFKA_STARTED)
	url=$$($(BIN)/shadowqa infra postgres up --started-file $(POSTGRES_STARTED)) && \
	SHADOWQA_TEST_DATABASE_URL=$$url $(BIN)/python -m pytest $(1); status=$$?; \
	$(if $(2),[ -z "$$url" ] || { SHADOWQA_TEST_DATABASE_URL=$$url $(BIN)/python -m pytest $(2); part=$$?; \
	[ $$status -ne 0 ] || status=$$part; };) \
	if [ -f $(POSTGRES_STARTED) ]; then rm -f $(POSTGRES_STARTED); $(BIN)/shadowqa infra postgres down; fi; \
	if [ -f $(KAFKA_STARTED) ]; then rm -f $(KAFKA_STARTED); $(BIN)/shadowqa infra kafka down; fi; \
	exit $$status
endef

.PHONY: test-faults
test: $(STAMP) system lint $(LABELSTUDIO_STAMP)
	$(call run_suite,-m 'not faults' -n 2 --dist loadfile --ignore=tests/integration,-m 'not faults' tests/integration)
	@echo "(the fault, scale and load tests run with: make test-faults)"

## test-faults: the fault, scale and load tests alone (broker kill -9 and restart, PostgreSQL stopped under the API
## and persist, the API killed mid-submit, workers added and killed mid-run, an automation worker killed mid-clip, an
## aggregator restarted after retention, stalls, 20 annotators at once, a 1,000-task import under health probes),
## against the same services as `make test`; about 11 minutes here
test-faults: $(STAMP) system $(LABELSTUDIO_STAMP)
	$(call run_suite,-m faults)

## helm: build the helm binary the chart tests use into .cache/bin (from source through the Go module proxy; the
## first build takes about 2 minutes); `helm` is also a folder here, hence .PHONY
.PHONY: helm
helm:
	scripts/helm.sh

## kafka-up: start the project's Kafka broker (the first run fetches its jars with Maven) and create the topics
kafka-up: $(STAMP)
	$(BIN)/shadowqa infra kafka up
	$(BIN)/shadowqa infra topics create

## kafka-down: stop the project's Kafka broker
kafka-down: $(STAMP)
	$(BIN)/shadowqa infra kafka down

## postgres-up: start the project's PostgreSQL cluster (created on the first run; needs root) and print its URL
postgres-up: $(STAMP)
	$(BIN)/shadowqa infra postgres up

## postgres-down: stop the project's PostgreSQL cluster
postgres-down: $(STAMP)
	$(BIN)/shadowqa infra postgres down

## labelstudio: install Label Studio into its own virtualenv (.cache/labelstudio/venv, about 1 GB; 1.5-3 minutes the
## first time here) and set up the template data folder its servers start from; leaves no server running. `make test`
## needs it. Done once: a stamp in that venv; after services/infra/labelstudio_venv.py (the pin) changes, `install`
## runs again and reinstalls only for another version
.PHONY: labelstudio labelstudio-up labelstudio-down
labelstudio: $(LABELSTUDIO_STAMP)

$(LABELSTUDIO_STAMP): services/infra/labelstudio_venv.py | $(STAMP)
	$(BIN)/shadowqa infra labelstudio install
	@touch $@

## labelstudio-up: start the project's Label Studio on 127.0.0.1 (port 8080, or SHADOWQA_LABELSTUDIO_URL's) and print
## its URL; installs it first if needed
labelstudio-up: $(STAMP)
	$(BIN)/shadowqa infra labelstudio up

## labelstudio-down: stop the project's Label Studio
labelstudio-down: $(STAMP)
	$(BIN)/shadowqa infra labelstudio down

## system: Debian packages the tests use (headless Chromium for the report and browser tests, the PostgreSQL server,
## the Prometheus server the dashboard test scrapes the demo with, libusb for the open3d wheel the PCD tests read with)
system:
	scripts/system-packages.sh chromium:chromium 'postgresql:/usr/lib/postgresql/*/bin/postgres' prometheus:prometheus \
		'libusb-1.0-0:/usr/lib/*/libusb-1.0.so.0'

## dashboards: regenerate the Grafana dashboard JSON (dashboards/json/ and the Helm chart's copy) from dashboards/*.py
dashboards: $(STAMP)
	$(BIN)/python -m dashboards

## screenshots: the run reports' pictures README links (docs/img/report-*.jpg), from the report test's runs
screenshots: $(STAMP) system kafka-up
	SHADOWQA_SCREENSHOTS=docs/img $(BIN)/pytest -q tests/integration/test_run_reports.py

lint: $(STAMP)
	$(BIN)/ruff check analysis services streams dashboards tests benchmarks scripts
	$(BIN)/mypy
	PYTHONPATH=. $(BIN)/lint-imports --no-cache

## bench: run the benchmarks and rewrite BENCHMARKS.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## models: retrain the reference models (seeded, CPU, ~30-35 min with the 3D detector) and re-score them on held-out data
models: $(STAMP)
	$(BIN)/python scripts/train_models.py
	$(BIN)/python -m benchmarks models

## sample: regenerate the bundled sample in examples/sample
sample: $(STAMP)
	$(BIN)/python scripts/make_sample.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
