"""The scenario table: written once, run by every runner (DESIGN.md "The tests").

A scenario is a world (tests/worlds.py), a spec, how the launcher is invoked (the path
given to execve, i.e. its AT_EXECFN; argv; environment; working directory) and the
outcome it is built to show. The expected result of a run never lives here: runners
ask the reference model (``tinylaunch.model.run``) and, for the final execve, the
kernel itself. ``outcome`` is only the scenario's intent ("exec", or the exit status
it is meant to end with; None when the host decides, e.g. near the argv/env size
limit); a model-only test checks that the model agrees, so a scenario cannot quietly
stop testing what its name says.

Runners: ``native`` (x86_64 on the host), ``qemu`` (qemu-user: aarch64, and x86_64 as
the qemu runner's own check), ``unicorn`` (the emulator, both arches), ``chroot``
(native, in a root holding only the world). ``cannot`` names the runners a scenario is
not meant for and why. ``data_limit`` is an RLIMIT_DATA the launcher runs under (R10:
memory must not grow with the manifest); a runner that cannot impose it may count the
launcher's private writable mappings instead. ``cwd_deleted``: the working directory is
removed before the launcher starts, so getcwd fails with ENOENT.

``PENDING`` (end of file) lists, per arch, the scenarios the launcher code cannot pass
yet; runners mark those xfail(strict=True), so a feature that lands turns them into
XPASS failures until the entry is removed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Optional, Union

from tinylaunch import features
from tinylaunch.features import Features
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec
from spec_examples import C1_EXAMPLE
from worlds import (
    ROOT, Dir, File, Launcher, Node, Probe, Symlink, at, manifest_line, subst,
)

RUNNERS = ("native", "qemu", "unicorn", "chroot")

# Why some runners cannot set up a scenario.
QEMU_ENV = ("qemu-user rebuilds the guest environment from its own: one entry per name, "
            "none without '='")
QEMU_ARGC0 = "qemu-user always gives the guest an argv[0]"
KERNEL_EXECFN = "the kernel always puts AT_EXECFN in the auxiliary vector"
QEMU_MEMORY = "qemu-user itself needs more memory than the scenario's RLIMIT_DATA"
HOST_ONLY = "depends on the host kernel's execve (binfmt handlers, argv/env limits)"


@dataclass(frozen=True)
class Scenario:
    name: str
    rules: str                          # the SPEC rules (and acceptance items) it exercises
    world: tuple[Node, ...]
    spec: Spec
    execfn: Optional[str] = ROOT + "/bin/app"   # execve path = AT_EXECFN; None: no AT_EXECFN
    argv: Optional[tuple[str, ...]] = None      # the launcher's argv; None: (execfn,)
    env: tuple[str, ...] = ()
    cwd: str = ""                               # relative to the world's root
    outcome: Union[str, int, None] = "exec"
    cannot: Mapping[str, str] = field(default_factory=dict)
    data_limit: Optional[int] = None            # RLIMIT_DATA (bytes) the launcher runs under
    cwd_deleted: bool = False                   # the cwd is removed before the launcher starts
    doc: str = ""

    def launcher_argv(self) -> tuple[str, ...]:
        return (self.execfn or "",) if self.argv is None else self.argv


# --- building worlds ---------------------------------------------------------------

APP = "bin/app"                        # the usual launcher
RF = ROOT + "/" + APP + ".runfiles"    # its runfiles directory, as the launcher spells it
P = "_main/app/prog"                   # the usual program
PROG = Rlocation(P)
BASE_ENV = ("HOME=/home/user", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8")


@dataclass(frozen=True)
class Tree:
    """A TreeArtifact: a directory listed once in the manifest."""
    files: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True)
class Empty:
    """An empty file: in the manifest a link with no target (``space``: ``link `` with
    the space, else ``link`` alone); in the tree a real empty file."""
    space: bool = False


@dataclass(frozen=True)
class Missing:
    """A runfile whose real file is gone: a dangling tree symlink, a manifest line to a
    path that does not exist."""


NOT_EXEC = File(data=b"#!/bin/sh\necho this must not run\n", mode=0o644)


def runfiles(entries: Mapping[str, object], *, tree: str | None = None,
             manifests: tuple[str, ...] = (), out: str = "out",
             before: bytes = b"", after: bytes = b"") -> list[Node]:
    """A Bazel-like runfiles set: each rlocation's real file under ``out/``; a tree of
    absolute symlinks to them at ``tree``; the same set as manifest lines (sorted, as
    Bazel writes them) in each of ``manifests``, between ``before`` and ``after``."""
    nodes: list[Node] = []
    lines = []
    for rloc, kind in entries.items():
        real = f"{out}/{rloc}"
        if isinstance(kind, Empty):
            if tree:
                nodes.append(File(f"{tree}/{rloc}"))
            lines.append(manifest_line(rloc, "" if kind.space else None))
            continue
        if isinstance(kind, Tree):
            nodes += [at(node, f"{real}/{rel}") for rel, node in kind.files] or [Dir(real)]
        elif not isinstance(kind, Missing):
            nodes.append(at(kind, real))
        if tree:
            nodes.append(Symlink(f"{tree}/{rloc}", f"{ROOT}/{real}"))
        lines.append(manifest_line(rloc, f"{ROOT}/{real}"))
    if tree and not entries:
        nodes.append(Dir(tree))
    data = before + b"".join(sorted(lines)) + after
    nodes += [File(m, data) for m in manifests]
    return nodes


LAYOUTS = ("dir", "manifest", "both", "tree+MANIFEST", "MANIFEST")


def bazel(exe: str, entries: Mapping[str, object], layout: str = "both", **kw) -> list[Node]:
    """The runfiles of the binary ``exe`` in one of Bazel's layouts:
    ``dir`` the symlink tree only; ``manifest`` only ``exe.runfiles_manifest``
    (--noenable_runfiles); ``both`` the tree, ``exe.runfiles/MANIFEST`` and
    ``exe.runfiles_manifest`` (Linux default); ``tree+MANIFEST`` the tree and its
    MANIFEST; ``MANIFEST`` a directory holding only MANIFEST (--nobuild_runfile_links)."""
    tree = exe + ".runfiles" if layout in ("dir", "both", "tree+MANIFEST") else None
    manifests = {
        "dir": (), "manifest": (exe + ".runfiles_manifest",),
        "both": (exe + ".runfiles/MANIFEST", exe + ".runfiles_manifest"),
        "tree+MANIFEST": (exe + ".runfiles/MANIFEST",), "MANIFEST": (exe + ".runfiles/MANIFEST",),
    }[layout]
    return runfiles(entries, tree=tree, manifests=manifests, **kw)


def world(*parts) -> tuple[Node, ...]:
    out: list[Node] = []
    for part in parts:
        out += part if isinstance(part, (list, tuple)) else [part]
    return tuple(out)


def app(entries: Mapping[str, object] = None, layout: str = "both", **kw) -> tuple[Node, ...]:
    """The usual world: the launcher at bin/app with its runfiles."""
    return world(Launcher(APP), bazel(APP, {P: Probe()} if entries is None else entries, layout, **kw))


def chain(n: int, link: str = P) -> bytes:
    """Manifest lines for ``link`` reached through ``n`` relative hops: ``link`` points
    to ../hops/h1, each _main/hops/h<i> (i < n) to ../hops/h<i+1>, and _main/hops/h<n>
    to the probe (absolute)."""
    lines = [manifest_line(link, "../hops/h1")]
    for i in range(1, n):
        lines.append(manifest_line(f"_main/hops/h{i}", f"../hops/h{i + 1}"))
    lines.append(manifest_line(f"_main/hops/h{n}", f"{ROOT}/out/prog"))
    return b"".join(lines)


def manifest_app(data: bytes, *extra: Node, name: str = APP + ".runfiles_manifest") -> tuple[Node, ...]:
    """Manifest-only world with hand-written manifest bytes; the probe at out/prog."""
    return world(Launcher(APP), Probe("out/prog"), File(name, data), *extra)


# --- the SPEC C1 example -------------------------------------------------------------

C1_SPEC = C1_EXAMPLE
C1_ENTRIES = {
    # The venv is a TreeArtifact: one manifest line, its files reached by prefix.
    "_main/app/app.venv": Tree((("bin/python", Probe()), ("pyvenv.cfg", File(data=b"home = /usr/bin\n")))),
    "_main/app/main.py": File(data=b"print('hello')\n"),
    "rules_python~~python~python_3_11/bin/python3": Probe(),
}
C1_ENV = BASE_ENV + ("PYTHONHOME=/opt/wrong", "TERM=dumb")


# --- the table -----------------------------------------------------------------------

SCENARIOS: list[Scenario] = []


def instantiate(spec: Spec, root: str) -> Spec:
    """The spec with ``ROOT`` in its literal values replaced by ``root``."""
    def value(v):
        return Literal(subst(v.text, root)) if isinstance(v, Literal) else v
    argv0 = Argv0Literal(subst(spec.argv0.text, root)) if isinstance(spec.argv0, Argv0Literal) else spec.argv0
    return replace(spec, program=value(spec.program), args=tuple(value(v) for v in spec.args),
                   env=tuple(replace(op, value=value(op.value)) if op.value is not None else op for op in spec.env),
                   argv0=argv0)


def scenario(name: str, rules: str, world: tuple[Node, ...], spec: Spec = Spec(PROG), **kw) -> None:
    kw.setdefault("env", BASE_ENV)
    SCENARIOS.append(Scenario(name, rules, world, spec, **kw))


# R1: start with anything the kernel may hand over.
scenario("minimal", "R3 R4 R5 R7", app())
scenario("env_i", "R1 env -i", app(), env=())
scenario("argc0", "R1 argc==0", app(), argv=(), cannot={"qemu": QEMU_ARGC0},
         doc="Linux >= 5.18 turns an empty argv into [\"\"]; the native runner models that.")
scenario("argc0_argv0_launcher", "R1 R5 argc==0", app(), Spec(PROG, argv0="launcher"), argv=(),
         cannot={"qemu": QEMU_ARGC0})
scenario("env_entries_without_equals", "R1 R6", app(),
         Spec(PROG, env=(EnvOp("set", "X", Literal("3")), EnvOp("unset", "PLAIN"),
                         EnvOp("default", "PLAIN", Literal("v")), EnvOp("default", "HOME", Literal("/nope")))),
         env=("PLAIN", "HOME=/h", "=weird", "X=1", "PLAIN", "X=2", "X"), cannot={"qemu": QEMU_ENV})
scenario("no_execfn", "R1 R3", app(), execfn=None, argv=("app",),
         env=BASE_ENV + (f"RUNFILES_DIR={RF}",),
         cannot={"native": KERNEL_EXECFN, "qemu": KERNEL_EXECFN, "chroot": KERNEL_EXECFN})
scenario("no_execfn_tier2_skipped", "R1 R3 R8", app(), execfn=None, argv=("app",), outcome=127,
         cannot={"native": KERNEL_EXECFN, "qemu": KERNEL_EXECFN, "chroot": KERNEL_EXECFN})

# R2: discovery only when needed; failing it matters only for a value to resolve.
scenario("literal_program_export_off", "R2",
         world(Launcher(APP), Probe("tools/probe")),
         Spec(Literal(ROOT + "/tools/probe"), args=(Literal("x"),), export_runfiles_env=False))
scenario("literal_program_export_on_no_runfiles", "R2 R7",
         world(Launcher(APP), Probe("tools/probe")), Spec(Literal(ROOT + "/tools/probe")),
         env=BASE_ENV + ("RUNFILES_DIR=/nonexistent", "JAVA_RUNFILES=/stale"))
scenario("literal_program_export_on_with_runfiles", "R2 R5 R7",
         world(app(), Probe("tools/probe")), Spec(Literal(ROOT + "/tools/probe")))
scenario("no_runfiles", "R2 R8", world(Launcher(APP)), outcome=127)
scenario("no_runfiles_export_off", "R2 R8", world(Launcher(APP)),
         Spec(PROG, export_runfiles_env=False), outcome=127)

# R3 tier 1: the environment.
scenario("tier1_dir_beats_tier2", "R3",
         world(app({P: NOT_EXEC}, "dir"), runfiles({P: Probe()}, tree="rf1", out="out1")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf1",))
scenario("tier1_manifest_other_name", "R3 R5 R7",
         world(app({P: NOT_EXEC}, "dir"), runfiles({P: Probe()}, manifests=("m/app.manifest",), out="out1")),
         env=BASE_ENV + (f"RUNFILES_MANIFEST_FILE={ROOT}/m/app.manifest", "JAVA_RUNFILES=/stale"),
         doc="no directory can be derived from the name: argv0 is the resolved path, "
             "RUNFILES_DIR/JAVA_RUNFILES removed")
scenario("tier1_manifest_runfiles_manifest_name", "R3 R5 R7",
         world(Launcher(APP), bazel("other/tool", {P: Probe()}, "both")),
         env=BASE_ENV + (f"RUNFILES_MANIFEST_FILE={ROOT}/other/tool.runfiles_manifest",))
scenario("tier1_manifest_MANIFEST_name", "R3 R5 R7",
         world(Launcher(APP), runfiles({P: Probe()}, manifests=("m1/MANIFEST",), out="out1")),
         env=BASE_ENV + (f"RUNFILES_MANIFEST_FILE={ROOT}/m1/MANIFEST",),
         doc="X/MANIFEST names the directory X, which exists: exported as RUNFILES_DIR")
scenario("tier1_both_directory_wins", "R3 R4 R7 acceptance:both-env-sources",
         world(Launcher(APP), runfiles({P: Probe()}, tree="rf1", out="out1"),
               runfiles({P: NOT_EXEC}, manifests=("m1/MANIFEST",), out="out2")),
         env=BASE_ENV + (f"RUNFILES_MANIFEST_FILE={ROOT}/m1/MANIFEST", f"RUNFILES_DIR={ROOT}/rf1"),
         doc="the directory resolves everything: RUNFILES_MANIFEST_FILE is scrubbed")
scenario("tier1_both_manifest_used", "R3 R4 R7",
         world(Launcher(APP), runfiles({"_main/data/a.txt": File(data=b"a")}, tree="rf1", out="out1"),
               runfiles({P: Probe()}, manifests=("m1/MANIFEST",), out="out2")),
         Spec(PROG, args=(Rlocation("_main/data/a.txt"),)),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf1", f"RUNFILES_MANIFEST_FILE={ROOT}/m1/MANIFEST"))
scenario("tier1_empty_values", "R3", app(),
         env=BASE_ENV + ("RUNFILES_DIR=", "RUNFILES_MANIFEST_FILE="))
scenario("tier1_wrong_types", "R3",
         world(app(), File("not_a_dir", b"x"), Dir("not_a_file")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/not_a_dir", f"RUNFILES_MANIFEST_FILE={ROOT}/not_a_file"))
scenario("tier1_missing_paths", "R3", app(),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/nope", f"RUNFILES_MANIFEST_FILE={ROOT}/nope.manifest"))
scenario("tier1_first_occurrence", "R3",
         world(app(), runfiles({P: NOT_EXEC}, tree="rf1", out="out1")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/nope", f"RUNFILES_DIR={ROOT}/rf1"),
         cannot={"qemu": QEMU_ENV}, doc="the first RUNFILES_DIR is not a directory: tier 2")
scenario("tier1_relative_paths", "R3 R7",
         world(Launcher(APP), runfiles({"_main/data/a.txt": File(data=b"a")}, tree="rf1", out="out1"),
               runfiles({P: Probe()}, manifests=("rf1_manifest",), out="out2")),
         Spec(PROG, args=(Rlocation("_main/data/a.txt"),)),
         env=BASE_ENV + ("RUNFILES_DIR=././rf1", "RUNFILES_MANIFEST_FILE=rf1_manifest"),
         doc="relative sources become cwd + '/' + path, leading './' removed")
scenario("tier1_symlinked_dir_not_resolved", "R3 R4 R7",
         world(Launcher(APP), runfiles({P: Probe()}, tree="real_rf", out="out1"), Symlink("rf1", "real_rf")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf1",))
scenario("tier1_beats_tier3", "R3",
         world(runfiles({P: NOT_EXEC}, tree="bin/outer.runfiles", out="out0"),
               Launcher("bin/outer.runfiles/_main/tools/inner"), runfiles({P: Probe()}, tree="rf1", out="out1")),
         execfn=ROOT + "/bin/outer.runfiles/_main/tools/inner",
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf1",))

# R3 tier 2: beside the launcher.
scenario("tier2_dir", "R3", app(layout="dir"))
scenario("tier2_manifest_only", "R3 R5 R7", app(layout="manifest"),
         env=BASE_ENV + ("RUNFILES_DIR=", "JAVA_RUNFILES=/stale"),
         doc="argv0 spelled through the tree that does not exist; RUNFILES_DIR/JAVA_RUNFILES removed")
scenario("tier2_MANIFEST_without_links", "R3 R4 R7", app(layout="MANIFEST"))
scenario("tier2_tree_and_MANIFEST", "R3 R4", app(layout="tree+MANIFEST"))
scenario("tier2_runfiles_manifest_preferred", "R3",
         world(Launcher(APP), runfiles({P: Probe()}, manifests=(APP + ".runfiles_manifest",), out="out1"),
               runfiles({P: NOT_EXEC}, manifests=(APP + ".runfiles/MANIFEST",), out="out2")))
scenario("tier2_unreadable_types", "R3",
         world(Launcher(APP), Dir(APP + ".runfiles_manifest"),
               runfiles({P: Probe()}, manifests=(APP + ".runfiles/MANIFEST",))),
         doc="E.runfiles_manifest is a directory: E.runfiles/MANIFEST is used")
scenario("tier2_launcher_via_symlink", "R3",
         world(Launcher("real/app"), runfiles({P: NOT_EXEC}, tree="real/app.runfiles", out="out1"),
               Symlink(APP, "../real/app"), bazel(APP, {P: Probe()}, "dir")),
         doc="E is the symlink's path, never resolved")
scenario("tier2_relative_execfn_dot", "R3 R7", app(), execfn="./app", cwd="bin")
scenario("tier2_relative_execfn_dots", "R3 R7", app(), execfn="./././app", cwd="bin")
scenario("tier2_relative_execfn_subdir", "R3 R7", app(), execfn="bin/app", argv=("app",))
scenario("bazel_run_shape", "R3 R7 acceptance:bazel-run", app(), execfn="../../app", argv=("../../app",),
         cwd="bin/app.runfiles/_main", env=(),
         doc="relative AT_EXECFN, cwd inside <launcher>.runfiles/_main, no environment: "
             "E.runfiles = cwd + '/../../app.runfiles', exported without normalising")
scenario("relative_execfn_manifest_only", "R3 R5 R7", world(app(layout="manifest"), Dir("bin/sub")),
         execfn="../app", argv=("../app",), cwd="bin/sub", env=())
scenario("launcher_named_dot_runfiles", "R3",
         world(Launcher("bin/odd.runfiles"), bazel("bin/odd.runfiles", {P: Probe()}, "dir")),
         execfn=ROOT + "/bin/odd.runfiles",
         doc="a final segment ending in .runfiles is the launcher's name, not a tree (tier 3)")

scenario("tier1_dir_trailing_slash", "R3 R4 R5 R7",
         world(Launcher(APP), runfiles({P: Probe()}, tree="rf1")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf1/",), doc="D/P is D + '/' + P even when D ends in '/'")
scenario("tier1_dir_is_root", "R3 R4 R5 R7", world(Launcher(APP), Probe("_main/app/prog")),
         env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/",),
         doc="in the chroot runner RUNFILES_DIR=/ and the program is //_main/app/prog")
scenario("tier1_manifest_dev_null", "R3", app(),
         env=BASE_ENV + ("RUNFILES_MANIFEST_FILE=/dev/null",), cannot={"chroot": "needs /dev/null"},
         doc="a character device is not a regular file: not a source")
scenario("env_name_prefix_decoys", "R3 R6 R9", app(),
         Spec(PROG, env=(EnvOp("set", "PATH", Literal("/p")), EnvOp("unset", "HOME"),
                         EnvOp("default", "LANG", Literal("C")))),
         env=(f"RUNFILES_DIRX={ROOT}/rf1", f"XRUNFILES_DIR={ROOT}/rf1", f"RUNFILES_DIR_={ROOT}/rf1",
              "RUNFILES_MANIFEST_FILEX=/nope", "TINYLAUNCH_DEBUGX=1", "XTINYLAUNCH_DEBUG=1",
              "PATHX=/x", "PATH_=/y", "HOMEDIR=/h", "LANGUAGE=en", "PATH=/usr/bin"),
         doc="a name matches NAME= only: no decoy is a source, debug stays off, ops touch only their name")
scenario("tier2_runfiles_dir_symlink", "R3 R4 R7",
         world(Launcher(APP), runfiles({P: Probe()}, tree="elsewhere/app.runfiles"),
               Symlink(APP + ".runfiles", "../elsewhere/app.runfiles")))
scenario("relative_execfn_cwd_via_symlink", "R3 R7",
         world(app(), Symlink("lnk", "bin")), execfn="./app", cwd="lnk",
         env=BASE_ENV + ("PWD=/somewhere/else",),
         doc="the cwd is what getcwd says (symlinks resolved by the kernel), never $PWD")

# R3 tier 3: the launcher is itself a runfile of another binary.
OUTER = "bin/outer.runfiles"
INNER = OUTER + "/_main/tools/inner"
scenario("tier3_runfile_of_other_binary", "R3 R5 R7 acceptance:tier3",
         world(Launcher("out/tools/inner"),
               runfiles({P: Probe()}, tree=OUTER, manifests=(OUTER + "/MANIFEST",)),
               Symlink(INNER, ROOT + "/out/tools/inner")),
         execfn=ROOT + "/" + INNER, argv=("inner",))
scenario("tier3_dir_only", "R3",
         world(Launcher(INNER), runfiles({P: Probe()}, tree=OUTER)),
         execfn=ROOT + "/" + INNER)
scenario("tier3_manifest_used", "R3 R4 R7",
         world(Launcher(INNER), runfiles({"_main/tools/x": File(data=b"x")}, tree=OUTER, out="out1"),
               runfiles({P: Probe()}, manifests=(OUTER + "/MANIFEST",), out="out2")),
         execfn=ROOT + "/" + INNER)
scenario("tier3_innermost_tree", "R3",
         world(runfiles({P: NOT_EXEC}, tree="bin/a.runfiles", out="out1"),
               runfiles({P: Probe()}, tree="bin/a.runfiles/_main/b.runfiles", out="out2"),
               Launcher("bin/a.runfiles/_main/b.runfiles/_main/tool")),
         execfn=ROOT + "/bin/a.runfiles/_main/b.runfiles/_main/tool")
scenario("tier2_beats_tier3", "R3",
         world(runfiles({P: NOT_EXEC}, tree=OUTER, out="out1"), Launcher(INNER),
               bazel(INNER, {P: Probe()}, "dir", out="out2")),
         execfn=ROOT + "/" + INNER)
scenario("tier3_relative_execfn", "R3 R7",
         world(Launcher(INNER), runfiles({P: Probe()}, tree=OUTER)),
         execfn="../outer.runfiles/_main/tools/inner", cwd="bin/outer.runfiles")

# R4: resolution through a directory.
scenario("dir_missing_path_is_passed", "R4", app(layout="dir"),
         Spec(PROG, args=(Rlocation("_main/data/missing.txt"),)))
scenario("dir_enotdir_goes_on_to_manifest", "R4",
         world(Launcher(APP), runfiles({"_main/app": File(data=b"file, not dir")}, tree=APP + ".runfiles", out="out1"),
               runfiles({P: Probe()}, manifests=(APP + ".runfiles_manifest",), out="out2")))
scenario("dir_stat_eloop_is_fatal", "R4 R8",
         world(Launcher(APP), Symlink(APP + ".runfiles/_main/app/prog", "prog")), outcome=125)
scenario("dir_stat_enametoolong_is_fatal", "R4 R8", app(layout="dir"),
         Spec(Rlocation("_main/" + "n" * 300)), outcome=125)
scenario("dir_dangling_link_exec_enoent", "R4 R8 acceptance:execve-ENOENT",
         app({P: Missing()}, "dir"), outcome=127)

# R4: resolution through a manifest.
scenario("manifest_exact_beats_prefix", "R4",
         manifest_app(manifest_line("_main/app", ROOT + "/nowhere") + manifest_line(P, ROOT + "/out/prog")
                      + manifest_line("_main", ROOT + "/nowhere")))
scenario("manifest_longest_prefix", "R4",
         manifest_app(manifest_line("_main/tree", ROOT + "/t1") + manifest_line("_main/tree/su", ROOT + "/t0")
                      + manifest_line("_main/tree/sub", ROOT + "/t2") + manifest_line("_main/tree/sub/bin/prog2", ROOT + "/t3"),
                      Probe("t2/bin/prog")),
         Spec(Rlocation("_main/tree/sub/bin/prog")))
scenario("manifest_exact_among_near_misses", "R4",
         manifest_app(manifest_line("_main/app/prog2", ROOT + "/nowhere") + manifest_line("_main/app/prog/sub", ROOT + "/nowhere")
                      + manifest_line("_main/app/pro", ROOT + "/nowhere") + manifest_line("_main/app/progX", ROOT + "/nowhere")
                      + manifest_line(P, ROOT + "/out/prog") + manifest_line("_main/app/prog", ROOT + "/nowhere")))
scenario("manifest_prefix_duplicates", "R4",
         manifest_app(manifest_line("_main/tree", ROOT + "/t1") + manifest_line("_main/tree", ROOT + "/t2"),
                      Probe("t1/bin/prog")),
         Spec(Rlocation("_main/tree/bin/prog")))
scenario("manifest_empty", "R4 R8", world(Launcher(APP), File(APP + ".runfiles_manifest")), outcome=127)
scenario("manifest_crlf", "R4 R8", manifest_app(manifest_line(P, ROOT + "/out/prog").replace(b"\n", b"\r\n")),
         outcome=127, doc="no CR handling: the target ends in CR and does not exist")
scenario("manifest_nul_bytes", "R4",
         manifest_app(b"_main/app/prog\0x " + ROOT.encode() + b"/nowhere\n"
                      + b"_main/app/prog " + ROOT.encode() + b"/out/prog\0junk\n"),
         doc="a target ends at its first NUL; a link holding a NUL matches nothing")
scenario("manifest_odd_lines", "R4",
         manifest_app(b" \n  \n\\\n \\\n\t_main/app/prog /wrong\n_main/app/prog\t/wrong\n"
                      + b"_main/sp " + ROOT.encode() + b"/out/a b c\n" + b"_main/app " + b"\n"
                      + manifest_line(P, ROOT + "/out/prog") + b" \n"),
         Spec(PROG, args=(Rlocation("_main/sp"), Rlocation("_main/app/x"))),
         doc="lines of only spaces or backslashes, tabs that are not separators, a target "
             "holding spaces, an empty-target prefix line")
scenario("manifest_partial_segment", "R4 R8",
         manifest_app(manifest_line("_main/c/di", ROOT + "/out")), Spec(Rlocation("_main/c/dir/prog")), outcome=127)
scenario("manifest_duplicate_links", "R4",
         manifest_app(manifest_line(P, ROOT + "/out/prog") + manifest_line(P, ROOT + "/out/prog_b"), Probe("out/prog_b")))
scenario("treeartifact_manifest_only", "R4 acceptance:treeartifact",
         app({"_main/app/tree": Tree((("bin/tool", Probe()), ("share/data.txt", File(data=b"d"))))}, "manifest"),
         Spec(Rlocation("_main/app/tree/bin/tool"), args=(Rlocation("_main/app/tree/share/data.txt"),
                                                        Rlocation("_main/app/tree"))))
scenario("treeartifact_dir", "R4",
         app({"_main/app/tree": Tree((("bin/tool", Probe()),))}, "both"),
         Spec(Rlocation("_main/app/tree/bin/tool")))
scenario("empty_target_no_space", "R4 acceptance:empty-target",
         app({P: Probe(), "_main/app/__init__.py": Empty()}, "manifest"),
         Spec(PROG, args=(Rlocation("_main/app/__init__.py"),)))
scenario("empty_target_with_space", "R4 acceptance:empty-target",
         app({P: Probe(), "_main/app/__init__.py": Empty(space=True)}, "manifest"),
         Spec(PROG, args=(Rlocation("_main/app/__init__.py"),)))
scenario("empty_target_as_program", "R4 R8", app({P: Empty()}, "manifest"), outcome=126,
         doc="/dev/null is not a regular file: execve fails with EACCES")
scenario("empty_target_prefix", "R4 R8", app({"_main/app": Empty()}, "manifest"), outcome=127,
         doc="/dev/null/prog: execve fails with ENOTDIR")
scenario("relative_target", "R4 acceptance:relative-target",
         manifest_app(manifest_line(P, "../tools/prog") + manifest_line("_main/tools/prog", ROOT + "/out/prog")))
scenario("relative_target_with_rest", "R4",
         manifest_app(manifest_line("_main/lib", "../other_repo/lib") + manifest_line("other_repo/lib", ROOT + "/out/lib"),
                      Probe("out/lib/bin/prog")),
         Spec(Rlocation("_main/lib/bin/prog")))
scenario("relative_chain", "R4 acceptance:relative-chain",
         manifest_app(manifest_line(P, "./../app//hop1") + manifest_line("_main/app/hop1", "x/../hop2")
                      + manifest_line("_main/app/hop2", "../../ext/bin/prog") + manifest_line("ext/bin", ROOT + "/out/extbin"),
                      Probe("out/extbin/prog")))
scenario("relative_chain_32_hops", "R4", manifest_app(chain(32)), doc="32 relative targets followed")
scenario("relative_chain_33_hops", "R4 R8", manifest_app(chain(33)), outcome=125)
scenario("relative_cycle", "R4 R8",
         manifest_app(manifest_line(P, "loop") + manifest_line("_main/app/loop", "prog")), outcome=125)
scenario("relative_climbs_above_root", "R4 R8 acceptance:relative-above-root",
         manifest_app(manifest_line(P, "../../../etc/prog")), outcome=125)
scenario("relative_to_root_itself", "R4 R8", manifest_app(manifest_line(P, "../..")), outcome=125)
scenario("relative_hop_not_found", "R4 R8",
         manifest_app(manifest_line(P, "../tools/prog")), outcome=127)
scenario("relative_hop_to_empty_target", "R4",
         manifest_app(manifest_line(P, ROOT + "/out/prog") + manifest_line("_main/a/empty", "../b/empty")
                      + manifest_line("_main/b/empty", None)),
         Spec(PROG, args=(Rlocation("_main/a/empty"),)))
scenario("relative_target_in_dir_and_manifest", "R4 R7",
         world(Launcher(APP), Probe("out/prog"), Dir(APP + ".runfiles/_main"),
               File(APP + ".runfiles/MANIFEST", manifest_line(P, "../tools/prog") + manifest_line("_main/tools/prog", ROOT + "/out/prog"))))
scenario("escaped_lines", "R4 acceptance:escaped",
         manifest_app(manifest_line("_main/my app/prog", ROOT + "/out/we\\ird\nname")
                      + manifest_line("_main/data/back\\slash", ROOT + "/out/b\\s")
                      + manifest_line("_main/data/new\nline", ROOT + "/out/n\nl")
                      + b" _main/data/odd\\x\\ " + ROOT.encode() + b"/out/t\\x\\s\\\n"
                      + b" _main/data/trailing\\ " + ROOT.encode() + b"/out/end\\\n"
                      + b"_main/data/plain\\s " + ROOT.encode() + b"/out/not-escaped\n",
                      Probe("out/we\\ird\nname")),
         Spec(Rlocation("_main/my app/prog"),
              args=(Rlocation("_main/data/back\\slash"), Rlocation("_main/data/new\nline"),
                    Rlocation("_main/data/odd\\x\\"), Rlocation("_main/data/trailing\\"),
                    Rlocation("_main/data/plain\\s"))),
         doc="unknown escapes and a lone trailing backslash stay as they are; "
             "\\s in a target stays; an unescaped line keeps its backslashes")
scenario("escaped_line_in_dir_layout", "R4",
         app({"_main/my app/prog": Probe()}, "both"), Spec(Rlocation("_main/my app/prog")))
scenario("no_trailing_newline", "R4 acceptance:no-trailing-newline",
         manifest_app(manifest_line("_main/a", ROOT + "/a") + manifest_line(P, ROOT + "/out/prog").rstrip(b"\n")))
scenario("no_trailing_newline_no_target", "R4",
         manifest_app(manifest_line(P, ROOT + "/out/prog") + b"_main/app/__init__.py"),
         Spec(PROG, args=(Rlocation("_main/app/__init__.py"),)))
scenario("empty_lines", "R4",
         manifest_app(b"\n\n" + manifest_line("_main/a", ROOT + "/a") + b"\n\n" + manifest_line(P, ROOT + "/out/prog") + b"\n\n"))
MIB = 1 << 20
scenario("mib_lines", "R4 R10 acceptance:1MiB-line",
         manifest_app(b"_main/" + b"l" * MIB + b" /nonexistent\n"
                      + b"_main/long_target /" + b"t" * MIB + b"\n"
                      + manifest_line(P, ROOT + "/out/prog")
                      + b" _main/" + b"\\s" * (MIB // 2) + b" /x\n"))
scenario("manifest_64mib", "R4 R10 acceptance:64MiB-manifest",
         world(Launcher(APP), Probe("out/prog"), Probe("out/tree/bin/tool"),
               File(APP + ".runfiles_manifest", filler=64 * MIB,
                    data=manifest_line("_main/data/tree", ROOT + "/out/tree") + manifest_line(P, ROOT + "/out/prog"))),
         Spec(PROG, args=(Rlocation("_main/data/tree/bin/tool"),)))
scenario("manifest_64mib_data_limit", "R10",
         world(Launcher(APP), Probe("out/prog"),
               File(APP + ".runfiles_manifest", filler=64 * MIB, data=manifest_line(P, ROOT + "/out/prog"))),
         data_limit=4 * MIB, cannot={"qemu": QEMU_MEMORY},
         doc="memory must not grow with the manifest: with RLIMIT_DATA at 4 MiB, a copy of the "
             "64 MiB manifest in anonymous memory fails; a read-only mapping does not count")
scenario("path_too_long_hop", "R4 R8", manifest_app(manifest_line(P, "h" * 4100)), outcome=125)
scenario("escape_reported_before_length", "R4 R8", manifest_app(manifest_line(P, "../../../" + "h" * 5000)),
         outcome=125)
scenario("path_4095_bytes", "R4", manifest_app(manifest_line(P, ROOT + "/out/prog")
                                                + manifest_line("_main/long", "/" + "p" * 4094)),
         Spec(PROG, args=(Rlocation("_main/long"),)))
scenario("path_too_long", "R4 R8", manifest_app(manifest_line(P, ROOT + "/out/prog")
                                                 + manifest_line("_main/long", "/" + "p" * 4095)),
         Spec(PROG, args=(Rlocation("_main/long"),)), outcome=125)
scenario("path_too_long_by_rest", "R4 R8", manifest_app(manifest_line(P, ROOT + "/out/prog")
                                                         + manifest_line("_main/long", "/" + "p" * 4000)),
         Spec(PROG, args=(Rlocation("_main/long/" + "r" * 200),)), outcome=125)

# R5: argv.
scenario("argv0_logical_manifest_in_dir", "R5", app(layout="MANIFEST"))
scenario("argv0_resolved", "R5", app(), Spec(PROG, argv0="resolved"))
scenario("argv0_resolved_manifest", "R5", app(layout="manifest"), Spec(PROG, argv0="resolved"))
scenario("argv0_launcher", "R5", app(), Spec(PROG, argv0="launcher"), argv=("my-tool", "x"))
scenario("argv0_literal", "R5", app(), Spec(PROG, argv0=Argv0Literal("python3")), argv=("app", "--x"))
scenario("argv0_logical_literal_program", "R5",
         world(app(), Probe("tools/probe")), Spec(Literal(ROOT + "/tools/probe")))
scenario("args_embedded_and_passed", "R5",
         app({P: Probe(), "_main/data/a.txt": File(data=b"a")}, "both"),
         Spec(PROG, args=(Literal("-x"), Literal(""), Literal("with space"), Rlocation("_main/data/a.txt"),
                          Literal("--k=v"))),
         argv=(ROOT + "/bin/app", "a", "", "--flag=1", "with\nnewline"))
scenario("args_many_and_long", "R5 R10", app(),
         Spec(PROG, args=tuple(Literal(f"arg{i}") for i in range(3000)) + (Literal("L" * 100_000),)),
         argv=(ROOT + "/bin/app",) + tuple(f"x{i}" for i in range(500)))

scenario("launcher_argv_100k", "R5 R10", app(), Spec(PROG, args=(Literal("embedded"),)),
         argv=("app",) + tuple(str(i % 10) for i in range(100_000)))
scenario("many_rlocation_args", "R4 R5",
         manifest_app(b"".join(manifest_line(f"_main/data/f{i}", f"{ROOT}/out/data/f{i}") for i in range(3000))
                      + manifest_line(P, ROOT + "/out/prog")),
         Spec(PROG, args=tuple(Rlocation(f"_main/data/f{i}") for i in range(0, 3000, 7))))

# R6: environment.
scenario("env_ops", "R6",
         app({P: Probe(), "_main/data/a.txt": File(data=b"a"), "_main/bin": Tree((("t", Probe()),))}, "both"),
         Spec(PROG, env=(
             EnvOp("set", "NEW", Literal("1")),
             EnvOp("set", "HOME", Rlocation("_main/data/a.txt")),
             EnvOp("default", "LANG", Literal("xx")),
             EnvOp("default", "EMPTY", Literal("not used")),
             EnvOp("default", "ABSENT", Literal("v")),
             EnvOp("unset", "GONE"),
             EnvOp("prepend", "PATH", Rlocation("_main/bin")),
             EnvOp("append", "LIST", Literal("c"), separator=";"),
             EnvOp("prepend", "EMPTY2", Literal("only")),
             EnvOp("append", "ABSENT2", Literal("only")),
             EnvOp("set", "A", Literal("1")),
             EnvOp("prepend", "A", Literal("0"), separator=""),
             EnvOp("append", "A", Literal("2"), separator="::"),
             EnvOp("unset", "ABSENT3"),
             EnvOp("set", "EQ", Literal("a=b=c")),
         )),
         env=BASE_ENV + ("EMPTY=", "GONE=1", "LIST=a;b", "EMPTY2=", "KEEP=1"))
scenario("env_ops_duplicates", "R6",
         app(),
         Spec(PROG, env=(EnvOp("set", "D", Literal("new")), EnvOp("unset", "U"),
                         EnvOp("prepend", "PATH", Literal("/first")), EnvOp("default", "D", Literal("no")),
                         EnvOp("append", "U", Literal("back")))),
         env=("D=1", "U=1", "PATH=/a", "D=2", "U=2", "PATH=/b", "U", "D", "U=3"), cannot={"qemu": QEMU_ENV})
scenario("env_many_entries", "R6 R10", app(),
         Spec(PROG, env=(EnvOp("set", "V19999", Literal("last")), EnvOp("unset", "V0"),
                         EnvOp("default", "V10000", Literal("no")), EnvOp("append", "V5", Literal("y")))),
         env=tuple(f"V{i}=x" for i in range(20000)))
scenario("env_op_value_unresolvable", "R6 R8",
         app({P: Probe(), "_main/data/a.txt": File(data=b"a")}, "manifest"),
         Spec(PROG, args=(Rlocation("_main/data/a.txt"),),
              env=(EnvOp("set", "A", Rlocation("_main/data/a.txt")), EnvOp("set", "B", Rlocation("_main/data/none")))),
         env=BASE_ENV + ("TINYLAUNCH_DEBUG=1",), outcome=127)
scenario("env_op_value_through_manifest", "R6 R7",
         world(Launcher(APP), runfiles({P: Probe()}, tree=APP + ".runfiles", out="out1"),
               runfiles({"_main/data/m.txt": File(data=b"m")}, manifests=(APP + ".runfiles/MANIFEST",), out="out2")),
         Spec(PROG, env=(EnvOp("set", "DATA", Rlocation("_main/data/m.txt")),)),
         doc="only an env op value needs the manifest: RUNFILES_MANIFEST_FILE is exported")

# R7: exported variables.
scenario("export_off", "R7", app(), Spec(PROG, export_runfiles_env=False),
         env=BASE_ENV + ("RUNFILES_DIR=", f"RUNFILES_MANIFEST_FILE={ROOT}/nope", "JAVA_RUNFILES=/stale"))
scenario("export_after_ops", "R6 R7", app(),
         Spec(PROG, env=(EnvOp("set", "RUNFILES_DIR", Literal("/from/op")), EnvOp("set", "JAVA_RUNFILES", Literal("/op")),
                         EnvOp("set", "RUNFILES_MANIFEST_FILE", Literal("/op/m")))))
scenario("export_replaces_in_place", "R7", app(layout="manifest"),
         env=("A=1", "RUNFILES_MANIFEST_FILE=", "B=2", "JAVA_RUNFILES=/stale", "C=3"),
         doc="set replaces the first occurrence where it stands")

# R8: failures and execve errors.
scenario("not_in_runfiles", "R4 R8", app({"_main/app/other": Probe()}, "manifest"), outcome=127)
scenario("unresolved_with_local_main", "R8 acceptance:no-cwd-fallback",
         world(Launcher(APP), Probe("work/" + P)), cwd="work", outcome=127,
         doc="./_main/app/prog exists relative to the cwd: never used, nothing executed")
scenario("unresolved_with_local_main_manifest", "R8 acceptance:no-cwd-fallback",
         world(app({"_main/app/other": Probe()}, "manifest"), Probe("work/" + P)), cwd="work", outcome=127)
scenario("exec_enoent", "R8 acceptance:execve-ENOENT", app({P: Missing()}, "manifest"), outcome=127)
scenario("exec_eacces", "R8 acceptance:execve-EACCES", app({P: NOT_EXEC}, "both"), outcome=126)
scenario("exec_eacces_directory", "R8", app({"_main/app/tree": Tree((("x", File(data=b"x")),))}, "manifest"),
         Spec(Rlocation("_main/app/tree")), outcome=126)
scenario("exec_enoexec", "R8 acceptance:execve-ENOEXEC",
         app({P: File(data=b"\x00\x01\x02 not a program\n" * 4, mode=0o755)}, "both"), outcome=126,
         cannot={"unicorn": HOST_ONLY})
scenario("exec_e2big_arg", "R8 R10", app(), Spec(PROG, args=(Literal("B" * 200_000),)), outcome=125,
         cannot={"unicorn": HOST_ONLY}, doc="one string over MAX_ARG_STRLEN (32 pages)")
BIG_ENV = tuple(f"BIG{i}=" + "e" * (64 * 1024 - 8) for i in range(24))
scenario("env_near_limit_fits", "R10", app(), env=BASE_ENV + BIG_ENV, outcome=None,
         cannot={"unicorn": HOST_ONLY}, doc="1.5 MiB of environment passes through")
scenario("env_near_limit_e2big", "R8 R10", app(),
         Spec(PROG, args=(Literal("A" * 100_000),)),
         env=BASE_ENV + tuple(f"BIG{i}=" + "e" * (64 * 1024 - 8) for i in range(31)), outcome=None,
         cannot={"unicorn": HOST_ONLY},
         doc="the launcher's own arguments fit under the host's limit, the child's may not: "
             "with an 8 MiB stack limit execve reports E2BIG")

scenario("exec_eloop", "R8", world(Launcher(APP), Symlink("out/prog", "prog"),
                                  File(APP + ".runfiles_manifest", manifest_line(P, ROOT + "/out/prog"))), outcome=126)
scenario("exec_errno_by_number", "R8", manifest_app(manifest_line(P, ROOT + "/out/" + "n" * 300)), outcome=126,
         doc="execve fails with ENAMETOOLONG, which the message gives by number")
scenario("getcwd_fails", "R3 R8", world(app(), Dir("gone")), cwd="gone", cwd_deleted=True,
         env=BASE_ENV + ("RUNFILES_DIR=.",), outcome=125,
         doc="'.' in a removed directory is still a directory; making it absolute needs getcwd, "
             "which fails (ENOENT)")
scenario("getcwd_not_needed", "R3", world(app(), Dir("gone")), cwd="gone", cwd_deleted=True,
         doc="the cwd is gone but nothing relative is accepted: getcwd is never called")

# R9: debug trace.
scenario("debug_trace", "R9", world(Launcher(APP), runfiles({P: Probe()}, tree="rf1", out="out1"),
                                    runfiles({"_main/data/m.txt": File(data=b"m")}, manifests=("m1/MANIFEST",), out="out2")),
         Spec(PROG, args=(Literal("-v"), Rlocation("_main/data/m.txt")),
              env=(EnvOp("set", "X", Rlocation(P)),)),
         argv=("app", "extra"),
         env=BASE_ENV + ("TINYLAUNCH_DEBUG=1", f"RUNFILES_DIR={ROOT}/rf1", f"RUNFILES_MANIFEST_FILE={ROOT}/m1/MANIFEST"))
scenario("debug_trace_hops", "R4 R9", manifest_app(chain(3)), env=BASE_ENV + ("TINYLAUNCH_DEBUG=yes",))
scenario("debug_trace_failure", "R8 R9", app(), Spec(PROG, args=(Rlocation("_main/none"),)),
         env=BASE_ENV + ("TINYLAUNCH_DEBUG=1",), outcome=127)
scenario("debug_trace_exec_failure", "R8 R9", app({P: NOT_EXEC}), env=BASE_ENV + ("TINYLAUNCH_DEBUG=1",), outcome=126)
scenario("debug_trace_no_runfiles", "R8 R9", world(Launcher(APP)), env=("TINYLAUNCH_DEBUG=1",), outcome=127)
scenario("debug_trace_literal_only", "R2 R9", world(Launcher(APP), Probe("tools/probe")),
         Spec(Literal(ROOT + "/tools/probe"), export_runfiles_env=False), env=("TINYLAUNCH_DEBUG=1",))
scenario("debug_empty_is_off", "R9", app(), env=BASE_ENV + ("TINYLAUNCH_DEBUG=",))
scenario("debug_first_occurrence_off", "R9", app(), env=BASE_ENV + ("TINYLAUNCH_DEBUG=", "TINYLAUNCH_DEBUG=1"),
         cannot={"qemu": QEMU_ENV})
scenario("debug_first_occurrence_on", "R9", app(), env=BASE_ENV + ("TINYLAUNCH_DEBUG", "TINYLAUNCH_DEBUG=1", "TINYLAUNCH_DEBUG="),
         cannot={"qemu": QEMU_ENV})

# SPEC C1: the example spec, in each of Bazel's layouts.
for _layout in ("both", "manifest", "dir", "MANIFEST"):
    scenario(f"c1_example_{_layout.replace('+', '_')}", "C1 R4 R5 R6 R7",
             world(Launcher(APP), bazel(APP, C1_ENTRIES, _layout)), C1_SPEC, argv=("app", "--port", "8080"),
             env=C1_ENV)
scenario("c1_example_debug", "C1 R9", world(Launcher(APP), bazel(APP, C1_ENTRIES, "both")), C1_SPEC,
         env=C1_ENV + ("TINYLAUNCH_DEBUG=1", "BAZEL_TARGET=//kept"))
scenario("c1_example_bazel_run", "C1 R3 R7", world(Launcher(APP), bazel(APP, C1_ENTRIES, "both")), C1_SPEC,
         execfn="../../app", argv=("../../app",), cwd="bin/app.runfiles/_main", env=())

# Code variants: every feature set the generator ships a variant for (tinylaunch.features),
# each with all it can do - every env op kind, its argv0 mode, an rlocation argument and
# env value when it has runfiles - in directory mode and (traced) manifest-only mode.
VARIANT_DATA = "_main/data/d.txt"


def variant_spec(wanted: Features) -> Spec:
    value = Rlocation(VARIANT_DATA) if wanted.runfiles else Literal("/lit")
    env = (EnvOp("set", "S", value), EnvOp("default", "HOME", Literal("/no")), EnvOp("default", "D", Literal("d")),
           EnvOp("unset", "LANG"), EnvOp("prepend", "PATH", value),
           EnvOp("append", "PATH", Literal("/tail"), separator=";")) if wanted.env else ()
    return Spec(PROG if wanted.runfiles else Literal(ROOT + "/tools/probe"),
                args=(Literal("-x"),) + ((Rlocation(VARIANT_DATA),) if wanted.runfiles else ()),
                env=env, export_runfiles_env=wanted.export,
                argv0=Argv0Literal("named") if wanted.argv0 == "literal" else wanted.argv0)


for _wanted in features.ALL:
    _spec = variant_spec(_wanted)
    assert features.of(_spec) == _wanted, _wanted
    _name = "variant_" + _wanted.name.replace(" ", "_")
    if not _wanted.runfiles:
        scenario(_name, "R2 R5 R6 R9 variants", world(Launcher(APP), Probe("tools/probe")), _spec,
                 argv=("app", "arg"), env=BASE_ENV + ("TINYLAUNCH_DEBUG=1",))
        continue
    for _layout in ("dir", "manifest"):
        scenario(f"{_name}_{_layout}", "R3 R4 R5 R6 R7 R9 variants",
                 app({P: Probe(), VARIANT_DATA: File(data=b"d")}, _layout), _spec, argv=("app", "arg"),
                 env=BASE_ENV + (("TINYLAUNCH_DEBUG=1",) if _layout == "manifest" else ()))

BY_NAME = {s.name: s for s in SCENARIOS}
assert len(BY_NAME) == len(SCENARIOS), "scenario names must be unique"

# Scenarios the launcher code of an arch cannot pass yet: name -> missing feature.
# Runners mark them xfail(strict=True); remove an entry when its feature lands.
PENDING: dict[str, dict[str, str]] = {
    "x86_64": {},
    "aarch64": {},
}
