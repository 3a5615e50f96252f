#!/bin/sh
# deb-version.sh VERSION: turn the version "make" builds with (git describe
# output, the VERSION file or "dev") into a Debian version, which must start
# with a digit and may not contain "-" without a Debian revision.
#   v1.2.3                -> 1.2.3
#   v1.2.3-4-gabc1234     -> 1.2.3+4.gabc1234   (4 commits after v1.2.3)
#   v1.2.3-dirty          -> 1.2.3+dirty
#   abc1234 (no tag yet)  -> 0.0~git.abc1234    (sorts before any release)
#   1234567-dirty         -> 0.0~git.1234567.dirty
set -eu
v=${1:?usage: deb-version.sh VERSION}
# A release version has a dot: "git describe --always" can print an
# abbreviated hash made of digits only, which is not a version.
case ${v#v} in
[0-9]*.[0-9]*)
	v=${v#v}
	base=${v%%-*}
	rest=${v#"$base"}
	rest=${rest#-}
	if [ -n "$rest" ]; then
		printf '%s+%s\n' "$base" "$(printf '%s' "$rest" | tr -- '-' '.')"
	else
		printf '%s\n' "$base"
	fi
	;;
*)
	printf '0.0~git.%s\n' "$(printf '%s' "$v" | tr -- '-' '.' | tr -cd 'A-Za-z0-9.+~')"
	;;
esac
