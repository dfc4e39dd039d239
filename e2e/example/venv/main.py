"""The script of //venv:app and //venv:app_test: checks it runs in its venv.

- sys.prefix is VIRTUAL_ENV (the venv TreeArtifact, through the runfiles or not), and
  not the base interpreter's prefix;
- python3 on PATH is the venv's;
- greeting is imported from PYTHONPATH's first entry (the .site TreeArtifact), not
  from beside this script;
- BAZEL_TARGET defaults to the target's label unless the caller set it.
Prints a report, then "venv ok", or the first mismatch and exit status 1.
"""
import json
import os
import shutil
import sys


def fail(what):
    print("FAIL: " + what)
    sys.exit(1)


def main():
    env = os.environ
    import greeting

    venv = env.get("VIRTUAL_ENV", "")
    site = env.get("PYTHONPATH", "").split(os.pathsep)[0]
    which = shutil.which("python3") or ""
    print(json.dumps({
        "sys.prefix": sys.prefix,
        "sys.base_prefix": sys.base_prefix,
        "sys.executable": sys.executable,
        "VIRTUAL_ENV": venv,
        "PYTHONPATH": env.get("PYTHONPATH"),
        "which python3": which,
        "greeting.__file__": greeting.__file__,
        "BAZEL_TARGET": env.get("BAZEL_TARGET"),
        "BAZEL_TARGET_NAME": env.get("BAZEL_TARGET_NAME"),
        "argv": sys.argv,
    }, indent=1))
    print("greeting: " + greeting.GREETING)
    if not venv or not os.path.isdir(venv):
        fail("VIRTUAL_ENV %r is not a folder" % venv)
    if sys.prefix != venv:
        fail("sys.prefix %r is not VIRTUAL_ENV %r" % (sys.prefix, venv))
    if sys.prefix == sys.base_prefix:
        fail("sys.prefix is the base prefix: not in a venv")
    if not os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
        fail("no pyvenv.cfg in VIRTUAL_ENV")
    if os.path.dirname(which) != os.path.join(venv, "bin"):
        fail("python3 on PATH is %r, not the venv's" % which)
    if os.path.dirname(greeting.__file__) != site:
        fail("greeting comes from %r, not from PYTHONPATH's first entry %r" % (greeting.__file__, site))
    want_target = env.get("EXPECT_BAZEL_TARGET")
    if want_target and env.get("BAZEL_TARGET") != want_target:
        fail("BAZEL_TARGET is %r, expected %r" % (env.get("BAZEL_TARGET"), want_target))
    if not env.get("BAZEL_TARGET", "").endswith(":" + env.get("BAZEL_TARGET_NAME", "?")) and not want_target:
        fail("BAZEL_TARGET %r does not name %r" % (env.get("BAZEL_TARGET"), env.get("BAZEL_TARGET_NAME")))
    print("venv ok")


if __name__ == "__main__":
    main()
