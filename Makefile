# gopherd — build, run, test, install.
#
# Quick start:  make run   (serves demo/ on 127.0.0.1:7070)
#               make test  (every test; what CI runs)

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
BIN       := bin/gopherd
RUN_ADDR  ?= 127.0.0.1:7070

# staticcheck is fetched through the Go module proxy when missing.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

.PHONY: all build run test lint unit e2e clean

all: build

build:
	$(GOBUILD) -o $(BIN) ./cmd/gopherd

run: build
	./$(BIN) --root demo --listen $(RUN_ADDR) --hostname localhost

# test: formatting, vet and staticcheck, then every test. End-to-end tests
# run under the race detector.
test: lint
	$(GO) test -race -count=1 -timeout 10m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x "$(STATICCHECK)" || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

clean:
	rm -rf bin dist
