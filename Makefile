# clientarea: developer and CI entry points. `make help` lists the targets.
#
# Everything here installs what it needs itself, from the locks in this repository:
# the only thing taken from the machine is a CPython 3.13 interpreter (pyenv's, else
# `python3.13` on PATH), the version of the Lambda runtime we deploy to.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON313 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3.13))
ifeq ($(PYTHON313),)
PYTHON313 := $(shell command -v python3.13 2>/dev/null)
endif
# Directory of the interpreter, put first on PATH for `sam build`: SAM (and the build
# Makefiles) use the first `python3.13` on PATH, and pyenv's shim may refuse it.
PYTHON313_BIN := $(patsubst %/,%,$(dir $(PYTHON313)))

VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
LOCKS := requirements/dev.txt layers/dependencies/requirements.txt
# checkov pins versions the dev lock cannot share: it gets a venv and a lock of its own.
WEB_STAMP := web/node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# boto3 as the Lambda runtime provides it (left out of the layer on purpose), for
# importing the built artifacts with python3.13 outside the venv: see bench/.
LAMBDA_RUNTIME := .aws-sam/lambda-runtime
RUNTIME_STAMP := $(LAMBDA_RUNTIME)/.installed

export SAM_CLI_TELEMETRY := 0
export PYTHON313
REGION ?= eu-central-1

ARGS ?=
STAFF_COMMANDS := create-staff set-staff-password disable-staff enable-staff list-staff
RUNTIME_PACKAGES := boto3 botocore s3transfer jmespath urllib3 python-dateutil six
LINT_PATHS := layers functions infra tests bench

.PHONY: help install dev openapi test lint check check-contract check-bandit check-checkov \
	check-audit check-asl check-template build bench lock clean python313 deploy \
	system-packages web web-test test-browser check-web-client check-client $(STAFF_COMMANDS) \
	catalogs messages

help:
	@echo "make install         .venv with python3.13 and requirements/dev.txt (idempotent)"
	@echo "make dev [ARGS=...]  local API on 127.0.0.1:3000, web client on 127.0.0.1:5173 (ARGS=\"--port 3001\")"
	@echo "make test            ruff, mypy --strict, the web and Python clients' checks, then the whole pytest suite"
	@echo "make check-client    generate a Python client from docs/openapi.json and type-check it"
	@echo "make web             build the reference web client into web/dist (npm ci first)"
	@echo "make openapi         regenerate docs/openapi.json (ARGS=--check: fail if stale or unlike API.md)"
	@echo "make messages        after changing words: re-extract messages.pot and update every .po"
	@echo "make catalogs        compile the .po catalogs to .mo (make install does it)"
	@echo "make check           contract (openapi vs API.md), bandit, checkov, pip-audit, ASL"
	@echo "make check-template  cfn-lint and sam validate --lint on template.yaml"
	@echo "make build           web/dist, sam build (no container) and a check of the artifacts"
	@echo "make deploy ENV=dev|prod  check samconfig.toml, sam build, sam deploy --config-env ENV"
	@echo "make bench [ARGS=..] cold starts, AWS calls and latency per route, sizes"
	@echo "make lock            recompile the locks (UPGRADE=1 to move to newest)"
	@echo "make clean           remove build output and caches (not .venv)"
	@echo "make create-staff ARGS=\"--email E --role support|admin --stack-name S\"  staff account in a deployed stack"
	@echo "make set-staff-password|disable-staff|enable-staff ARGS=\"LOGIN --stack-name S\"  (docs/operations.md)"
	@echo "make list-staff ARGS=\"--stack-name S\"  every staff account, role and status"

python313:
	@if [ -z "$(PYTHON313)" ] || ! "$(PYTHON313)" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then \
		echo "error: no CPython 3.13 found (looked in ~/.pyenv/versions/3.13.*/bin, then PATH)" >&2; \
		exit 1; \
	fi

# --- environment ------------------------------------------------------------------

$(VENV)/bin/python3.13:
	@$(MAKE) --no-print-directory python313
	rm -rf $(VENV)
	"$(PYTHON313)" -m venv $(VENV)

$(UV): | $(VENV)/bin/python3.13
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The venv's Powertools gets the layer's lazy package inits too, so that the tests and
# `make dev` run what Lambda runs (layers/dependencies/powertools_lazy_init.py).
LAZY_INIT := layers/dependencies/powertools_lazy_init.py

$(STAMP): $(LOCKS) $(LAZY_INIT) | $(UV)
	$(UV) pip install --python $(PY) -r requirements/dev.txt
	$(PY) $(LAZY_INIT) "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	touch $@

install: $(STAMP) catalogs system-packages $(WEB_STAMP)

# What the machine must have beyond Python: Node.js and npm (to build web/),
# Chromium (the browser tests drive Debian's /usr/bin/chromium) and a C compiler (the
# bench's bench/frame_stack_cache.c). Debian packages, and only when missing;
# Playwright's own browser download is never used.
system-packages:
	@missing=""; \
	command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		echo "installing from Debian:$$missing"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

# --- the reference web client (web/) -----------------------------------------------

WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/vite.config.ts web/tsconfig.json web/package.json
$(WEB_STAMP): web/package-lock.json | system-packages
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: $(WEB_SOURCES) $(WEB_STAMP)
	cd web && npm run --silent build

web: web/dist/index.html

# The client's own checks: types (tsc), unit tests (vitest), the generated API types current.
web-test: $(WEB_STAMP)
	cd web && npx tsc --noEmit && npx vitest run --reporter=dot

# What a client generator makes of docs/openapi.json: openapi-python-client generates a
# Python client (into a temporary folder, with its post-generation ruff from the venv),
# warnings failing, then mypy --strict checks it (infra/openapi-client*.{yaml,ini}).
check-client: install
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/openapi-python-client generate \
		--path docs/openapi.json --meta none --config infra/openapi-client.yaml \
		--output-path "$$tmp/clientarea_client" --fail-on-warning >"$$tmp/generate.log" 2>&1 || \
		{ cat "$$tmp/generate.log" >&2; exit 1; }; \
	cd "$$tmp" && "$(CURDIR)/$(VENV)/bin/mypy" --config-file "$(CURDIR)/infra/openapi-client-mypy.ini" \
		--cache-dir "$$tmp/.mypy_cache" clientarea_client
	@echo "the Python client generated from docs/openapi.json type-checks (mypy --strict)"

check-web-client: $(WEB_STAMP)
	cd web && npx openapi-typescript ../docs/openapi.json -o node_modules/.schema-check.d.ts --silent
	@cmp -s web/node_modules/.schema-check.d.ts web/src/api/schema.d.ts || \
		{ echo "web/src/api/schema.d.ts is stale: run make openapi" >&2; exit 1; }
	@echo "web/src/api/schema.d.ts matches docs/openapi.json"

# --- words (gettext catalogs; docs/translations.md) ----------------------------------
# The .po files are the source; the .mo files are compiled from them: here (what is
# missing or older than its .po) for the tests and the dev server, git ignoring them,
# and by the layer's Makefile for sam build.
I18N := layers/clientarea/clientarea/translations
PYBABEL := $(VENV)/bin/pybabel

catalogs: $(STAMP)
	@$(PY) -m infra.catalogs

# Extract every marked word (templates, errors, recovery texts) into messages.pot, then
# merge it into each catalog: new words arrive untranslated, changed ones fuzzy, and
# tests/unit/test_catalogs.py fails until a translator has done them all.
messages: $(STAMP)
	cd layers/clientarea && ../../$(PYBABEL) extract -F babel.cfg --add-location=file \
		--no-wrap --sort-by-file --project=clientarea --copyright-holder="" \
		--header-comment="# The words of clientarea to translate: extracted by make messages." \
		--msgid-bugs-address="" -o clientarea/translations/messages.pot .
	$(PYBABEL) update -i $(I18N)/messages.pot -d $(I18N) --no-wrap --ignore-obsolete
	@$(MAKE) --no-print-directory catalogs

$(CHECKOV_STAMP): requirements/checkov.txt | $(UV)
	@$(MAKE) --no-print-directory python313
	rm -rf $(CHECKOV_VENV)
	"$(PYTHON313)" -m venv --without-pip $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	touch $@

$(RUNTIME_STAMP): requirements/dev.txt | $(STAMP)
	@$(MAKE) --no-print-directory python313
	rm -rf $(LAMBDA_RUNTIME)
	$(UV) pip install --quiet --target $(LAMBDA_RUNTIME) --python-version 3.13 \
		--python-platform x86_64-manylinux_2_28 --no-deps \
		$$(for p in $(RUNTIME_PACKAGES); do grep -i "^$$p==" requirements/dev.txt; done)
	"$(PYTHON313)" -m compileall -q -j 0 --invalidation-mode unchecked-hash $(LAMBDA_RUNTIME)
	touch $@

# --- everyday targets -------------------------------------------------------------

# The layer folder is what Lambda mounts as /opt/python: put it on the path, as
# pyproject's pytest settings do for the tests.
dev: install web
	PYTHONPATH="$(CURDIR)/layers/clientarea$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m infra.local $(ARGS)

# docs/openapi.json from the functions' resolvers (ARGS=--check: fail if it is stale).
# ...and web/src/api/schema.d.ts from it (openapi-typescript): the web client's types.
openapi: install
	PYTHONPATH="$(CURDIR)/layers/clientarea$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m infra.openapi $(ARGS)
	@if [ -n "$(findstring --check,$(ARGS))" ]; then $(MAKE) --no-print-directory check-web-client; \
	else cd web && npx openapi-typescript ../docs/openapi.json -o src/api/schema.d.ts --silent; fi

# Staff accounts in a deployed stack (AWS credentials from the environment); see infra/ops.py.
# A password is typed twice (getpass) or read from stdin with --password-stdin, never argv.
$(STAFF_COMMANDS): install
	PYTHONPATH="$(CURDIR)/layers/clientarea$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m infra.ops $@ $(ARGS)

# samconfig.toml's ENV: refuse placeholders and missing values, build, deploy (prod shows
# the change set and asks), then say what the stack cannot do itself (infra/deploy.py).
ENV ?=
deploy: install $(RUNTIME_STAMP)
	@case "$(ENV)" in dev|prod) ;; *) echo "usage: make deploy ENV=dev|prod" >&2; exit 2 ;; esac
	$(PY) -m infra.deploy check $(ENV)
	@$(MAKE) --no-print-directory build
	$(VENV)/bin/sam deploy --config-env $(ENV) $(ARGS)
	$(PY) -m infra.deploy after $(ENV)

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy  # strict, on the layer and functions/ (pyproject.toml [tool.mypy])

# The schemathesis tests run apart, without xdist: their items share one node id per
# test function, which xdist's scheduler collapses into one (44 of 45 operations would
# silently not run), and they share one dev server.
# The browser suite runs apart too: one dev server and one Chromium for the whole run
# (tests/browser/conftest.py), its tests in one process.
test: lint web-test web check-client
	$(PY) -m pytest -n 2 -q --ignore=tests/contract --ignore=tests/browser
	$(PY) -m pytest -q -p no:xdist tests/contract
	$(PY) -m pytest -q -p no:xdist tests/browser

test-browser: install web
	$(PY) -m pytest -q -p no:xdist tests/browser $(ARGS)

# Hardening checks; any finding fails (`make -k check` to see every one). Each is also
# a target of its own: check-contract, check-bandit, check-checkov, check-audit, check-asl.
check: check-contract check-bandit check-checkov check-audit check-asl

# docs/openapi.json is fresh and agrees with ../shared/API.md (infra/api_contract.py).
check-contract: install
	PYTHONPATH="$(CURDIR)/layers/clientarea$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m infra.openapi --check
	@$(MAKE) --no-print-directory check-web-client

# Medium and high severity; a `# nosec BXXX` needs a reason beside it.
check-bandit: install
	$(VENV)/bin/bandit -q -r layers functions infra bench -ll
	@echo "bandit: no medium or high severity issue"

# Findings are fixed in template.yaml or skipped with a reason: in .checkov.yaml for a check
# no resource of a kind can pass by design, else on the resource (Metadata: checkov).
# --skip-download: checkov's guideline download needs a network we do not have.
check-checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml \
		--framework cloudformation --quiet --compact --skip-download

# Every pin of the three locks against the committed PyPA advisory snapshot (offline), then
# pip-audit on both locks when an advisory service answers (see the module).
check-audit: install
	$(PY) -m infra.dependency_audit

ASL_DEFINITIONS := $(wildcard infra/statemachines/*.asl.json)
check-asl: install
	$(VENV)/bin/statelint $(ASL_DEFINITIONS)
	@echo "statelint: $(words $(ASL_DEFINITIONS)) definition(s), no problems"

check-template: install
	AWS_DEFAULT_REGION=$(REGION) $(VENV)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=$(REGION) $(VENV)/bin/sam validate --lint --template-file template.yaml

build: install $(RUNTIME_STAMP) web
	@$(MAKE) --no-print-directory python313
	PATH="$(PYTHON313_BIN):$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build --parallel
	$(PY) bench/check_build.py

bench: install $(RUNTIME_STAMP) web
	$(PY) bench/run.py $(ARGS)

# --- locks ------------------------------------------------------------------------
# The same commands as in the locks' headers. uv keeps the current pins unless asked
# to move them (UPGRADE=1). The runtime lock leaves out what the Lambda runtime ships.

UPGRADE ?=
COMPILE := $(UV) pip compile --quiet $(if $(UPGRADE),--upgrade)
NO_EMIT := $(foreach p,botocore boto3 s3transfer jmespath urllib3 python-dateutil six,--no-emit-package $(p))

lock: | $(UV)
	@# The dev lock resolves runtime and tooling together; the runtime lock is then
	@# constrained by it, so the tests run exactly the versions Lambda gets.
	$(COMPILE) --python-version 3.13 requirements/dev.in -o requirements/dev.txt
	$(COMPILE) --python-version 3.13 --python-platform x86_64-manylinux_2_28 \
		-c requirements/dev.txt \
		layers/dependencies/requirements.in $(NO_EMIT) -o layers/dependencies/requirements.txt
	$(COMPILE) --python-version 3.13 requirements/checkov.in -o requirements/checkov.txt
	@for p in $$(grep -E '^[A-Za-z0-9_.-]+==' layers/dependencies/requirements.txt); do \
		grep -qix "$$p" requirements/dev.txt || \
			{ echo "error: runtime lock has $$p, dev lock has $$(grep -i "^$${p%%==*}==" requirements/dev.txt)"; exit 1; }; \
	done

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache .hypothesis web/dist
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
