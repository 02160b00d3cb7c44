# The two commands of the README:
#   make smoke   set up (first time) and run the whole smoke-scale DAG, then the report and the audit
#   make test    set up (first time) and run the test suite (what .ci/run runs)
SHELL := /bin/bash
VENV := .venv/bin
CORES ?= all
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup smoke test report audit paper-dry-run lint smoke-benchmark medium medium-benchmark api-doc readme clean-smoke

setup:
	@bash scripts/setup.sh

smoke: setup
	@start=$$(date +%s); \
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/snakemake --cores $(CORES) && \
	PATH=$(CURDIR)/$(VENV):$$PATH PYTHONWARNINGS=ignore::RuntimeWarning $(VENV)/snakemake --report report.html && \
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python -m toeplitznet.cli audit --scale smoke > results/smoke/audit.txt; rc=$$?; \
	tail -n 3 results/smoke/audit.txt 2>/dev/null; \
	echo "smoke DAG wall time: $$(( $$(date +%s) - start )) s (report: report.html, tables: paper_tables/smoke/, figures: figures/smoke/)"; \
	exit $$rc

# 2 pytest-xdist workers (CI has 2 cores); tests sharing an expensive fixture stay on one worker (tests/conftest.py).
# Serially: make test TEST_WORKERS=0 (plain `pytest` runs serially too).
TEST_WORKERS ?= 2
test: setup
	$(VENV)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

report: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/snakemake --report report.html

audit: setup
	$(VENV)/python -m toeplitznet.cli audit --scale smoke

paper-dry-run: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/snakemake -n --profile profiles/paper

lint: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/snakemake --lint

# Wall time of the whole smoke DAG from scratch on this machine (acceptance: within 15 minutes on 2 cores).
smoke-benchmark: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python -m toeplitznet.report.walltime --cores 2

# The claims check at the medium scale (docs/claims.md): about two hours on 2 CPU cores; resumable
medium: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/snakemake --profile profiles/medium --cores $(CORES) && \
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python -m toeplitznet.cli audit --scale medium > results/medium/audit.txt; \
	rc=$$?; tail -n 3 results/medium/audit.txt; exit $$rc

# Wall time of the whole medium DAG from scratch (goal: about 2 hours on 2 cores)
medium-benchmark: setup
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python -m toeplitznet.report.walltime --cores 2 --configfile config/medium.yaml

# docs/api.md from the library's __all__ (a test fails when it is stale)
api-doc: setup
	$(VENV)/python -m toeplitznet.report.apidoc > docs/api.md

# the README's item table from the item registry (a test fails when it is stale)
readme: setup
	$(VENV)/python -c "import pathlib; from toeplitznet.registry import update_readme; p = pathlib.Path('README.md'); p.write_text(update_readme(p.read_text()))"

clean-smoke:
	rm -rf results/smoke figures/smoke paper_tables/smoke logs/smoke report.html
