#!/bin/sh
# SOURCE-MARKER
# Hostile: prints its process group, then prints forever.
echo $$
exec yes 'all work and no play makes jack a dull boy'
