#!/usr/bin/env python3
"""The program of //args:args_test and //args:args_bin: checks what the launcher gave it.

argv: argv[0], the embedded args of args/BUILD.bazel, then the launcher's own arguments,
which must equal the JSON list in EXPECT_RUNTIME_ARGS (a default of the launcher: "[]").
Env: the ops of args/BUILD.bazel, applied to whatever the caller had. Prints a report,
then "args check ok", or the first mismatch and exit status 1.
"""
import json
import os
import sys

EMBEDDED = ["--literal", "with space", "h\u00e9llo", "$dollar", ""]
# then the data file, the two files of :pair (check.py, data.txt), then the runtime args
FILES = 3


def fail(what: str) -> None:
    print(f"FAIL: {what}")
    sys.exit(1)


def check_file(path: str, what: str) -> None:
    if not os.path.isabs(path):
        fail(f"{what}: {path!r} is not absolute")
    with open(path) as data:
        if data.read() != "data file of //args\n":
            fail(f"{what}: {path!r} has the wrong content")


def main() -> None:
    argv = sys.argv
    env = os.environ
    report = {"argv": argv, "env": {name: env.get(name) for name in sorted(env) if name.startswith("ARGS_")}}
    for name in ("RUNFILES_DIR", "RUNFILES_MANIFEST_FILE", "JAVA_RUNFILES", "BAZEL_TARGET"):
        report["env"][name] = env.get(name)
    print(json.dumps(report, indent=1, ensure_ascii=False))

    runtime = json.loads(env.get("EXPECT_RUNTIME_ARGS", "null"))
    if runtime is None:
        fail("EXPECT_RUNTIME_ARGS: missing (env_default should have set it)")
    want_len = 1 + len(EMBEDDED) + FILES + len(runtime)
    if len(argv) != want_len:
        fail(f"argc is {len(argv)}, expected {want_len}")
    if argv[1:1 + len(EMBEDDED)] != EMBEDDED:
        fail(f"embedded args are {argv[1:1 + len(EMBEDDED)]!r}, expected {EMBEDDED!r}")
    data, pair_check, pair_data = argv[1 + len(EMBEDDED):1 + len(EMBEDDED) + FILES]
    check_file(data, "the $(rlocationpath :data.txt) arg")
    if not (pair_check.endswith("/args/check.py") and os.path.samefile(pair_check, __file__)):
        fail(f"the first $(rlocationpaths :pair) arg {pair_check!r} is not check.py")
    check_file(pair_data, "the second $(rlocationpaths :pair) arg")
    if argv[1 + len(EMBEDDED) + FILES:] != runtime:
        fail(f"runtime args are {argv[1 + len(EMBEDDED) + FILES:]!r}, expected {runtime!r}")

    if env.get("ARGS_SET") != "set by the launcher":
        fail(f"ARGS_SET is {env.get('ARGS_SET')!r}")
    check_file(env.get("ARGS_DATA", ""), "ARGS_DATA")
    external = env.get("ARGS_EXTERNAL", "")    # a file of another repository: tinylaunch/MODULE.bazel
    if not (os.path.isabs(external) and os.path.isfile(external)):
        fail(f"ARGS_EXTERNAL: {external!r} is not an absolute path to a file")
    with open(external) as module:
        if 'name = "tinylaunch"' not in module.read():
            fail(f"ARGS_EXTERNAL: {external!r} is not @tinylaunch//:MODULE.bazel")
    want_default = env.get("EXPECT_ARGS_DEFAULT", "launcher default")
    if env.get("ARGS_DEFAULT") != want_default:
        fail(f"ARGS_DEFAULT is {env.get('ARGS_DEFAULT')!r}, expected {want_default!r}")
    middle = env.get("EXPECT_ARGS_LIST_MIDDLE")
    want_list = ",".join(["front", *([middle] if middle else []), "back"])
    if env.get("ARGS_LIST") != want_list:
        fail(f"ARGS_LIST is {env.get('ARGS_LIST')!r}, expected {want_list!r}")
    if "ARGS_GONE" in env:
        fail("ARGS_GONE is still set (env_unset)")
    if not (env.get("RUNFILES_DIR") or env.get("RUNFILES_MANIFEST_FILE")):
        fail("neither RUNFILES_DIR nor RUNFILES_MANIFEST_FILE is exported")
    print("args check ok")


if __name__ == "__main__":
    main()
