# out_datadog_go — build, test, demo, bench.
# Everything a target needs is installed by the targets themselves (see deps).
SHELL := /bin/bash
GO    ?= go
BUILD := build
SO    := $(BUILD)/out_datadog_go.so
HOST  := $(BUILD)/flbhost
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/out-datadog-go/out_datadog_go/internal/version.Version=$(VERSION)

.PHONY: all build host deps vet test test-unit test-e2e fuzz demo bench microbench image image-check clean

all: build host

# deps: Debian packages a fresh machine lacks (gcc and Go are assumed).
deps:
	@bash scripts/deps.sh

build: $(SO)
$(SO): $(shell find plugin internal -name '*.go' -not -name '*_test.go') $(wildcard plugin/*.c plugin/*.h) go.mod go.sum
	@mkdir -p $(BUILD)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -ldflags '$(LDFLAGS)' -o $@ ./plugin

host: $(HOST)
$(HOST): test/flbhost/flbhost.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -rdynamic -o $@ $< -ldl -lpthread

vet:
	$(GO) vet ./...

test-unit:
	$(GO) test -race -count=1 ./internal/... ./plugin/...

test-e2e: build host
	FLB_SO=$(abspath $(SO)) FLB_HOST=$(abspath $(HOST)) $(GO) test -race -count=1 ./test/...

# Bounded fuzzing of the decoders (seconds per target: FUZZTIME).
FUZZTIME ?= 20s
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

test: deps vet build host
	FLB_SO=$(abspath $(SO)) FLB_HOST=$(abspath $(HOST)) $(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)
	@$(MAKE) --no-print-directory image-check

demo: build host
	$(GO) run ./test/demo -so $(abspath $(SO)) -host $(abspath $(HOST))

bench: build host
	$(GO) run ./benchmarks/cmd/bench -so $(abspath $(SO)) -host $(abspath $(HOST)) -out benchmarks/RESULTS.md $(BENCHFLAGS)

# Go micro-benchmarks of the hot path (decoder, encoder, compressor, whole
# flush) in benchstat's input format: `make microbench > new.txt`, then
# `benchstat old.txt new.txt`.
MICROCOUNT ?= 6
microbench:
	@$(GO) test -run '^$$' -bench . -benchmem -count $(MICROCOUNT) ./internal/event ./internal/transcode ./internal/shape ./internal/partial ./internal/compress ./internal/pipeline

image:
	bash docker/build.sh

image-check:
	bash docker/check.sh

clean:
	rm -rf $(BUILD)
