# Conveyor. Two commands on a fresh machine: `make run` and `make test`.
GO      ?= go
ARGS    ?=
PKGS    ?= ./...

.PHONY: run build test test-ts test-short test-reliability vet fmt-check bench cluster-up cluster-down clean ui-vendor

## run: Conveyor with embedded NATS and etcd, API on http://127.0.0.1:8080
run: build
	./bin/conveyor server $(ARGS)

## build: the binary, as bin/conveyor
build:
	$(GO) build -o bin/conveyor ./cmd/conveyor

## test: vet, formatting, every test with the race detector (a line per package as it finishes,
## and the output of each failed test), then the TypeScript SDK's (test-ts)
test: vet fmt-check
	$(GO) tool gotestsum --format pkgname-and-test-fails --format-icons text -- -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) test-ts

## test-reliability: crash loop, contention, failing dependencies, absent drivers, then each fuzz
## target for FUZZTIME. ROUNDS sizes the crash loop.
ROUNDS   ?= 20
FUZZTIME ?= 20s
test-reliability:
	CONVEYOR_RELIABILITY=1 CONVEYOR_RELIABILITY_ROUNDS=$(ROUNDS) $(GO) test -race -count=1 -timeout 30m -run Reliability -v ./cmd/conveyor/
	GO=$(GO) .ci/fuzz.sh FuzzCheckName ./domain/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz.sh FuzzValidate ./adapters/schema/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz.sh FuzzParseResult ./adapters/protocol/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz.sh FuzzRequestBodies ./cmd/conveyor/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz.sh FuzzHookDeliveries ./cmd/conveyor/ $(FUZZTIME)

## test-ts: the TypeScript driver SDK (sdk/typescript) against the binary: npm ci, then npm test;
## then the driver written from docs/protocol.md alone (examples/protocol-only)
test-ts: build
	@if ! command -v npm >/dev/null 2>&1 && [ -z "$$CI" ]; then \
		echo "test-ts: skipped, no npm (Node.js 20 and npm run the TypeScript SDK's tests; CI=true requires them)"; \
	else \
		cd sdk/typescript && npm ci --no-audit --no-fund && CONVEYOR_BIN=$(CURDIR)/bin/conveyor npm test && \
		cd $(CURDIR) && CONVEYOR_BIN=$(CURDIR)/bin/conveyor node --test examples/protocol-only/; \
	fi

## test-short: the tests without the race detector
test-short:
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: the load generator against a server it starts itself, then the web UI's figures in a
## real browser (TestUIFigures)
bench:
	$(GO) run ./cmd/conveyor bench $(ARGS)
	CONVEYOR_UI_FIGURES=1 $(GO) test -count=1 -run '^TestUIFigures$$' -v ./cmd/conveyor

## ui-vendor: fetch the pinned API reference renderer from npm and check its sum (api/ui/static/VENDOR.md)
REDOC_VERSION ?= 2.5.1
REDOC_SHA256  ?= 2d8d13e94b5a21011cc6f8260d87ca475d0f6f2faed16dd12e7394dfa3bb05b8
ui-vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent redoc@$(REDOC_VERSION) >/dev/null && tar xzf redoc-$(REDOC_VERSION).tgz && \
	echo "$(REDOC_SHA256)  package/bundles/redoc.standalone.js" | sha256sum -c - && \
	cp package/bundles/redoc.standalone.js package/bundles/redoc.standalone.js.LICENSE.txt $(CURDIR)/api/ui/static/ && rm -rf $$tmp

## cluster-up / cluster-down: separate NATS and etcd processes for the cluster-mode tests
cluster-up:
	bash .ci/cluster.sh start

cluster-down:
	bash .ci/cluster.sh stop

clean:
	rm -rf bin conveyor-data
