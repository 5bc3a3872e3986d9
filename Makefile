# fieldmint: `make dev` runs the whole pipeline on an embedded stack,
# `make test` runs every test. Both install what they need first.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go

.PHONY: deps build build-prod dev test test-killtest test-rest generate bench fuzz lint deploy-check

deps:
	@scripts/deps.sh

# bin/fieldmint has every command; bin/fieldmint-prod is the production
# build (-tags nodev: no dev stack, no simulator), what deploy/Dockerfile builds.
build:
	$(GO) build -o bin/fieldmint ./cmd/fieldmint

build-prod:
	$(GO) build -tags nodev -o bin/fieldmint-prod ./cmd/fieldmint

dev: deps build
	./bin/fieldmint dev

# The unit tests (no server, no chain, no broker), which also run under the
# race detector; each of their packages checks for leaked goroutines (goleak).
UNIT := ./cmd/fieldmint ./ingest/client ./internal/config ./internal/geo ./internal/kafka \
	./schemas/migrations ./settler/merkle ./simulate/fleet ./tools/rowserr ./api/wire ./internal/stats ./internal/procs

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags nodev ./cmd/fieldmint
	$(GO) tool staticcheck ./...
	$(GO) run ./tools/rowserr/cmd/rowserrcheck ./...

# deploy/, checked offline in a Go module of its own (Helm, the Kubernetes
# types, compose-go and Prometheus stay out of fieldmint's dependencies): the
# chart rendered and every object decoded strictly, the compose file loaded
# with compose-go, the alert rules unit-tested with promtool.
deploy-check:
	cd deploy/check && $(GO) vet ./... && $(GO) test -count=1 ./...

# killtest, the longest package (about 11 minutes, most of it TestOutages waiting out three
# 3-minute outages), runs from the start beside everything else: the lint, the race build
# and the other packages take about as long again. One after the other they took about
# 17 minutes from a fresh clone on 2 cores. Beside the rest killtest takes 12 to 15
# minutes (it took 15 once, and hit a 15-minute limit): hence its 20.
test: deps
	$(MAKE) --no-print-directory -j2 test-killtest test-rest

test-killtest:
	$(GO) test -count=1 -timeout 20m ./killtest

test-rest: lint deploy-check
	$(GO) test -count=1 -race $(UNIT)
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v '/killtest$$')

# Regenerates protobuf code, compiled contracts and their bindings; the tests
# in schemas/internal fail when committed output differs from this.
generate: deps
	cd schemas && $(GO) run ./internal/genproto
	cd schemas/contracts && node build.js
	cd schemas && $(GO) run ./internal/genbind
	scripts/vendor-explorer.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./settler/merkle/ ./aggregator/ ./schemas/fieldmintpb/
	$(GO) test -run '^$$' -bench Ingest -benchtime 300x ./ingest/
	$(GO) run ./cmd/fieldmint bench ingest --duration 10s

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReadingsHandler -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzReadingFields -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzAppendRawV2 -fuzztime 20s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzDeviceHandlers -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzMQTTPublish -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzMQTTConnection -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzGRPC -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzChirpStack -fuzztime 30s ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzValidID -fuzztime 10s ./schemas/fieldmintpb/
	$(GO) test -run '^$$' -fuzz FuzzDecodeMatchesProto -fuzztime 30s ./aggregator/
	$(GO) test -run '^$$' -fuzz FuzzUnmarshalRawMatchesProto -fuzztime 30s ./validators/
	$(GO) test -run '^$$' -fuzz FuzzMarshalDecided -fuzztime 20s ./validators/
	$(GO) test -run '^$$' -fuzz FuzzReadRewards -fuzztime 30s ./settler/merkle/
	$(GO) test -run '^$$' -fuzz FuzzMapQuery -fuzztime 30s ./explorer/
