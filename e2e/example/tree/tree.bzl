"""tree_program: a program that is a file inside a TreeArtifact (ctx.actions.declare_directory).

The launcher names it as `<rlocation of the tree>/bin/hello`: with a runfiles tree that
path exists below RUNFILES_DIR; with a manifest only, the tree is one manifest line and
the launcher resolves the path by its longest listed prefix (SPEC R4).
"""

def _tree_program_impl(ctx):
    tree = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run_shell(
        inputs = [ctx.file.script],
        outputs = [tree],
        command = 'mkdir -p "$1/bin" "$1/share" && cp "$2" "$1/bin/hello" && chmod 0755 "$1/bin/hello"' +
                  ' && printf "%s\\n" "$3" > "$1/share/greeting.txt"',
        arguments = [tree.path, ctx.file.script.path, ctx.attr.greeting],
        mnemonic = "TreeProgram",
    )
    return [DefaultInfo(files = depset([tree]), runfiles = ctx.runfiles([tree]))]

tree_program = rule(
    implementation = _tree_program_impl,
    attrs = {
        "script": attr.label(allow_single_file = True, mandatory = True),
        "greeting": attr.string(mandatory = True),
    },
)
