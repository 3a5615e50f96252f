# gopherd — build, run, test, install.
#
# Quick start:  make run   (serves demo/ on 127.0.0.1:7070, with search)
#               make test  (every test; what CI runs)
#
# Install:      make && sudo make install   (PREFIX=/usr/local by default)
#               make uninstall
# Packages:     make deb                    (dist/gopherd_<version>_<arch>.deb)
# Checks:       make check                  (check-units check-man check-nix)

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
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
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=

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
GO_SOURCES := $(shell find cmd internal -name '*.go' ! -name '*_test.go' 2>/dev/null) go.mod go.sum

# Debian package. nfpm is a build tool, not a dependency: it is installed at
# a pinned version into a cache directory, never into go.mod.
DIST           ?= dist
DEB_STAGE      := $(DIST)/.deb-stage
NFPM_VERSION   ?= v2.45.0
TOOLSDIR       ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gopherd-tools
NFPM           ?= $(TOOLSDIR)/nfpm-$(NFPM_VERSION)/nfpm
DEB_VERSION    ?= $(shell sh packaging/deb-version.sh '$(VERSION)')
DEB_ARCH       ?= $(shell $(GO) env GOARCH)
DEB_MAINTAINER ?= gopherd developers <gopherd@invalid>
# Timestamps in the package: the last commit's time, so that the same
# commit always gives the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

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

.PHONY: all build run test lint unit e2e clean fuzz soak bench microbench \
	install uninstall deb tools check check-units check-man check-nix

all: build

build:
	$(GOBUILD) -o $(BIN) ./cmd/gopherd

$(BIN): $(GO_SOURCES)
	$(GOBUILD) -o $(BIN) ./cmd/gopherd

# run: serve demo/ with etc/demo.json, which turns the search on (the
# demo's gophermap offers it); edits to demo/ are found within 10 s.
run: build
	./$(BIN) --listen $(RUN_ADDR) etc/demo.json

# test: formatting, vet and staticcheck, the unit, man page and Nix checks,
# then every test. End-to-end tests run under the race detector. nfpm is
# fetched first so that the packaging tests do not spend their time on it.
test: lint check tools
	$(GO) test -race -count=1 -timeout 10m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

# Fuzz targets, each run for FUZZTIME (make test runs them briefly; `make
# fuzz` longer). Crashers land in the package's testdata/fuzz and become
# regression tests automatically.
FUZZ_TARGETS := \
	internal/gopher:FuzzParseRequest \
	internal/gophermap:FuzzRender \
	internal/config:FuzzParse \
	internal/fs:FuzzResolve \
	internal/fs:FuzzServe \
	internal/cgi:FuzzFind \
	internal/cgi:FuzzMenuOutput \
	internal/search:FuzzQuery
FUZZTIME ?= 2m
FUZZTIME_SHORT ?= 8s

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz: $$name in ./$$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	done

# soak: one million mixed requests against the real binary (no race
# detector: it is about leaks and stability, not data races).
SOAK_REQUESTS ?= 1000000
soak:
	GOPHERD_SOAK_REQUESTS=$(SOAK_REQUESTS) $(GO) test -count=1 -run '^TestSoak$$' -timeout 60m -v ./e2e/

# bench: gopherd against the in-tree reference server, A B A B, medians and
# ratios. BENCHFLAGS passes options to the driver (see bench/README.md).
bench: $(BIN)
	$(GOBUILD) -o bin/bench/refserver ./bench/refserver
	$(GOBUILD) -o bin/bench/loadgen ./bench/loadgen
	$(GO) run ./bench/run -gopherd $(BIN) -ref bin/bench/refserver -loadgen bin/bench/loadgen $(BENCHFLAGS)

# Micro-benchmarks of the hot paths.
microbench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x "$(STATICCHECK)" || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

clean:
	rm -rf bin dist

# install: the binary, the man pages, the systemd units with this
# installation's paths written in, and the example configuration unless a
# configuration is there already (an admin's file is never overwritten).
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/gopherd
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
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

# uninstall removes what install put there. The configuration goes only if
# it is still the unchanged example: an edited one is the admin's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gopherd
	rm -f $(DESTDIR)$(MANDIR)/man8/gopherd.8
	rm -f $(DESTDIR)$(MANDIR)/man5/gopherd.json.5 $(DESTDIR)$(MANDIR)/man5/gopherd.gophermap.5
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gopherd.json ]; then \
	  if cmp -s etc/gopherd.json $(DESTDIR)$(SYSCONFDIR)/gopherd.json; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/gopherd.json && echo "removed $(DESTDIR)$(SYSCONFDIR)/gopherd.json (unchanged example)"; \
	  else \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/gopherd.json: it differs from the example"; \
	  fi; \
	fi

# tools: build tools that come through the Go module proxy.
tools: $(NFPM)

$(NFPM):
	GOFLAGS= GOBIN=$(dir $(NFPM)) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

# deb: a Debian package built without network access (once nfpm is there)
# and reproducibly: the binary is built afresh with -trimpath, the man pages
# are compressed without names or times, and every timestamp in the archive
# is SOURCE_DATE_EPOCH.
deb: $(NFPM)
	rm -rf $(DEB_STAGE)
	mkdir -p $(DEB_STAGE)
	GOOS=linux GOARCH=$(DEB_ARCH) $(GOBUILD) -o $(DEB_STAGE)/gopherd ./cmd/gopherd
	@set -e; for m in $(MANPAGES); do gzip -9 -n -c $$m > $(DEB_STAGE)/$$(basename $$m).gz; done
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH='$(DEB_ARCH)' DEB_MAINTAINER='$(DEB_MAINTAINER)' \
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

# check-nix: every Nix file must parse. Building the package and running the
# NixOS VM test (nix/test.nix) need Nix with nixpkgs and KVM; see README.md.
check-nix:
	@$(call need,nix-instantiate,nix-bin); \
	for f in $(NIXFILES); do \
	  out=$$(nix-instantiate --parse $$f 2>&1 >/dev/null); rc=$$?; \
	  if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "check-nix: $$f does not parse" >&2; exit 1; fi; \
	done; \
	echo "check-nix: nix-instantiate --parse: $(NIXFILES) parse"
