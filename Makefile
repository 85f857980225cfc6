# lakegate — see README.md. All targets are idempotent.
SHELL := /bin/bash
GO ?= go
BIN := bin/lakegate
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Dev-only credentials for `make run`; set your own in the environment.
LAKEGATE_ROOT_ACCESS_KEY ?= lakegate
LAKEGATE_ROOT_SECRET_KEY ?= lakegate-dev-secret
export LAKEGATE_ROOT_ACCESS_KEY LAKEGATE_ROOT_SECRET_KEY
# Fuzz time per target in `make test` (short, CI); use `make fuzz FUZZTIME=5m` locally.
FUZZTIME ?= 10s

.PHONY: all build run test test-spark deps unit fuzz fuzz-short dev-up dev-down integration blackbox bench vet clean

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/lakegate

# Zero-setup gateway: 127.0.0.1:9080, posix backend under ./data.
run: build
	$(BIN) serve

# Installs what the tests need (Debian packages, MinIO, Hadoop jars), runs the
# unit tests, short fuzz runs, brings up the real service stack (Ceph RGW,
# MinIO, Kerberized HDFS), runs the conformance suites and the black-box client
# suite against every backend, then stops the stack.
test: deps build vet unit fuzz-short
	bash test/integration.sh

# Spark 3.5 and Hadoop S3A (3.3.4 SDK v1, 3.4.x SDK v2) end to end through the
# gateway on HDFS- and RGW-backed buckets, plus hadoop-aws's S3A contract tests.
test-spark: build
	bash test/spark/run.sh

deps:
	bash deploy/dev/install.sh

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v /test/blackbox)

fuzz-short:
	FUZZTIME=$(FUZZTIME) bash test/fuzz.sh

fuzz:
	FUZZTIME=$(FUZZTIME) bash test/fuzz.sh

dev-up: build
	bash deploy/dev/up.sh

dev-down:
	bash deploy/dev/down.sh

integration: build
	bash test/integration.sh

bench: build
	bash bench/run.sh

clean:
	rm -rf bin
