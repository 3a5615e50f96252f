#!/bin/sh
# SOURCE-MARKER
# Holds a concurrency slot until the file named by RELEASE_FILE (set
# through cgi.env) exists.
echo running
while [ ! -e "$RELEASE_FILE" ]; do sleep 0.05; done
echo released
