# Portal Empresa: `make run` serves the portal on demo data, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     := instance/portal.db
PORT   ?= 8501

.PHONY: run test venv test-deps chromium lint constraints seed clean nginx cluster worker

# Installs take the versions the tests last passed with (constraints.txt, `make constraints`).
$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

test-deps: $(VENV)/.test-installed

# Debian's Chromium drives the end-to-end tests (Playwright does not download a browser).
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null; \
	  else \
	    echo "chromium is missing: install Debian's package 'chromium' (sudo apt-get install chromium)"; \
	  fi; \
	fi

# Debian's nginx is the reverse proxy of `make cluster` (run in the foreground by
# deploy/cluster.py with its own configuration: the system's nginx is not touched).
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -q nginx || (apt-get update -q && apt-get install -y -q nginx)) >/dev/null; \
	  else \
	    echo "nginx is missing: install Debian's package 'nginx' (sudo apt-get install nginx)"; \
	  fi; \
	fi

# The production layout on one machine: nginx on PORT, REPLICAS portal processes on
# PORT+1.., WORKERS `portal-worker`s, over PostgreSQL (PORTAL_DATABASE_URL, created and
# seeded when empty) and Redis (PORTAL_QUEUE_URL). Ctrl-C stops it all.
cluster: PORT = 8700
REPLICAS ?= 2
WORKERS  ?= 1
cluster: $(VENV)/.installed nginx
	PORTAL_SHOW_OUTBOX=$${PORTAL_SHOW_OUTBOX:-true} $(BIN)/python deploy/cluster.py \
	  --port $(PORT) --replicas $(REPLICAS) --workers $(WORKERS)

# A task-queue worker for the distributed layout (PORTAL_QUEUE_URL=redis://...); `make run`
# needs none (its queue is embedded).
worker: $(VENV)/.installed
	$(BIN)/portal-worker

# Links in e-mails point at the port served (`make run PORT=8620`: the app reads its own
# port) unless PORTAL_BASE_URL (environment or .env) says otherwise; the demo's seeded
# e-mails too (`--port`: the database is seeded by the first `make run`).
$(DB): | $(VENV)/.installed
	$(BIN)/portal-seed --database-url sqlite:///$(abspath $(DB)) --port $(PORT)

seed: $(VENV)/.installed
	$(BIN)/portal-seed --database-url sqlite:///$(abspath $(DB)) --port $(PORT) --reset

run: $(VENV)/.installed $(DB)
	PORTAL_SHOW_OUTBOX=true $(BIN)/python -m components.serve \
	  --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# mypy, vulture and import-linter read their settings from pyproject.toml.
lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture

# Tests never modify the repository: in a git checkout, the tracked files (and the list of
# untracked ones) must be the same after the run as before it.
TREE_STATE = if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git status --porcelain --untracked-files=all; git diff HEAD --binary | cksum; fi

# Two processes on CI's two cores; tests/conftest.py keeps the end-to-end tests together in one.
TEST_PROCESSES ?= 2

test: test-deps chromium nginx lint
	@before=$$($(TREE_STATE)); \
	$(BIN)/pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; status=1; fi; \
	after=$$($(TREE_STATE)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "the tests changed the repository's files (git status now):" >&2; \
	  git status --short >&2; status=1; \
	fi; \
	exit $$status

# The exact versions of this environment, once the tests pass with them: commit the file.
# No index URLs, no editable install, not the project itself.
constraints:
	{ echo "# pip install -c constraints.txt -e '.[test]': the versions the tests passed with."; \
	  echo "# Refresh with \`make constraints\` after \`make test\` passes."; \
	  $(BIN)/python -m pip freeze --exclude-editable \
	    | grep -v -i -e '^-' -e '^portal-empresa[= @]' -e ' @ file:' | LC_ALL=C sort -f; \
	} > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) instance/*.db* *.egg-info
