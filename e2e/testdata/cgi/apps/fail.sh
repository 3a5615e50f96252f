#!/bin/sh
# SOURCE-MARKER
echo "a first line"
exit 4
