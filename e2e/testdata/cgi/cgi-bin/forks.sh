#!/bin/sh
# SOURCE-MARKER
# Hostile: ignores SIGTERM (and so do its children), forks sleepers that
# hold stdout, one of them from a subshell that exits, and never ends.
trap '' TERM
echo $$
sleep 1000 &
sleep 1000 &
(sleep 1000 &)
while :; do sleep 1; done
