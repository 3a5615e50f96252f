# gopherd — build, run, test, install.
#
# Quick start:  make run        (serves demo/ on 127.0.0.1:7070, with search)
#               make check-fast (gofmt, vet and go test -short: the inner loop)
#               make test       (every check and test; what CI runs)
#               make cover      (coverage of the unit and end-to-end tests together)
#
# Install:      make && sudo make install   (PREFIX=/usr/local by default)
#               make uninstall
# Packages:     make deb MAINTAINER='Name <address>'   (dist/gopherd_<version>_<arch>.deb)
# Checks:       make check                  (check-units check-man check-nix)
#               make cross                  (vet and build for every system gopherd supports)
#
# Go: the version go.mod names (1.26) or later; older ones get one line
# saying so (tools/gocheck.sh) instead of go's own error.

GO        ?= go
GO_MIN    := $(shell sed -n 's/^go \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' go.mod)
GOCHECK    = @sh tools/gocheck.sh '$(GO)' '$(GO_MIN)'

# The version (tools/version.sh): VERSION's content for the commit tagged
# v<VERSION>, else <VERSION>+git<commit time, UTC>.<hash>. The binary, the
# Debian package and the Nix package all carry it.
ifeq ($(origin VERSION),undefined)
VERSION   := $(shell sh tools/version.sh)
endif
# The maintainer and security contact, written into the Debian package
# (Maintainer, the copyright file, the changelog). Packagers set it:
#   make deb MAINTAINER='Jane Doe <jane@example.net>'
MAINTAINER ?= gopherd packager <packager@example.org>

# The build depends on the commit and the Go version only: no VCS stamp
# (whatever -buildvcs "go env GOFLAGS" sets, and whoever owns the
# checkout), no paths, no cgo, the baseline instruction set.
LDFLAGS    = -s -w -X main.version=$(or $(VERSION),$(error VERSION is empty: tools/version.sh failed))
GOBUILD    = CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)'
BIN       := bin/gopherd
RUN_ADDR  ?= 127.0.0.1:7070

# staticcheck is fetched through the Go module proxy when missing.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

# Installation directories. DESTDIR is prepended to every one of them when
# copying but never written into the installed files. The configuration
# goes to /etc whatever the PREFIX, where admins and the units look for it;
# set SYSCONFDIR to move it. UNITDIR under /usr/local is on systemd's
# search path too.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DOCDIR     ?= $(DATADIR)/doc/gopherd
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
# The served root: the example configuration's "root". install makes it,
# with the welcome map, only when nothing is there yet.
SRVDIR     ?= /srv/gopher
DESTDIR    ?=

WELCOME   := etc/welcome.gophermap
MAN8      := man/gopherd.8
MAN5      := man/gopherd.json.5 man/gopherd.gophermap.5
MANPAGES  := $(MAN8) $(MAN5)
UNITS     := gopherd.socket gopherd.service gopherd-root.service
NIXFILES  := $(wildcard nix/*.nix)

# The units in etc/systemd/ name the Debian paths; install rewrites them.
UNIT_SED  := -e 's|/usr/bin/gopherd|$(BINDIR)/gopherd|g' \
             -e 's|/etc/gopherd.json|$(SYSCONFDIR)/gopherd.json|g'

# Sources the binary depends on, so that "make install" after "make" (for
# example under sudo, where go may not be on the PATH) does not rebuild.
GO_SOURCES := $(shell find cmd internal -name '*.go' ! -name '*_test.go' 2>/dev/null) go.mod go.sum VERSION

# Debian package. nfpm is a build tool, not a dependency: it is installed at
# a pinned version into a cache directory, never into go.mod.
DIST           ?= dist
DEB_STAGE      := $(DIST)/.deb-stage
NFPM_VERSION   ?= v2.45.0
TOOLSDIR       ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gopherd-tools
NFPM           ?= $(TOOLSDIR)/nfpm-$(NFPM_VERSION)/nfpm
DEB_VERSION    := $(VERSION)
DEB_ARCH       ?= $(shell $(GO) env GOARCH 2>/dev/null)
# Timestamps in the package: the last commit's time, so that the same
# commit always gives the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git -c safe.directory='*' log -1 --format=%ct 2>/dev/null || echo 0)

# The checks need mandoc, nix-instantiate and systemd-analyze. Where one is
# missing the check says so and passes, except in CI (CI=true), which
# installs them all (.ci/run) and must not skip silently.
# $(call need,TOOL,DEBIAN-PACKAGE) ends the recipe line when TOOL is absent.
define need
if ! command -v $(1) >/dev/null 2>&1; then \
  if [ "$$CI" = true ]; then echo "$@: $(1) not found, and CI=true requires it (apt-get install $(2))" >&2; exit 1; fi; \
  echo "$@: SKIPPED: $(1) not found (apt-get install $(2))"; exit 0; \
fi
endef

.PHONY: all build run test check-fast cover cross lint clean fuzz fuzz-short soak bench microbench \
	install uninstall deb tools nfpm-path check check-units check-man check-nix

all: build

build:
	$(GOCHECK)
	$(GOBUILD) -o $(BIN) ./cmd/gopherd

$(BIN): $(GO_SOURCES)
	$(GOCHECK)
	$(GOBUILD) -o $(BIN) ./cmd/gopherd

# run: serve demo/ with etc/demo.json, which turns the search on (the
# demo's gophermap offers it); edits to demo/ are found within 10 s.
run: build
	./$(BIN) --listen $(RUN_ADDR) etc/demo.json

# testreport runs "go test -json", prints what plain go test would, then
# every skipped test with its reason; with CI=true a skip not listed in
# .ci/allowed-skips fails the run.
TESTREPORT = $(GO) run ./tools/testreport

# The Debian package test (packaging TestDeb) needs nfpm, 55 modules to
# fetch and build the first time. CI (CI=true) always runs it; elsewhere it
# runs when nfpm is already installed ("make tools") or WITH_DEB=1 asks.
WITH_DEB ?= $(if $(filter true,$(CI)),1)

# test: formatting, vet and staticcheck, the unit, man page and Nix checks,
# the builds for every supported system, each fuzz target briefly, then
# every test, the end-to-end ones with the race detector in the binary too,
# and the list of the tests that skipped.
test: lint check cross fuzz-short $(if $(WITH_DEB),tools)
	$(GOCHECK)
	GOPHERD_TEST_DEB=$(WITH_DEB) $(TESTREPORT) -allowed .ci/allowed-skips -- \
	  $(GO) test -race -count=1 -timeout 15m -json ./...

# check-fast: the inner loop. gofmt, vet and go test -short, which leaves
# out the slow end-to-end tests, the packaging tests and the soak.
check-fast:
	$(GOCHECK)
	@$(GOFMT_CHECK)
	$(GO) vet ./...
	$(TESTREPORT) -- $(GO) test -short -count=1 -json ./...

# cover: coverage of the unit tests and the end-to-end tests together. The
# e2e suite builds gopherd with -cover when GOPHERD_COVERDIR is set, and
# every run of the binary writes its counters there; go tool covdata then
# merges them with the unit tests' counters (-test.gocoverdir).
COVERDIR ?= $(CURDIR)/bin/cover
COVERPKG  = $(shell $(GO) list ./cmd/... ./internal/... | grep -v /internal/testutil | paste -sd, -)
cover:
	$(GOCHECK)
	rm -rf $(COVERDIR) && mkdir -p $(COVERDIR)/unit $(COVERDIR)/e2e $(COVERDIR)/merged
	GOPHERD_COVERDIR=$(COVERDIR)/e2e $(GO) test -count=1 -timeout 15m -cover -covermode=atomic \
	  -coverpkg=$(COVERPKG) ./... -args -test.gocoverdir=$(COVERDIR)/unit
	$(GO) tool covdata merge -i=$(COVERDIR)/unit,$(COVERDIR)/e2e -o $(COVERDIR)/merged
	$(GO) tool covdata textfmt -i=$(COVERDIR)/merged -o $(COVERDIR)/cover.out
	@echo "cover: per package, unit and end-to-end tests together:"
	@$(GO) tool covdata percent -i=$(COVERDIR)/merged
	@$(GO) tool cover -func=$(COVERDIR)/cover.out | tail -1 | sed 's/^total:[[:space:]]*(statements)[[:space:]]*/cover: total /'
	@echo "cover: $(COVERDIR)/cover.out; HTML with go tool cover -html=$(COVERDIR)/cover.out"

# cross: gopherd builds and vets for every system it supports. Tests run
# on Linux only (see README.md).
CROSS_PLATFORMS ?= linux/amd64 linux/arm64 freebsd/amd64 freebsd/arm64 openbsd/amd64 openbsd/arm64 \
	netbsd/amd64 netbsd/arm64 darwin/amd64 darwin/arm64
cross:
	$(GOCHECK)
	@set -e; for p in $(CROSS_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  GOOS=$$os GOARCH=$$arch $(GO) vet ./...; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -buildvcs=false -o /dev/null ./cmd/gopherd; \
	  echo "cross: $$p: go vet ./... and go build ./cmd/gopherd OK"; \
	done

# Fuzz targets, each run for FUZZTIME (make test runs them briefly; `make
# fuzz` longer). Crashers land in the package's testdata/fuzz and become
# regression tests automatically.
FUZZ_TARGETS := \
	internal/gopher:FuzzParseRequest \
	internal/gophermap:FuzzRender \
	internal/gophermap:FuzzRenderBounded \
	internal/gophermap:FuzzGophernicus \
	internal/gophermap:FuzzGPH \
	internal/gophermap:FuzzToBucktooth \
	internal/gophermap:FuzzLint \
	internal/config:FuzzParse \
	internal/fs:FuzzResolve \
	internal/fs:FuzzServe \
	internal/cgi:FuzzFind \
	internal/cgi:FuzzMenuOutput \
	internal/search:FuzzQuery \
	internal/server:FuzzProxyHeader
FUZZTIME ?= 2m
FUZZTIME_SHORT ?= 5s

# tools/fuzz.sh reruns a target that Go 1.26's fuzz coordinator fails at
# the end of its time without a failing input (golang/go#75804).
fuzz:
	$(GOCHECK)
	@sh tools/fuzz.sh $(GO) $(FUZZTIME) $(FUZZ_TARGETS)

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

# soak: one million mixed requests against the real binary (no race
# detector: it is about leaks and stability, not data races).
SOAK_REQUESTS ?= 1000000
soak:
	$(GOCHECK)
	GOPHERD_SOAK_REQUESTS=$(SOAK_REQUESTS) $(GO) test -count=1 -run '^TestSoak$$' -timeout 60m -v ./e2e/

# bench: gopherd against the in-tree reference server, A B A B, medians and
# ratios. BENCHFLAGS passes options to the driver (see bench/README.md).
bench: $(BIN)
	$(GOBUILD) -o bin/bench/refserver ./bench/refserver
	$(GOBUILD) -o bin/bench/loadgen ./bench/loadgen
	$(GO) run ./bench/run -gopherd $(BIN) -ref bin/bench/refserver -loadgen bin/bench/loadgen $(BENCHFLAGS)

# Micro-benchmarks of the hot paths.
microbench:
	$(GOCHECK)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

GOFMT_CHECK = out=$$(gofmt -l $$(git -c safe.directory='*' ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint:
	$(GOCHECK)
	@$(GOFMT_CHECK)
	$(GO) vet ./...
	@test -x "$(STATICCHECK)" || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

clean:
	rm -rf bin dist

# install: the binary, the man pages, the licence, the welcome map, the
# systemd units with this installation's paths written in, the example
# configuration unless a configuration is there already (an admin's file is
# never overwritten), and the served root with the welcome map unless
# something is there already, so that the service can start at once.
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/gopherd $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/gopherd
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE
	install -m 0644 $(WELCOME) $(DESTDIR)$(DATADIR)/gopherd/gophermap
	@set -e; for u in $(UNITS); do \
	  sed $(UNIT_SED) etc/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp; \
	  mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u; \
	  echo "installed $(DESTDIR)$(UNITDIR)/$$u"; \
	done
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gopherd.json ]; then \
	  echo "kept the existing $(DESTDIR)$(SYSCONFDIR)/gopherd.json (the example is etc/gopherd.json)"; \
	else \
	  install -m 0644 etc/gopherd.json $(DESTDIR)$(SYSCONFDIR)/gopherd.json && \
	  echo "installed $(DESTDIR)$(SYSCONFDIR)/gopherd.json"; \
	fi
	@if [ -e $(DESTDIR)$(SRVDIR) ] || [ -L $(DESTDIR)$(SRVDIR) ]; then \
	  echo "kept the existing $(DESTDIR)$(SRVDIR)"; \
	else \
	  install -d -m 0755 $(DESTDIR)$(SRVDIR) && \
	  install -m 0644 $(WELCOME) $(DESTDIR)$(SRVDIR)/gophermap && \
	  echo "created $(DESTDIR)$(SRVDIR) with a welcome gophermap (readable by everyone)"; \
	fi

# uninstall removes what install put there. The configuration goes only if
# it is still the unchanged example, and the served root only if it holds
# nothing but the unchanged welcome map: an edited file is the admin's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gopherd
	rm -f $(DESTDIR)$(MANDIR)/man8/gopherd.8
	rm -f $(DESTDIR)$(MANDIR)/man5/gopherd.json.5 $(DESTDIR)$(MANDIR)/man5/gopherd.gophermap.5
	rm -f $(DESTDIR)$(DOCDIR)/LICENSE $(DESTDIR)$(DATADIR)/gopherd/gophermap
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)/gopherd 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gopherd.json ]; then \
	  if cmp -s etc/gopherd.json $(DESTDIR)$(SYSCONFDIR)/gopherd.json; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/gopherd.json && echo "removed $(DESTDIR)$(SYSCONFDIR)/gopherd.json (unchanged example)"; \
	  else \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/gopherd.json: it differs from the example"; \
	  fi; \
	fi
	@if [ -f $(DESTDIR)$(SRVDIR)/gophermap ] && cmp -s $(WELCOME) $(DESTDIR)$(SRVDIR)/gophermap; then \
	  rm -f $(DESTDIR)$(SRVDIR)/gophermap; \
	  if rmdir $(DESTDIR)$(SRVDIR) 2>/dev/null; then \
	    echo "removed $(DESTDIR)$(SRVDIR) (only the unchanged welcome map was there)"; \
	  else \
	    echo "removed the unchanged welcome map; kept $(DESTDIR)$(SRVDIR) and the rest of its content"; \
	  fi; \
	elif [ -e $(DESTDIR)$(SRVDIR) ]; then \
	  echo "kept $(DESTDIR)$(SRVDIR): it is content"; \
	fi

# tools: build tools that come through the Go module proxy.
tools: $(NFPM)

$(NFPM):
	$(GOCHECK)
	GOFLAGS= GOBIN=$(dir $(NFPM)) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

# nfpm-path: where nfpm is, or would be (for the packaging tests).
nfpm-path:
	@echo $(NFPM)

# deb: a Debian package built without network access (once nfpm is there)
# and reproducibly: the binary is built afresh with -trimpath, the man pages
# and the changelog are compressed without names or times, and every
# timestamp in the archive is SOURCE_DATE_EPOCH. MAINTAINER goes into the
# control file, the copyright file and the changelog.
deb: $(NFPM)
	$(GOCHECK)
	@case '$(DEB_VERSION)' in \
	  [0-9]*) ;; \
	  *) echo "deb: the version '$(DEB_VERSION)' does not start with a digit (set VERSION, see tools/version.sh)" >&2; exit 1 ;; \
	esac; \
	if printf '%s' '$(DEB_VERSION)' | LC_ALL=C grep -q '[^A-Za-z0-9.+~]'; then \
	  echo "deb: the version '$(DEB_VERSION)' has characters a Debian version without a revision may not have" >&2; exit 1; \
	fi
	rm -rf $(DEB_STAGE)
	mkdir -p $(DEB_STAGE)
	GOOS=linux GOARCH=$(DEB_ARCH) $(GOBUILD) -o $(DEB_STAGE)/gopherd ./cmd/gopherd
	@set -e; for m in $(MANPAGES); do gzip -9 -n -c $$m > $(DEB_STAGE)/$$(basename $$m).gz; done
	sh packaging/deb/changelog.sh '$(DEB_VERSION)' '$(MAINTAINER)' '$(SOURCE_DATE_EPOCH)' | gzip -9 -n > $(DEB_STAGE)/changelog.gz
	sed 's|@MAINTAINER@|$(MAINTAINER)|' packaging/deb/copyright > $(DEB_STAGE)/copyright
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH='$(DEB_ARCH)' DEB_MAINTAINER='$(MAINTAINER)' \
	DEB_STAGE='$(abspath $(DEB_STAGE))' SOURCE_DATE_EPOCH='$(SOURCE_DATE_EPOCH)' \
	  $(NFPM) package --config packaging/nfpm.yaml --packager deb \
	  --target $(DIST)/gopherd_$(DEB_VERSION)_$(DEB_ARCH).deb
	rm -rf $(DEB_STAGE)

check: check-units check-man check-nix

# check-units: systemd-analyze verify on every unit (with the built binary's
# path written in, since verify wants ExecStart= to exist, and the man pages
# on MANPATH, since it checks Documentation=), then the sandbox rating:
# gopherd.service must rate 2.0 or better; gopherd-root.service, which has
# to keep setuid, is held to its current 2.5 so that it cannot slip.
check-units: $(BIN)
	@$(call need,systemd-analyze,systemd); \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	mkdir -p $$tmp/man/man5 $$tmp/man/man8 && \
	cp $(MAN8) $$tmp/man/man8/ && cp $(MAN5) $$tmp/man/man5/ && \
	for u in $(UNITS); do \
	  sed -e 's|/usr/bin/gopherd|$(abspath $(BIN))|g' etc/systemd/$$u > $$tmp/$$u || exit 1; \
	done && \
	out=$$(cd $$tmp && MANPATH=$$tmp/man systemd-analyze verify $(UNITS) 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "check-units: systemd-analyze verify failed" >&2; exit 1; fi; \
	echo "check-units: systemd-analyze verify: no findings in $(UNITS)"; \
	for spec in gopherd.service:20 gopherd-root.service:25; do \
	  u=$${spec%:*}; max=$${spec#*:}; \
	  out=$$(cd $$tmp && systemd-analyze security --offline=true --no-pager --threshold=$$max ./$$u 2>&1); rc=$$?; \
	  level=$$(printf '%s\n' "$$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'); \
	  if [ $$rc -ne 0 ] || [ -z "$$level" ]; then \
	    echo "$$out"; echo "check-units: $$u exposure $${level:-unknown}, above the limit $$((max / 10)).$$((max % 10))" >&2; exit 1; \
	  fi; \
	  echo "check-units: systemd-analyze security: $$u exposure $$level (limit $$((max / 10)).$$((max % 10)))"; \
	done

# check-man: mandoc's linter must find nothing, and man(1) must render each
# page without a warning.
check-man:
	@$(call need,mandoc,mandoc); \
	out=$$(mandoc -Tlint -W warning $(MANPAGES) 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "check-man: mandoc -Tlint found problems" >&2; exit 1; fi; \
	echo "check-man: mandoc -Tlint -W warning: no findings in $(MANPAGES)"; \
	$(call need,man,man-db); \
	for m in $(MANPAGES); do \
	  err=$$(MANPAGER=cat MANWIDTH=80 man --warnings -l $$m 2>&1 >/dev/null); rc=$$?; \
	  if [ $$rc -ne 0 ] || [ -n "$$err" ]; then echo "$$err"; echo "check-man: man -l $$m failed" >&2; exit 1; fi; \
	done; \
	echo "check-man: man -l renders $(MANPAGES)"

# check-nix: every Nix file must parse, and nix/version.nix must give the
# version in VERSION. Neither needs a Nix store, so they run with the dummy
# store as any user (a real store wants the nixbld group or the daemon).
# Building the package and running the NixOS VM test (nix/test.nix) need
# Nix with nixpkgs and KVM; see README.md.
NIX_INSTANTIATE = nix-instantiate --store dummy://
check-nix:
	@$(call need,nix-instantiate,nix-bin); \
	for f in $(NIXFILES); do \
	  out=$$($(NIX_INSTANTIATE) --parse $$f 2>&1 >/dev/null); rc=$$?; \
	  if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "check-nix: $$f does not parse" >&2; exit 1; fi; \
	done; \
	echo "check-nix: nix-instantiate --parse: $(NIXFILES) parse"; \
	got=$$($(NIX_INSTANTIATE) --eval nix/version.nix 2>&1); want="\"$$(cat VERSION)\""; \
	if [ "$$got" != "$$want" ]; then echo "check-nix: nix/version.nix gives $$got, VERSION says $$want" >&2; exit 1; fi; \
	echo "check-nix: nix/version.nix gives $$got, as VERSION says"
