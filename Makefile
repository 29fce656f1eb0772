# osmstub: the OSM ticket-association contract, its Go client and its stub server.
# `make help` lists the targets.

GO        ?= go
ADDR      ?= 127.0.0.1:8080
# By count, not time: a -fuzztime deadline can end a run with "context
# deadline exceeded" on a loaded machine (a race in Go's fuzzing engine), and
# a count covers as much on a slow machine as on a fast one. 30000 runs of
# the slowest target (FuzzRequest, a whole request) take 12-35s on 2 cores.
FUZZTIME  ?= 30000x
FUZZMINIMIZE ?= 2000x
BENCHTIME ?= 1000x
BIN       := bin/osm-stub
# The version stamped into binaries and the image tag: git describe when
# there is a repository, else "dev" (the binary then reports the build info).
# Expanded once (:=), so that every target of one make run agrees.
ifeq ($(origin VERSION),undefined)
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
endif
LDFLAGS   := -X main.version=$(VERSION)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
IMAGE     ?= osmstub/osm-stub

.DEFAULT_GOAL := help
.PHONY: help generate build run test check vet test-go test-interop fuzz-short lint check-generated

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate gen/ from openapi.yaml and server/control/control.openapi.yaml
	$(GO) generate ./gen/...

build: ## build the stub binary into bin/
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/osm-stub

# exec: the stub replaces the recipe's shell, so that it is make's own child
# and stops with make: Ctrl-C reaches it, and make passes a SIGTERM (kill of
# make's PID) on to it. `go run` would leave the stub running as an orphan.
run: build ## build, then run the stub on its built-in demo data (ADDR=127.0.0.1:8080); Ctrl-C or kill stops it
	exec $(BIN) -addr $(ADDR)

test: vet check-generated check-web-assets lint test-go fuzz-short test-interop test-browser test-dist test-image ## everything CI runs

.PHONY: bench
bench: ## Go benchmarks, then stub vs floor vs WireMock vs Prism under wrk on loopback -> bench/results.md (BENCHMARKS.md)
	GO=$(GO) bash bench/bench.sh

.PHONY: bench-store
bench-store: ## store benchmarks (memory, sqlite; postgres if OSM_STUB_TEST_POSTGRES is set), BENCHTIME=1000x
	$(GO) test -run '^$$' -bench BenchmarkStore -benchtime $(BENCHTIME) ./server/store/storeopen

vet: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test-go: ## unit, contract and integration tests with the race detector
	@if [ -z "$(OSM_STUB_TEST_POSTGRES)" ]; then echo "test-go: OSM_STUB_TEST_POSTGRES is not set, so the PostgreSQL tests skip (.ci/run sets it)"; fi
	$(GO) test -race -count=1 ./...

check: vet ## the inner loop: vet, then go test -short (no PostgreSQL, browser, Docker or network)
	$(GO) test -short -count=1 ./...

fuzz-short: ## a short run of every fuzz target (FUZZTIME=30000x runs each)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	  done; \
	done

test-interop: ## the official Huawei Cloud Go SDK against the stub (nested module)
	@if [ -f interop/go.mod ]; then cd interop && $(GO) vet ./... && $(GO) test -race -count=1 ./...; \
	  else echo "interop/ not present yet"; fi

check-generated: ## regenerate and fail if gen/ changed
	$(MAKE) --no-print-directory generate
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is out of date or was edited by hand: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- gen/)" || { echo "untracked files in gen/"; exit 1; }

lint: ## Spectral and Redocly on openapi.yaml and server/control/control.openapi.yaml, zero findings
	@command -v npm >/dev/null 2>&1 || { echo "lint needs Node.js (>= 20.19) and npm"; exit 1; }
	@stamp=lint/node_modules/.osmstub-installed; \
	  if [ ! -f $$stamp ] || [ lint/package.json -nt $$stamp ] || [ lint/package-lock.json -nt $$stamp ]; then \
	    echo "npm ci --prefix lint"; \
	    SCARF_ANALYTICS=false npm ci --prefix lint --ignore-scripts --no-audit --no-fund --no-update-notifier && touch $$stamp; \
	  fi
	lint/node_modules/.bin/spectral lint -F warn --ruleset lint/.spectral.yaml openapi.yaml server/control/control.openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true \
	  lint/node_modules/.bin/redocly lint --extends recommended-strict openapi.yaml server/control/control.openapi.yaml

# The API page's Swagger UI and the browser tests (web/, server/web/).
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE
WEB_STAMP        := web/node_modules/.osmstub-installed
.PHONY: web-assets check-web-assets test-browser

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "web/ needs Node.js (>= 20.19) and npm"; exit 1; }
	SCARF_ANALYTICS=false npm ci --prefix web --ignore-scripts --no-audit --no-fund --no-update-notifier
	@touch $@

web-assets: $(WEB_STAMP) ## copy the pinned Swagger UI (web/package.json) into server/web/swagger-ui
	rm -rf server/web/swagger-ui && mkdir -p server/web/swagger-ui
	cd web/node_modules/swagger-ui-dist && cp $(SWAGGER_UI_FILES) ../../../server/web/swagger-ui/
	node -p 'require("./web/node_modules/swagger-ui-dist/package.json").version' > server/web/swagger-ui/VERSION

check-web-assets: ## copy Swagger UI again and fail if server/web/swagger-ui changed
	$(MAKE) --no-print-directory web-assets
	@git diff --exit-code --stat -- server/web/swagger-ui/ || { echo "server/web/swagger-ui is out of date or was edited by hand: run 'make web-assets' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- server/web/swagger-ui/)" || { echo "untracked files in server/web/swagger-ui/: run 'make web-assets' and commit"; exit 1; }

test-browser: build $(WEB_STAMP) ## /docs and /_stub/ui in headless Chromium (CHROMIUM=/usr/bin/chromium); screenshots in web/test-output/
	OSM_STUB_BIN=$(CURDIR)/$(BIN) node --test --test-timeout=120000 web/browser.test.mjs

.PHONY: dist test-dist image test-image test-container
dist: ## static (CGO_ENABLED=0) osm-stub binaries for every release platform into dist/, with SHA256SUMS
	@rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=dist/osm-stub_$${os}_$${arch}; \
	  if [ $$os = windows ]; then out=$$out.exe; fi; \
	  echo "$$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o $$out ./cmd/osm-stub; \
	done
	@cd dist && if command -v sha256sum >/dev/null; then sha256sum osm-stub_* > SHA256SUMS; else shasum -a 256 osm-stub_* > SHA256SUMS; fi
	@echo "dist/SHA256SUMS ($(VERSION))"

test-dist: dist ## build dist/, then run this platform's binary: -version, static, a real start, /healthz, healthcheck, SIGTERM
	OSM_STUB_BINARY=$(CURDIR)/dist/osm-stub_$$($(GO) env GOOS)_$$($(GO) env GOARCH) $(GO) test -count=1 -run '^TestBinary' ./cmd/osm-stub

image: dist ## the container image osmstub/osm-stub:<version> (and :latest; IMAGE=...), FROM scratch with the linux binary from dist/
	@printf '*\n!osm-stub_linux_%s\n!data\n' $$($(GO) env GOARCH) > dist/.dockerignore # the binary and an empty data/ alone
	@mkdir -p dist/data
	docker build -f Dockerfile --build-arg TARGETARCH=$$($(GO) env GOARCH) --build-arg VERSION=$(VERSION) \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):latest dist

# Without a docker daemon this target says so and passes, so that make test
# works on a machine without docker; .ci/run starts one and sets
# OSM_STUB_REQUIRE_DOCKER=1, so in CI it always runs.
test-image: ## build the image, run it, replay docs/api.md's association session against it, then the Testcontainers module's tests (needs docker)
	@if ! docker info >/dev/null 2>&1; then \
	  if [ -n "$(OSM_STUB_REQUIRE_DOCKER)" ]; then echo "test-image: no docker daemon, and OSM_STUB_REQUIRE_DOCKER is set"; exit 1; fi; \
	  echo "test-image: no docker daemon here, skipped (.ci/run installs and starts one)"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory image VERSION=$(VERSION) && \
	bash .ci/image-test.sh $(IMAGE):$(VERSION) && \
	$(MAKE) --no-print-directory test-container OSM_STUB_IMAGE=$(IMAGE):$(VERSION)

test-container: ## the Testcontainers module's tests (nested module osmstubcontainer/) against OSM_STUB_IMAGE
	cd osmstubcontainer && $(GO) vet ./... && OSM_STUB_IMAGE=$(OSM_STUB_IMAGE) $(GO) test -race -count=1 ./...
