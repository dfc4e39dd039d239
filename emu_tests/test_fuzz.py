"""Differential fuzzing: generated launches, the emulated launcher against the model.

Hypothesis builds whole scenarios in the scenario table's own vocabulary
(``scenarios.Scenario`` with a ``worlds`` world), so a failing example prints as
something that can be pasted into tests/scenarios.py. Each example draws:

- a discovery shape: AT_EXECFN absolute, relative (cwd below it), inside another
  binary's tree (tier 3) or absent; tier-2 siblings (``E.runfiles``,
  ``E.runfiles_manifest``, ``E.runfiles/MANIFEST``) present or not; tier-1 variables
  pointing at good, relative, trailing-slash, missing, wrong-type or empty paths;
- runfiles trees (absolute and relative symlinks, real files and directories, dangling
  links, symlink loops) and manifests (exact and prefix links, partial-segment decoys,
  duplicates, absolute / relative / empty targets, relative chains and cycles, escaped
  lines including odd escapes, empty and junk lines, CRLF, a NUL, long lines, no final
  newline);
- a spec (program, args, env ops of every kind on names that collide with the exported
  ones, export on/off, every argv0 mode), the environment (duplicates, entries without
  '=', TINYLAUNCH_DEBUG often on) and argv (argc == 0 included).

The launcher must agree with the model exactly (execve file/argv/envp, stderr, status)
on every shipped arch. 300 examples per arch by default; ``TINYLAUNCH_FUZZ=deep`` runs
5,000 (conftest.py). The counts seen are noted in the suite's summary.
"""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import assume, given, note as hnote, strategies as st

import scenarios as S
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec
from worlds import ROOT, Dir, File, Launcher, Probe, Symlink, manifest_line

from .conftest import FUZZ_SETTINGS, note
from .harness import arch_params, check, known, scenario_case

NOT_EXEC = File(data=b"#!/bin/sh\nexit 1\n", mode=0o644)

# --- rlocation paths: few segments, so paths collide, nest and share prefixes ------------

SEGMENTS = ["_main", "a", "ab", "b", "bin", "a b", "x\\y", "n\nl", "t.runfiles", "\u00e9", "a\\s", "MANIFEST"]
segment = st.one_of(st.sampled_from(SEGMENTS), st.sampled_from(SEGMENTS), st.sampled_from(SEGMENTS),
                    st.integers(250, 300).map(lambda n: "L" * n))
rloc = st.lists(segment, min_size=1, max_size=4).map("/".join)
rel_target = st.lists(st.sampled_from(["..", "..", ".", "a", "b", "ab", "_main", "", "bin"]),
                      min_size=1, max_size=6).map("/".join)


@st.composite
def target(draw, out_files):
    """A manifest target: absolute into out/, relative, empty, or odd text."""
    kind = draw(st.sampled_from(["abs", "abs", "abs", "rel", "rel", "empty", "odd", "long", "nul"]))
    if kind == "abs":
        return f"{ROOT}/out/{draw(st.sampled_from(out_files))}"
    if kind == "rel":
        return draw(rel_target)
    if kind == "empty":
        return ""
    if kind == "long":
        return "/" + "p" * draw(st.sampled_from([4094, 4095, 4200]))
    if kind == "nul":            # a path ends at its first NUL (behaviour.md)
        return draw(st.sampled_from([f"{ROOT}/out/prog\0junk", f"{ROOT}/out/dir\0", "\0x", "\0", "a/..\0/b",
                                     "../\0", f"{ROOT}/out\0/dir"]))
    return draw(st.sampled_from([f"{ROOT}/out/sp ace", f"{ROOT}/out/b\\s", "a\r", f"{ROOT}/out/n\nl", "/"]))


@st.composite
def manifest(draw, pool, out_files):
    """Manifest bytes: lines for links from the pool (and their prefixes, decoys)."""
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        link = draw(st.sampled_from(pool))
        form = draw(st.sampled_from(["plain", "plain", "plain", "parent", "decoy", "nospace", "raw", "junk"]))
        if form == "parent" and "/" in link:
            link = link.rsplit("/", 1)[0]
        elif form == "decoy":
            link = link[:-1] or link + "x"
        if form == "nospace" and not any(c in link for c in " \n\\"):
            lines.append(link.encode() + b"\n")
        elif form == "raw":          # an escaped line written by hand: odd escapes stay as they are
            lines.append(b" " + link.replace(" ", "\\s").encode() + b"\\x " + draw(target(out_files)).encode() + b"\\\n")
        elif form == "junk":
            lines.append(draw(st.sampled_from([b"\n", b" \n", b"\\\n", b"  \n", b"x\0y /nul\n",
                                               b"_main/a /x\0junk\n", b"\t_main/a /tab\n"])))
        else:
            lines.append(manifest_line(link, draw(target(out_files))))
    if draw(st.booleans()):        # a relative chain through hop links
        start = draw(st.sampled_from(pool))
        n = draw(st.integers(1, 34))
        lines.append(manifest_line(start, "../hops/h1" if "/" in start else "hops/h1"))
        lines += [manifest_line(f"hops/h{i}", f"h{i + 1}") for i in range(1, n)]
        lines.append(manifest_line(f"hops/h{n}", draw(target(out_files))))
    lines = draw(st.permutations(lines)) if lines else lines
    data = b"".join(lines)
    ending = draw(st.sampled_from(["keep", "keep", "strip", "crlf", "page"]))
    if ending == "strip":
        data = data.rstrip(b"\n")
    elif ending == "crlf":
        data = data.replace(b"\n", b"\r\n", 1)
    elif ending == "page" and len(data) < 4000:     # the last line ends at the page's last byte
        data = b"_main/pad /nonexistent/" + b"p" * (4096 - 24 - len(data.rstrip(b"\n"))) + b"\n" + data.rstrip(b"\n")
    return data


@st.composite
def tree(draw, base, pool, out_files):
    """A runfiles directory at ``base``: symlinks into out/, real files and dirs."""
    nodes = [Dir(base)]
    for p in draw(st.lists(st.sampled_from(pool), max_size=6, unique=True)):
        kind = draw(st.sampled_from(["abs", "abs", "rel", "file", "dir", "dangling", "loop"]))
        path = f"{base}/{p}"
        if kind == "abs":
            nodes.append(Symlink(path, f"{ROOT}/out/{draw(st.sampled_from(out_files))}"))
        elif kind == "rel":
            nodes.append(Symlink(path, "../" * (p.count("/") + base.count("/") + 1) + "out/"
                                 + draw(st.sampled_from(out_files))))
        elif kind == "file":
            nodes.append(Probe(path))
        elif kind == "dir":
            nodes.append(Dir(path))
        elif kind == "dangling":
            nodes.append(Symlink(path, f"{ROOT}/out/missing"))
        else:
            nodes.append(Symlink(path, p.rsplit("/", 1)[-1]))
    return nodes


def without_conflicts(nodes):
    """Drop nodes whose path, or a parent of it, an earlier node already took as a
    non-directory (a world must be placeable)."""
    taken, out = {}, []
    for node in nodes:
        parts = node.path.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        if any(taken.get(p, "dir") != "dir" for p in parents):
            continue
        kind = "dir" if isinstance(node, Dir) else "other"
        if node.path in taken and (taken[node.path] != "dir" or kind != "dir"):
            continue
        for p in parents:
            taken.setdefault(p, "dir")
        taken[node.path] = kind
        out.append(node)
    return tuple(out)


# --- specs, environments, argv ------------------------------------------------------------

NAMES = ["PATH", "A", "RUNFILES_DIR", "JAVA_RUNFILES", "RUNFILES_MANIFEST_FILE", "TINYLAUNCH_DEBUG", "X"]
TEXT = st.sampled_from(["", "v", "a b", "x=y", "/p", "-I", "\u00e9", "a:b", "\\n"])


@st.composite
def value(draw, pool):
    if draw(st.booleans()):
        return Rlocation(draw(st.sampled_from(pool)))
    return Literal(draw(TEXT))


@st.composite
def spec(draw, pool):
    program = (Literal(f"{ROOT}/out/{draw(st.sampled_from(['prog', 'data']))}") if draw(st.integers(0, 5)) == 0
               else Rlocation(draw(st.sampled_from(pool))))
    args = tuple(draw(st.lists(value(pool), max_size=4)))
    ops = []
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["set", "default", "unset", "prepend", "append"]))
        name = draw(st.sampled_from(NAMES))
        if op == "unset":
            ops.append(EnvOp("unset", name))
        elif op in ("prepend", "append"):
            ops.append(EnvOp(op, name, draw(value(pool)), separator=draw(st.sampled_from([":", "", ";", "::"]))))
        else:
            ops.append(EnvOp(op, name, draw(value(pool))))
    argv0 = draw(st.sampled_from(["logical", "logical", "resolved", "launcher", Argv0Literal("py")]))
    return Spec(program, args, tuple(ops), draw(st.booleans()), argv0)


TIER1_DIRS = ["", f"{ROOT}/rf", "rf", "./rf", f"{ROOT}/rf/", f"{ROOT}/nope", f"{ROOT}/m/MANIFEST", f"{ROOT}/bin/app.runfiles"]
TIER1_MANIFESTS = ["", f"{ROOT}/m/MANIFEST", f"{ROOT}/m/x.runfiles_manifest", f"{ROOT}/m/other.manifest",
                   "rel_manifest", f"{ROOT}/rf", f"{ROOT}/nope", "/dev/null"]
EXECFNS = {   # name -> (AT_EXECFN, cwd, launcher's path)
    "abs": (f"{ROOT}/bin/app", "", "bin/app"),
    "rel": ("app", "bin", "bin/app"),
    "dot": ("./app", "bin", "bin/app"),
    "up": ("../app", "bin/sub", "bin/app"),
    "inner": (f"{ROOT}/bin/outer.runfiles/_main/tools/inner", "", "bin/outer.runfiles/_main/tools/inner"),
    "inner_rel": ("../outer.runfiles/_main/tools/inner", "bin/outer.runfiles", "bin/outer.runfiles/_main/tools/inner"),
    "none": (None, "", "bin/app"),
}


@st.composite
def launch(draw):
    pool = draw(st.lists(rloc, min_size=1, max_size=5, unique=True))
    out_files = ["prog", "prog", "data", "dir", "noexec", "missing"]
    execfn, cwd, launcher = EXECFNS[draw(st.sampled_from(sorted(EXECFNS)))]
    nodes = [Launcher(launcher), Probe("out/prog"), File("out/data", b"d", 0o644), Dir("out/dir"),
             Probe("out/dir/x"), Probe("out/sp ace"), at_probe("out/b\\s"), at_noexec("out/noexec"), Dir("bin/sub")]
    if cwd:
        nodes.append(Dir(cwd))
    e = launcher
    layout = draw(st.fixed_dictionaries({"dir": st.booleans(), "rfm": st.booleans(), "MANIFEST": st.booleans(),
                                         "outer_dir": st.booleans(), "outer_MANIFEST": st.booleans()}))
    if layout["dir"]:
        nodes += draw(tree(e + ".runfiles", pool, out_files))
    if layout["rfm"]:
        nodes.append(File(e + ".runfiles_manifest", draw(manifest(pool, out_files))))
    if layout["MANIFEST"]:
        nodes.append(File(e + ".runfiles/MANIFEST", draw(manifest(pool, out_files))))
    if launcher.startswith("bin/outer.runfiles/"):
        if layout["outer_dir"]:
            nodes += draw(tree("bin/outer.runfiles", pool, out_files))
        if layout["outer_MANIFEST"]:
            nodes.append(File("bin/outer.runfiles/MANIFEST", draw(manifest(pool, out_files))))
    env = list(draw(st.lists(st.sampled_from(["HOME=/h", "PATH=/usr/bin", "A=1", "A=", "PLAIN", "=weird", "",
                                              "JAVA_RUNFILES=/stale", "RUNFILES_MANIFEST_FILE=", "X"]), max_size=5)))
    rdir = draw(st.sampled_from([None] + TIER1_DIRS))
    rman = draw(st.sampled_from([None] + TIER1_MANIFESTS))
    if rdir is not None:
        env.append("RUNFILES_DIR=" + rdir)
        nodes += draw(tree("rf", pool, out_files))
        nodes += draw(tree((cwd + "/rf") if cwd else "rf", pool, out_files))
    if rman is not None:
        env.append("RUNFILES_MANIFEST_FILE=" + rman)
        data = draw(manifest(pool, out_files))
        nodes += [File("m/MANIFEST", data), File("m/x.runfiles_manifest", data), File("m/other.manifest", data),
                  File((cwd + "/rel_manifest") if cwd else "rel_manifest", data)]
        if draw(st.booleans()):
            nodes += draw(tree("m", pool, out_files))
            nodes += draw(tree("m/x.runfiles", pool, out_files))
    if draw(st.integers(0, 3)):
        env.append("TINYLAUNCH_DEBUG=" + draw(st.sampled_from(["1", "1", ""])))
    env = draw(st.permutations(env))
    argv = draw(st.one_of(st.none(), st.lists(st.sampled_from(["app", "", "-x", "a b", "--k=v"]), max_size=4)))
    return S.Scenario(name="fuzz", rules="fuzz", world=without_conflicts(nodes), spec=draw(spec(pool)),
                      execfn=execfn, argv=None if argv is None else tuple(argv), env=tuple(env), cwd=cwd)


def at_probe(path):
    return Probe(path)


def at_noexec(path):
    return File(path, NOT_EXEC.data, NOT_EXEC.mode)


# --- the property ---------------------------------------------------------------------------

SEEN: Counter = Counter()


def has_nul_target(sc) -> bool:
    """A manifest line of the world whose target holds a NUL (harness.FINDINGS "nul_target")."""
    for node in sc.world:
        if isinstance(node, File) and b"\0" in node.data:
            for line in node.data.split(b"\n"):
                if b"\0" in line.lstrip(b" ").partition(b" ")[2]:
                    return True
    return False


# Inputs that show a pending finding (harness.FINDINGS) on an arch: the fuzzer keeps away
# from exactly those while the finding is pending (test_findings.py pins it), so it can
# find others. finding -> predicate over a generated scenario.
AVOID = {"nul_target": has_nul_target}


@pytest.mark.parametrize("arch", arch_params())
@FUZZ_SETTINGS
@given(sc=launch())
def test_launcher_agrees_with_model(arch, sc):
    for finding in known(arch):
        if finding in AVOID and AVOID[finding](sc):
            SEEN[f"{arch} avoided"] += 1
            assume(False)
    hnote(f"scenario: {sc!r}")
    SEEN[arch] += 1
    out = check(scenario_case(sc, arch), tolerate=known(arch))
    SEEN[f"{arch} tolerated"] += bool(out.tolerated)
    SEEN[f"{arch} exec" if out.stop.kind == "exec" else f"{arch} exit {out.stop.status}"] += 1


def test_fuzz_counts():
    """Runs last in this file: notes how many examples each arch saw, by outcome."""
    for arch in sorted(k for k in SEEN if " " not in k):
        kinds = ", ".join(f"{k.split(' ', 1)[1]} {n}" for k, n in sorted(SEEN.items())
                          if k.startswith(arch + " ") and n and not k.endswith(("tolerated", "avoided")))
        if SEEN[f"{arch} avoided"]:
            kinds += (f"; {SEEN[f'{arch} avoided']} generated inputs set aside for pending findings "
                      f"({', '.join(f for f in known(arch) if f in AVOID)})")
        if SEEN[f"{arch} tolerated"]:
            kinds += f"; {SEEN[f'{arch} tolerated']} met a known finding ({', '.join(known(arch))}), tolerated"
        note(f"fuzz {arch}: {SEEN[arch]} examples ({kinds})")
