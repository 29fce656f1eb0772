# osmstub: the OSM ticket-association contract, its Go client and its stub server.
# `make help` lists the targets.

GO        ?= go
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 10s
BENCHTIME ?= 1000x
BIN       := bin/osm-stub

.DEFAULT_GOAL := help
.PHONY: help generate build run test vet test-go test-interop fuzz-short lint check-generated

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate gen/ from openapi.yaml and server/control.openapi.yaml
	$(GO) generate ./gen/...

build: ## build the stub binary into bin/
	$(GO) build -o $(BIN) ./cmd/osm-stub

run: ## run the stub on its built-in demo data (ADDR=127.0.0.1:8080)
	$(GO) run ./cmd/osm-stub -addr $(ADDR)

test: vet check-generated check-web-assets lint test-go fuzz-short test-interop test-browser ## everything CI runs

.PHONY: bench
bench: ## Go benchmarks, then stub vs floor vs Prism under wrk on loopback -> bench/results.md (BENCHMARKS.md)
	GO=$(GO) bash bench/bench.sh

.PHONY: bench-store
bench-store: ## store benchmarks (memory, sqlite; postgres if OSM_STUB_TEST_POSTGRES is set), BENCHTIME=1000x
	$(GO) test -run '^$$' -bench BenchmarkStore -benchtime $(BENCHTIME) ./server/store/storeopen

vet: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test-go: ## unit, contract and integration tests with the race detector
	$(GO) test -race -count=1 ./...

fuzz-short: ## a short run of every fuzz target (FUZZTIME=10s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; \
	done

test-interop: ## the official Huawei Cloud Go SDK against the stub (nested module)
	@if [ -f interop/go.mod ]; then cd interop && $(GO) vet ./... && $(GO) test -race -count=1 ./...; \
	  else echo "interop/ not present yet"; fi

check-generated: ## regenerate and fail if gen/ changed
	$(MAKE) --no-print-directory generate
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is out of date or was edited by hand: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- gen/)" || { echo "untracked files in gen/"; exit 1; }

lint: ## Spectral and Redocly on openapi.yaml and server/control.openapi.yaml, zero findings
	@command -v npm >/dev/null 2>&1 || { echo "lint needs Node.js (>= 20.19) and npm"; exit 1; }
	@stamp=lint/node_modules/.osmstub-installed; \
	  if [ ! -f $$stamp ] || [ lint/package.json -nt $$stamp ] || [ lint/package-lock.json -nt $$stamp ]; then \
	    echo "npm ci --prefix lint"; \
	    SCARF_ANALYTICS=false npm ci --prefix lint --ignore-scripts --no-audit --no-fund --no-update-notifier && touch $$stamp; \
	  fi
	lint/node_modules/.bin/spectral lint -F warn --ruleset lint/.spectral.yaml openapi.yaml server/control.openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true \
	  lint/node_modules/.bin/redocly lint --extends recommended-strict openapi.yaml server/control.openapi.yaml

# The API page's Swagger UI and the browser tests (web/, server/webui/).
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE
WEB_STAMP        := web/node_modules/.osmstub-installed
.PHONY: web-assets check-web-assets test-browser

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "web/ needs Node.js (>= 20.19) and npm"; exit 1; }
	SCARF_ANALYTICS=false npm ci --prefix web --ignore-scripts --no-audit --no-fund --no-update-notifier
	@touch $@

web-assets: $(WEB_STAMP) ## copy the pinned Swagger UI (web/package.json) into server/webui/swagger-ui
	rm -rf server/webui/swagger-ui && mkdir -p server/webui/swagger-ui
	cd web/node_modules/swagger-ui-dist && cp $(SWAGGER_UI_FILES) ../../../server/webui/swagger-ui/
	node -p 'require("./web/node_modules/swagger-ui-dist/package.json").version' > server/webui/swagger-ui/VERSION

check-web-assets: ## copy Swagger UI again and fail if server/webui/swagger-ui changed
	$(MAKE) --no-print-directory web-assets
	@git diff --exit-code --stat -- server/webui/swagger-ui/ || { echo "server/webui/swagger-ui is out of date or was edited by hand: run 'make web-assets' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- server/webui/swagger-ui/)" || { echo "untracked files in server/webui/swagger-ui/: run 'make web-assets' and commit"; exit 1; }

test-browser: build $(WEB_STAMP) ## /docs and /_stub/ui in headless Chromium (CHROMIUM=/usr/bin/chromium); screenshots in web/test-output/
	OSM_STUB_BIN=$(CURDIR)/$(BIN) node --test --test-timeout=120000 web/browser.test.mjs
