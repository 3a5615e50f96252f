#!/bin/sh
# version.sh: print the version gopherd is built as, which is also the
# Debian package's and the Nix package's version.
#
#   the commit tagged v<VERSION>    -> <VERSION>                        0.1.0
#   any other commit                -> <VERSION>+git<time>.<hash>       0.1.0+git20261202131110.5fba0a6a1b2c
#   uncommitted changes to tracked files add ".dirty" (or "+dirty" to a release)
#   no git, or not a checkout       -> <VERSION>
#
# <time> is the commit time in UTC (YYYYMMDDHHMMSS), so that later commits
# sort higher (dpkg --compare-versions, and semver's precedence ignores the
# "+" part but Debian's does not); <hash> is always 12 digits, whatever the
# size of the repository. The answer depends on the commit and the tree
# only: git is asked with safe.directory set, so that a checkout owned by
# another user (sudo make install, a CI container) gives the same answer
# instead of none.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
base=$(tr -d ' \n' < "$top/VERSION")
case $base in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "version.sh: VERSION holds '$base', not a version like 0.1.0" >&2; exit 1 ;;
esac

g() { git -C "$top" -c safe.directory='*' "$@"; }
if ! command -v git >/dev/null 2>&1 || ! g rev-parse --verify -q HEAD >/dev/null 2>&1; then
	printf '%s\n' "$base"
	exit 0
fi
if g describe --exact-match --tags --match "v$base" HEAD >/dev/null 2>&1; then
	v=$base
	sep=+
else
	when=$(TZ=UTC0 g log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
	hash=$(g rev-parse --short=12 HEAD)
	v=$base+git$when.$hash
	sep=.
fi
if [ -n "$(g status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	v=$v${sep}dirty
fi
printf '%s\n' "$v"
