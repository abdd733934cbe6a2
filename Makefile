# out_datadog_go — build, test, demo, bench.
# Everything a target needs is installed by the targets themselves (see deps).
SHELL := /bin/bash
GO    ?= go
BUILD := build
SO    := $(BUILD)/out_datadog_go.so
HOST  := $(BUILD)/flbhost
# The arm64 .so, cross-built with Debian's gcc-aarch64-linux-gnu (deps) and
# checked in make test (test/deploy); the image builds each arch natively.
SO_ARM64 := $(BUILD)/arm64/out_datadog_go.so
ARM64_CC ?= aarch64-linux-gnu-gcc
SOURCES := $(shell find plugin internal -name '*.go' -not -name '*_test.go') $(wildcard plugin/*.c plugin/*.h) go.mod go.sum
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/out-datadog-go/out_datadog_go/internal/version.Version=$(VERSION)

.PHONY: all build build-arm64 host deps vet test test-unit test-e2e fuzz demo run bench microbench image image-check workflows clean

all: build host

# deps: Debian packages a fresh machine lacks (gcc and Go are assumed).
deps:
	@bash scripts/deps.sh

build: $(SO)
$(SO): $(SOURCES)
	@mkdir -p $(BUILD)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -ldflags '$(LDFLAGS)' -o $@ ./plugin

build-arm64: $(SO_ARM64)
$(SO_ARM64): $(SOURCES)
	@mkdir -p $(dir $@)
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=$(ARM64_CC) $(GO) build -buildmode=c-shared -trimpath -ldflags '$(LDFLAGS)' -o $@ ./plugin

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

test: deps vet build build-arm64 host
	FLB_SO=$(abspath $(SO)) FLB_SO_ARM64=$(abspath $(SO_ARM64)) FLB_HOST=$(abspath $(HOST)) $(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)
	@$(MAKE) --no-print-directory image-check
	@$(MAKE) --no-print-directory workflows

demo: build host
	$(GO) run ./test/demo -so $(abspath $(SO)) -host $(abspath $(HOST))

# One log through real Fluent Bit (../shared's, FLUENT_BIT, or an installed
# one) into the local intake stand-in, printed: no Docker, key or root.
run: build
	$(GO) run ./test/run -so $(abspath $(SO))

bench: build host
	$(GO) run ./benchmarks/cmd/bench -so $(abspath $(SO)) -host $(abspath $(HOST)) -out benchmarks/RESULTS.md $(BENCHFLAGS)

# Go micro-benchmarks of the hot path (decoder, encoder, compressor, whole
# flush) in benchstat's input format: `make microbench > new.txt`, then
# `benchstat old.txt new.txt`.
MICROCOUNT ?= 6
microbench:
	@$(GO) test -run '^$$' -bench . -benchmem -count $(MICROCOUNT) ./internal/event ./internal/transcode ./internal/shape ./internal/join ./internal/compress ./internal/pipeline

image:
	bash docker/build.sh

# Engine-free checks of docker/ (the Terraform ones are Go tests).
image-check:
	bash docker/check.sh
	$(GO) test -count=1 -run Terraform ./test/deploy

# The GitHub Actions workflows (.github/workflows) checked by actionlint, a Go
# module run at a pinned version (.github/renovate.json bumps it).
ACTIONLINT_VERSION := v1.7.12
workflows:
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

clean:
	rm -rf $(BUILD)
