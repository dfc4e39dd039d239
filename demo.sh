#!/usr/bin/env bash
# Quick start, part 1: install tinylaunch, emit launchers for x86_64 and aarch64, and run
# them against a small runfiles tree, in directory mode and in manifest-only mode.
# The aarch64 launchers run under qemu-aarch64-static; with no binfmt_misc here, the
# program they exec is a host (x86_64) one, which the kernel runs natively.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v qemu-aarch64-static >/dev/null; then
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends qemu-user-static
fi
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q -e .

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin/greet.runfiles/_main/tools" "$work/bin/greet.runfiles/_main/data" "$work/real"
cat > "$work/real/greet" <<'SH'
#!/bin/sh
echo "  argv[0]=$0"
echo "  args:   $*"
echo "  GREETING=$GREETING MSG=$MSG"
echo "  RUNFILES_DIR=${RUNFILES_DIR-<unset>}"
echo "  RUNFILES_MANIFEST_FILE=${RUNFILES_MANIFEST_FILE-<unset>}"
SH
chmod +x "$work/real/greet"
echo "hello" > "$work/real/msg.txt"
ln -s "$work/real/greet" "$work/bin/greet.runfiles/_main/tools/greet"
ln -s "$work/real/msg.txt" "$work/bin/greet.runfiles/_main/data/msg.txt"
printf '_main/tools/greet %s\n_main/data/msg.txt %s\n' "$work/real/greet" "$work/real/msg.txt" \
    > "$work/bin/greet.runfiles_manifest"
cp "$work/bin/greet.runfiles_manifest" "$work/MANIFEST.only"

for arch in x86_64 aarch64; do
    tinylaunch emit --arch "$arch" -o "$work/bin/greet" \
        --program _main/tools/greet --arg-rlocation _main/data/msg.txt \
        --env GREETING=hi --env-rlocation MSG=_main/data/msg.txt
    run=("$work/bin/greet")
    [[ $arch == aarch64 ]] && run=(qemu-aarch64-static "$work/bin/greet")
    echo "== $arch launcher: $(stat -c %s "$work/bin/greet") bytes"
    tinylaunch inspect "$work/bin/greet" | sed -n 1,5p
    echo "-- directory mode (runfiles tree beside the launcher)"
    "${run[@]}" world
    echo "-- manifest only (RUNFILES_MANIFEST_FILE, no tree)"
    mv "$work/bin/greet.runfiles" "$work/bin/hidden.runfiles"
    mv "$work/bin/greet.runfiles_manifest" "$work/bin/hidden.runfiles_manifest"
    env RUNFILES_MANIFEST_FILE="$work/MANIFEST.only" "${run[@]}" world
    mv "$work/bin/hidden.runfiles" "$work/bin/greet.runfiles"
    mv "$work/bin/hidden.runfiles_manifest" "$work/bin/greet.runfiles_manifest"
    echo "-- a path that is not in the runfiles fails closed"
    tinylaunch emit --arch "$arch" -o "$work/bin/greet" --program _main/tools/missing
    "${run[@]}" || echo "  exit status $?"
done
