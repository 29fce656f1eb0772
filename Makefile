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

.DEFAULT_GOAL := help
.PHONY: help generate build run test vet test-go test-interop fuzz-short lint check-generated

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate gen/ from openapi.yaml and server/control.openapi.yaml
	$(GO) generate ./gen/...

build: ## build the stub binary into bin/
	$(GO) build -o $(BIN) ./cmd/osm-stub

# exec: the stub replaces the recipe's shell, so that it is make's own child
# and stops with make: Ctrl-C reaches it, and make passes a SIGTERM (kill of
# make's PID) on to it. `go run` would leave the stub running as an orphan.
run: build ## build, then run the stub on its built-in demo data (ADDR=127.0.0.1:8080); Ctrl-C or kill stops it
	exec $(BIN) -addr $(ADDR)

test: vet check-generated lint test-go fuzz-short test-interop ## everything CI runs

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
