# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PORT ?= 8080
SIM_PORT ?=
STATE_DIR ?= .device
# NETWORK=host: real sockets and DNS (the device's Network settings) instead of the simulated network.
NETWORK ?=
NPM_STAMP := node_modules/.installed-stamp
UI_STAMP := remote-ui/dist/index.html
SIM_UI_STAMP := device-sim/dist/.built
# What the pages are built from: their own folders, the shared shapes of the simulator's APIs, and
# the firmware (the API types re-export the domain's terms; defaults, roles and the menu are read too).
UI_SOURCES := $(shell find remote-ui/src remote-ui/index.html remote-ui/vite.config.ts remote-ui/trim-lit-literals.ts device-sim/vite.config.ts device-sim/control device-sim/panel/page device-sim/mailbox/page device-sim/cloud/mailbox-types.ts firmware -type f 2>/dev/null)
CHROMIUM := /usr/bin/chromium
APT_PACKAGES := chromium

.PHONY: run test check bench reset deps system-deps ui unit integration e2e

## Boot the simulated printer with its Remote UI, panel and simulator control (NETWORK=host: on real servers).
run: deps ui
	npx tsx device-sim/main.ts --port $(PORT) $(if $(SIM_PORT),--sim-port $(SIM_PORT)) --state-dir $(STATE_DIR) $(if $(NETWORK),--network $(NETWORK))

## Everything: install what is missing, type-check, then unit, integration and browser tests.
test: deps system-deps ui check
	npx vitest run --reporter=default --reporter=json --outputFile.json=test/artifacts/vitest.json
	@node test/summary.mjs test/artifacts/vitest.json

## Type checks (the firmware's own config has no Node types), lint, and the dependency rules.
check: deps
	npx tsc -p firmware/tsconfig.json
	npx tsc -p tsconfig.json
	npx tsc -p remote-ui/tsconfig.json
	npx oxlint --deny-warnings firmware device-sim remote-ui test
	npx vitest run test/unit/dependency-rules.test.ts

unit: deps
	npx vitest run test/unit
integration: deps
	npx vitest run test/integration
e2e: deps system-deps ui
	npx vitest run test/e2e

## Benchmarks: one `BENCH <name> <value> <unit>` line per figure.
bench: deps ui
	npx tsx test/bench/run.ts

## Factory state: forget NVRAM and the RTC of the device in STATE_DIR, and its device key in the
## key store (the default of device-sim/hal/file-key-store.ts; a fleet's devices each have their own).
## The emulated cloud's state is in STATE_DIR/cloud (root CAs, the Google client, identity-state.json:
## directories and grants), so removing STATE_DIR resets the cloud too: default directories, no grants.
reset:
	@keys="$${KEY_STORE_DIR:-$${XDG_STATE_HOME:-$$HOME/.local/state}/mfp-sim/secure-element}"; \
	for f in $$(find "$(STATE_DIR)" -name device-id 2>/dev/null); do \
	  id=$$(cat "$$f"); case "$$id" in ""|*[!0-9a-f]*) ;; *) rm -f -- "$$keys/$$id.key";; esac; \
	done
	rm -rf -- "$(STATE_DIR)"
	@echo "Device and cloud state in $(STATE_DIR) and the device key removed: the next boot is a factory boot against a fresh cloud."

deps: $(NPM_STAMP)
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## Debian packages the tests use (the machine starts without them; we are root):
## chromium for the browser tests, postfix and python3-aiosmtpd as independent SMTP peers.
system-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian packages: $(APT_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi
	@bash test/support/install-peers.sh

ui: $(UI_STAMP) $(SIM_UI_STAMP)
$(UI_STAMP): $(NPM_STAMP) $(UI_SOURCES)
	npx vite build --config remote-ui/vite.config.ts --logLevel warn
$(SIM_UI_STAMP): $(NPM_STAMP) $(UI_SOURCES)
	npx vite build --config device-sim/vite.config.ts --logLevel warn
	touch $@
