#!/bin/sh
# changelog.sh VERSION MAINTAINER EPOCH: the Debian changelog of a package
# built from this tree. gopherd is packaged natively (the version has no
# Debian revision), so there is one entry: this build, dated by the commit
# (SOURCE_DATE_EPOCH), so that the same commit gives the same file.
set -eu
version=$1 maintainer=$2 epoch=$3
date=$(LC_ALL=C date -u -d "@$epoch" -R)
cat <<CHANGELOG
gopherd ($version) unstable; urgency=medium

  * Built by "make deb" from gopherd's source tree; the changes are in
    the project's git history.

 -- $maintainer  $date
CHANGELOG
