#!/bin/sh
# bin/hello inside the TreeArtifact: prints what it got, reads a sibling file found
# through $0 (the file the launcher executed) and, when asked, checks its arguments.
set -eu
here=$(dirname "$0")
echo "greeting: $(cat "$here/../share/greeting.txt")"
for arg in "$@"; do
    echo "arg: $arg"
done
echo "RUNFILES_DIR=${RUNFILES_DIR-<unset>}"
echo "RUNFILES_MANIFEST_FILE=${RUNFILES_MANIFEST_FILE-<unset>}"
if [ -n "${GREETING_FILE-}" ]; then
    echo "GREETING_FILE: $(cat "$GREETING_FILE")"
fi
if [ -n "${TREE_EXPECT_ARGS+set}" ] && [ "$*" != "$TREE_EXPECT_ARGS" ]; then
    echo "FAIL: arguments are '$*', expected '$TREE_EXPECT_ARGS'"
    exit 1
fi
echo "tree program ok"
