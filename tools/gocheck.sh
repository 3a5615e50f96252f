#!/bin/sh
# gocheck.sh GO MIN: stop with one clear line when the Go toolchain GO is
# missing or older than MIN (the "go" line of go.mod). Without it, an old
# Go prints "invalid go version '1.26.0'" or "go.mod requires go >= ...",
# which does not say what to do.
set -eu
go=$1 min=$2
where="Get Go $min or later from https://go.dev/dl/ (Debian 12's golang-go is 1.19, too old) and put its bin directory first on PATH, or run make GO=/path/to/go"
if ! command -v "$go" >/dev/null 2>&1; then
	echo "make: Go not found ($go): gopherd needs Go $min or later. $where." >&2
	exit 1
fi
# "go version" prints "go version go1.26.8 linux/amd64" (or go1.26rc1,
# go1.26): take the major and minor numbers.
have=$("$go" version 2>/dev/null | sed -n 's/^go version go\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
set -- $have
want_major=${min%%.*} want_minor=${min#*.}
if [ $# -ne 2 ] || [ "$1" -lt "$want_major" ] || { [ "$1" -eq "$want_major" ] && [ "$2" -lt "$want_minor" ]; }; then
	found=$("$go" version 2>/dev/null || echo "an unknown version")
	echo "make: gopherd needs Go $min or later (go.mod), but $go is: $found. $where." >&2
	exit 1
fi
