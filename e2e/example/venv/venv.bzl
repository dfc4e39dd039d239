"""py_venv_binary / py_venv_test: a py_venv_binary-like rule whose launcher is emitted by tinylaunch.

It shows rule authors the helper: `tinylaunch_emit` from a rule implementation.
- `<name>.venv`: a real `python3 -m venv` (TreeArtifact); the launcher's program is
  its `bin/python3`.
- `<name>.site`: the `deps` copied into one folder (TreeArtifact) that PYTHONPATH
  names, so imports work with a runfiles tree and with a manifest only (a TreeArtifact is
  one manifest line; a source folder is not listed in a manifest at all).
- env ops: VIRTUAL_ENV, PATH += venv/bin, PYTHONPATH += site, BAZEL_TARGET and
  BAZEL_TARGET_NAME defaults, PYTHONHOME unset.
- argv0 "resolved": Python finds its venv from argv[0] (pyvenv.cfg beside or above
  it). The "logical" argv[0] is the path through the runfiles folder, which does not
  exist when only a manifest is there (--noenable_runfiles, --nobuild_runfile_links);
  the resolved file is in the venv in every mode.
"""

load("@tinylaunch//bazel:defs.bzl", "TINYLAUNCH_ATTRS", "tinylaunch_emit", "tinylaunch_rlocation")

def _py_venv_impl(ctx):
    venv = ctx.actions.declare_directory(ctx.label.name + ".venv")
    ctx.actions.run_shell(
        outputs = [venv],
        command = 'python3 -m venv --without-pip "$1"',
        arguments = [venv.path],
        mnemonic = "PyVenv",
        progress_message = "Creating the venv of %s" % ctx.label,
        use_default_shell_env = True,  # python3 from PATH, as the system's
    )
    site = ctx.actions.declare_directory(ctx.label.name + ".site")
    ctx.actions.run_shell(
        inputs = ctx.files.deps,
        outputs = [site],
        command = 'site="$1"; shift; mkdir -p "$site" && cp "$@" "$site/"',
        arguments = [site.path] + [f.path for f in ctx.files.deps],
        mnemonic = "PySite",
    )

    launcher = ctx.actions.declare_file(ctx.label.name)
    tinylaunch_emit(
        ctx,
        output = launcher,
        program = tinylaunch_rlocation(ctx, venv, "bin/python3"),
        args = ["-B", "-s", ctx.file.main],  # a File: its rlocation path
        env = [
            {"op": "set", "name": "VIRTUAL_ENV", "value": tinylaunch_rlocation(ctx, venv)},
            {"op": "prepend", "name": "PATH", "value": tinylaunch_rlocation(ctx, venv, "bin")},
            {"op": "prepend", "name": "PYTHONPATH", "value": tinylaunch_rlocation(ctx, site)},
            {"op": "default", "name": "BAZEL_TARGET", "value": str(ctx.label)},
            {"op": "default", "name": "BAZEL_TARGET_NAME", "value": ctx.label.name},
            {"op": "unset", "name": "PYTHONHOME"},
        ],
        argv0 = "resolved",
    )
    runfiles = ctx.runfiles(files = [venv, site, ctx.file.main])
    return [DefaultInfo(executable = launcher, runfiles = runfiles)]

_ATTRS = dict(TINYLAUNCH_ATTRS, **{
    "main": attr.label(allow_single_file = [".py"], mandatory = True),
    "deps": attr.label_list(allow_files = [".py"]),
})

py_venv_binary = rule(implementation = _py_venv_impl, attrs = _ATTRS, executable = True)

py_venv_test = rule(implementation = _py_venv_impl, attrs = _ATTRS, test = True)
