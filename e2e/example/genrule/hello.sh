#!/bin/sh
# The program of the genrule example: what a launcher built by a genrule runs.
echo "hello.sh: $*"
