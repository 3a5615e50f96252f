#!/usr/bin/perl
# SOURCE-MARKER: this line must never reach a client.
# Prints the environment, NUL-separated, as `env -0` would: not through a
# shell, which would add PWD and friends of its own.
print map { "$_=$ENV{$_}\0" } sort keys %ENV;
