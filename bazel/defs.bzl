"""Bazel rules for tinylaunch: emit a tiny static launcher that finds the runfiles and execs a program.

    load("@tinylaunch//bazel:defs.bzl", "tinylaunch_binary", "tinylaunch_test")

    tinylaunch_binary(
        name = "app",
        program = ":app_venv",               # a file, an executable target or a TreeArtifact
        program_path = "bin/python3",        # a path inside program, when it is a TreeArtifact
        args = ["-B", "$(rlocationpath :main.py)"],
        env = {"VIRTUAL_ENV": "$(rlocationpath :app_venv)"},
        env_prepend = {"PATH": "$(rlocationpath :app_venv)/bin"},
        env_default = {"BAZEL_TARGET": "//app:app"},
        data = [":main.py"],
    )

Values (`args` items and env values) are literals, except one that starts with
`$(rlocationpath LABEL)`: it becomes a value the launcher resolves through the runfiles
at run time (SPEC C1 `{"rlocation": ...}`), optionally followed by `/a/path/inside` it
(for a TreeArtifact). In `args`, `$(rlocationpaths LABEL)` alone gives one such argument
per file. Literals get `$(execpath)`/`$(rootpath)`/`$(location)` expansion. LABEL must
be `program` or in `data`. As in Bazel's own `args`, "Make" variables are expanded
too, so a literal `$` is written `$$`. The expansion is done here, in Starlark, so it works on
Bazel versions without a built-in `$(rlocationpath)` (before 5.4) too.

Env ops are applied in this order (SPEC R6), each dict in its own order:
`env_unset`, `env` (set), `env_default`, `env_prepend`, `env_append`.

Rule authors emit a launcher from their own rule implementation with `tinylaunch_emit`
(add `TINYLAUNCH_ATTRS` to the rule's attributes); the values it takes are the JSON
forms of SPEC C1, and `tinylaunch_rlocation(ctx, file)` makes an rlocation value.
"""

ARCHES = ("x86_64", "aarch64")

# Private attributes a rule needs for tinylaunch_emit and tinylaunch_target_arch.
TINYLAUNCH_ATTRS = {
    "_tinylaunch": attr.label(
        default = Label("//:tinylaunch"),
        executable = True,
        cfg = "exec",
        doc = "The emitter (a py_binary running src/tinylaunch/cli.py with the system python3).",
    ),
    "_tinylaunch_cpu_x86_64": attr.label(
        default = Label("@platforms//cpu:x86_64"),
        providers = [platform_common.ConstraintValueInfo],
    ),
    "_tinylaunch_cpu_aarch64": attr.label(
        default = Label("@platforms//cpu:aarch64"),
        providers = [platform_common.ConstraintValueInfo],
    ),
}

_RLOCATIONPATH = "$(rlocationpath "
_RLOCATIONPATHS = "$(rlocationpaths "

def tinylaunch_rlocation_path(ctx, file):
    """The rlocation path of a file (SPEC terms): `<repository>/<path>`, as `$(rlocationpath)` prints it.

    `File.short_path` is `pkg/file` in the main repository and `../repo/pkg/file` in
    another; the main repository's runfiles folder is `ctx.workspace_name` (`_main`
    under bzlmod, the `workspace(name = ...)` in WORKSPACE mode, `__main__` if unnamed).
    """
    if file.short_path.startswith("../"):
        return file.short_path[len("../"):]
    return ctx.workspace_name + "/" + file.short_path

def _join_inside(rlocation, path, what):
    if not path:
        return rlocation
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            fail("%s: %r must be a normalised relative path (no leading or trailing '/', no '//', '.' or '..')" % (what, path))
    return rlocation + "/" + path

def tinylaunch_rlocation(ctx, file, path = ""):
    """The SPEC C1 value `{"rlocation": ...}` for `file`, or for `path` inside it (a TreeArtifact)."""
    return {"rlocation": _join_inside(tinylaunch_rlocation_path(ctx, file), path, "path inside " + file.short_path)}

def tinylaunch_target_arch(ctx):
    """The launcher arch for the target platform's CPU (needs TINYLAUNCH_ATTRS)."""
    if ctx.target_platform_has_constraint(ctx.attr._tinylaunch_cpu_x86_64[platform_common.ConstraintValueInfo]):
        return "x86_64"
    if ctx.target_platform_has_constraint(ctx.attr._tinylaunch_cpu_aarch64[platform_common.ConstraintValueInfo]):
        return "aarch64"
    fail("tinylaunch: the target platform's CPU is neither x86_64 nor aarch64; set arch = \"x86_64\" or \"aarch64\"")

def _spec_value(ctx, value):
    if type(value) == "File":
        return tinylaunch_rlocation(ctx, value)
    return value

def tinylaunch_emit(
        ctx,
        output,
        program,
        args = [],
        env = [],
        arch = None,
        export_runfiles_env = True,
        argv0 = "logical"):
    """Register the action that emits a launcher into `output`; needs TINYLAUNCH_ATTRS on the rule.

    Args:
      ctx: the rule context.
      output: the File to write (declare it; it is written with mode 0755).
      program: the program: a File (its rlocation path is used), or a SPEC C1 program
        value: `{"rlocation": "repo/path"}` or `{"path": "/abs/path"}`.
      args: embedded arguments: strings (literals), Files or `{"rlocation": ...}` values.
      env: env ops in SPEC C1 form, applied in order, e.g.
        `{"op": "prepend", "name": "PATH", "value": tinylaunch_rlocation(ctx, venv, "bin")}`;
        a value may also be a File.
      arch: "x86_64" or "aarch64"; None: the target platform's CPU.
      export_runfiles_env: SPEC R7.
      argv0: "logical", "resolved", "launcher" or {"literal": NAME} (SPEC R5).

    Returns:
      output. The launcher needs the program (and what it reads) in its runfiles:
      that is up to the calling rule.
    """
    if arch == None:
        arch = tinylaunch_target_arch(ctx)
    if arch not in ARCHES:
        fail("tinylaunch: arch %r: expected one of %s" % (arch, ", ".join(ARCHES)))
    ops = []
    for op in env:
        op = dict(op)
        if "value" in op:
            op["value"] = _spec_value(ctx, op["value"])
        ops.append(op)
    spec = {
        "program": _spec_value(ctx, program),
        "args": [_spec_value(ctx, a) for a in args],
        "env": ops,
        "export_runfiles_env": export_runfiles_env,
        "argv0": argv0,
    }
    spec_file = ctx.actions.declare_file(output.basename + ".tinylaunch.json", sibling = output)
    ctx.actions.write(spec_file, json.encode(spec) + "\n")
    ctx.actions.run(
        executable = ctx.executable._tinylaunch,
        arguments = ["emit", "--arch", arch, "-o", output.path, "--spec", spec_file.path],
        inputs = [spec_file],
        outputs = [output],
        mnemonic = "TinylaunchEmit",
        # The emitter is a py_binary: its stub finds the interpreter on PATH (Bazel
        # 4.2.3's stub starts with "#!/usr/bin/env python"), as in a genrule.
        use_default_shell_env = True,
        progress_message = "Emitting %s launcher %s" % (arch, output.short_path),
    )
    return output

# ---------------------------------------------------------------- the rules

def _one_file(target, what):
    files = target[DefaultInfo].files.to_list()
    if len(files) == 1:
        return files[0]
    executable = target[DefaultInfo].files_to_run.executable
    if executable != None:
        return executable
    fail("%s: %s has %d files, expected one (use $(rlocationpaths ...) in args for several)" % (what, target.label, len(files)))

def _split_rlocation_ref(text, prefix, what):
    """`$(rlocationpath LABEL)/rest` -> (LABEL, rest); rest is "" or what follows the '/'."""
    end = text.find(")")
    if end < 0:
        fail("%s: %r: unterminated %s...)" % (what, text, prefix.strip()))
    label = text[len(prefix):end].strip()
    rest = text[end + 1:]
    if rest and not rest.startswith("/"):
        fail("%s: %r: after %s...) only '/a/path/inside' may follow (an rlocation value cannot be joined with a literal)" % (what, text, prefix.strip()))
    return label, rest[1:]

def _target_for(ctx, targets, label_text, what):
    label = ctx.label.relative(label_text)
    for target in targets:
        if target.label == label:
            return target
    fail("%s: %s is not the program or in data" % (what, label_text))

def _expand(ctx, targets, text, what, many = False):
    """A list of SPEC C1 values for one attribute string (one unless `many` and $(rlocationpaths))."""
    if text.startswith(_RLOCATIONPATH):
        label, rest = _split_rlocation_ref(text, _RLOCATIONPATH, what)
        file = _one_file(_target_for(ctx, targets, label, what), what)
        return [tinylaunch_rlocation(ctx, file, rest)]
    if text.startswith(_RLOCATIONPATHS):
        label, rest = _split_rlocation_ref(text, _RLOCATIONPATHS, what)
        if not many or rest:
            fail("%s: %r: $(rlocationpaths ...) is allowed only as a whole item of args" % (what, text))
        return [tinylaunch_rlocation(ctx, f) for f in _target_for(ctx, targets, label, what)[DefaultInfo].files.to_list()]
    if "$(rlocationpath" in text:
        fail("%s: %r: $(rlocationpath ...) must start the value (an rlocation value cannot be joined with a literal)" % (what, text))
    # As Bazel expands the args of its own rules: locations, then "Make" variables ($$ is $).
    return [ctx.expand_make_variables(what, ctx.expand_location(text, targets), {})]

def _launcher_impl(ctx):
    targets = [ctx.attr.program] + ctx.attr.data
    program_file = ctx.attr.program[DefaultInfo].files_to_run.executable or _one_file(ctx.attr.program, "program")
    if ctx.attr.program_path and not program_file.is_directory:
        fail("program_path %r: program %s is not a directory (a TreeArtifact)" % (ctx.attr.program_path, ctx.attr.program.label))
    program = tinylaunch_rlocation(ctx, program_file, ctx.attr.program_path)

    args = []
    for index, text in enumerate(ctx.attr.program_args):
        args.extend(_expand(ctx, targets, text, "args[%d]" % index, many = True))

    env = [{"op": "unset", "name": name} for name in ctx.attr.env_unset]
    for attribute, op in [("env_set", "set"), ("env_default", "default"), ("env_prepend", "prepend"), ("env_append", "append")]:
        for name, text in getattr(ctx.attr, attribute).items():
            what = "%s[%r]" % ("env" if attribute == "env_set" else attribute, name)
            item = {"op": op, "name": name, "value": _expand(ctx, targets, text, what)[0]}
            if op in ("prepend", "append") and name in ctx.attr.env_separator:
                item["separator"] = ctx.attr.env_separator[name]
            env.append(item)

    argv0 = ctx.attr.argv0
    if argv0.startswith("="):
        argv0 = {"literal": argv0[1:]}

    launcher = ctx.actions.declare_file(ctx.label.name)
    tinylaunch_emit(
        ctx,
        output = launcher,
        program = program,
        args = args,
        env = env,
        arch = ctx.attr.arch or None,
        export_runfiles_env = ctx.attr.export_runfiles_env,
        argv0 = argv0,
    )

    runfiles = ctx.runfiles(files = [program_file] + ctx.files.data)
    for target in targets:
        runfiles = runfiles.merge(target[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = launcher, files = depset([launcher]), runfiles = runfiles)]

_LAUNCHER_ATTRS = dict(TINYLAUNCH_ATTRS, **{
    "program": attr.label(
        mandatory = True,
        allow_files = True,
        doc = "The program: a file, an executable target (its executable) or a TreeArtifact (with program_path).",
    ),
    "program_path": attr.string(doc = "A path inside program when it is a directory (TreeArtifact), e.g. bin/python3."),
    "program_args": attr.string_list(doc = "Embedded arguments (the macros' `args`)."),
    "env_set": attr.string_dict(doc = "Variables to set (the macros' `env`)."),
    "env_default": attr.string_dict(doc = "Variables to set unless present (an empty value counts as present)."),
    "env_prepend": attr.string_dict(doc = "Prepend to a variable, joined by env_separator (default ':') when it is non-empty."),
    "env_append": attr.string_dict(doc = "Append to a variable, like env_prepend."),
    "env_separator": attr.string_dict(doc = "NAME -> separator for env_prepend/env_append (default ':')."),
    "env_unset": attr.string_list(doc = "Variables to remove."),
    "data": attr.label_list(allow_files = True, doc = "Runfiles of the launcher, besides the program and its runfiles."),
    "arch": attr.string(values = ["", "x86_64", "aarch64"], doc = "The launcher's arch; empty: the target platform's CPU."),
    "export_runfiles_env": attr.bool(default = True, doc = "SPEC R7: export RUNFILES_DIR / RUNFILES_MANIFEST_FILE."),
    "argv0": attr.string(default = "logical", doc = "logical, resolved, launcher or =LITERAL (SPEC R5)."),
})

tinylaunch_launcher = rule(
    implementation = _launcher_impl,
    attrs = _LAUNCHER_ATTRS,
    executable = True,
    doc = "A launcher for `program` (use the tinylaunch_binary macro, which names the attributes args and env).",
)

tinylaunch_launcher_test = rule(
    implementation = _launcher_impl,
    attrs = _LAUNCHER_ATTRS,
    test = True,
    doc = "A test whose executable is a launcher for `program` (use the tinylaunch_test macro).",
)

def _macro_kwargs(args, env, kwargs):
    for reserved in ("program_args", "env_set"):
        if reserved in kwargs:
            fail("use args/env, not %s" % reserved)
    return dict(kwargs, program_args = args or [], env_set = env or {})

def tinylaunch_binary(name, args = None, env = None, **kwargs):
    """A launcher that `bazel run` and `bazel-bin/` run; `args` and `env` are embedded in it.

    Unlike other *_binary rules, `args` and `env` are not passed by `bazel run` only: they
    are part of the launcher, so they apply wherever it runs.
    """
    tinylaunch_launcher(name = name, **_macro_kwargs(args, env, kwargs))

def tinylaunch_test(name, args = None, env = None, **kwargs):
    """A test whose executable is a launcher; `args` and `env` are embedded like tinylaunch_binary's."""
    tinylaunch_launcher_test(name = name, **_macro_kwargs(args, env, kwargs))
