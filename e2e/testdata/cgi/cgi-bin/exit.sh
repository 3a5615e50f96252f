#!/bin/sh
# SOURCE-MARKER
# Exits with the status in the query; with a PATH_INFO it prints a line
# first.
if [ -n "$PATH_INFO" ]; then echo "partial output"; fi
exit "${QUERY_STRING:-0}"
