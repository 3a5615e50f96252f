#!/bin/sh
# SOURCE-MARKER
# Hostile: floods stderr with 8 MiB, escape sequences included, then
# answers.
printf '\033[31mred\033]0;title\007\n' >&2
head -c 8388608 /dev/zero | tr '\0' 'E' >&2
echo answered
