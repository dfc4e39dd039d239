"""tinylaunch benchmark (issue 7): launcher sizes, launch overhead, manifest scan cost.

    python3 -m bench [--quick] [--json FILE] [--workdir DIR] [--keep] ...

Everything is built and generated at run time in a temporary directory (removed at the
end unless --keep): the spawn helper and the do-nothing program (gcc), the zero-work
launcher (keystone), the tinylaunch launchers (this checkout's src/), runfiles trees and
manifests. One spawn_loop run per group and round times every command of the group N
times, interleaved spawn by spawn; a measurement's time is the fastest of its N spawns
(--stat: or the 10th percentile, median, mean). Each figure in the tables is the median
over rounds, and every ratio or difference is taken inside one round before the median,
so load that comes and goes cancels. bench/README.md explains the method and holds a
full run's tables.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))   # this checkout's tinylaunch, not an installed one

from tinylaunch import Rlocation, Spec, elf, emit, inspect, load_spec
from tinylaunch.abi import ARCHES
from tinylaunch.emit import EmitError, shipped_code

# The program every launcher starts, as an rlocation path. Manifest filler lines are all
# under _main/third_party/, which sorts before _main/tools/: the wanted line is last.
WANTED = "_main/tools/prog"
FILLER_LINK = "_main/third_party/pkg{pkg:04d}/module_{i:07d}.py"
FILLER_TARGET = "/home/builder/src/project/third_party/pkg{pkg:04d}/module_{i:07d}.py"
FILES_PER_PACKAGE = 1000

TARGETS = {                         # issue 7's acceptance figures
    "dir_vs_floor": 1.10,
    "m1k_vs_floor": 1.30,
    "m100k_scan_vs_cat": 1.5,
    "m256_scan_vs_cat": 1.5,
    "m256_scan_vs_grep": 1.0,
    "m256_rss_above_floor_kib": 4096,
}
# The straightforward C launcher (musl, mmap, byte loop) issue 7 measured for scale.
REFERENCE_C = {"dir_vs_floor": 1.25, "m1k_vs_floor": 1.46, "m100k_scan_vs_cat": 2.35,
               "m256_scan_vs_cat": 1.98, "m256_scan_vs_grep": 0.80, "m256_rss_above_floor_kib": 3.7 * 1024}


# ----------------------------------------------------------------------------- config

@dataclass(frozen=True)
class ManifestSize:
    key: str            # short name used in command keys
    label: str          # as the tables print it
    lines: int = 0      # filler lines + the wanted line, or
    size: int = 0       # a byte size the manifest fills up to (the wanted line included)


SIZES = (
    ManifestSize("1k", "1,000 lines", lines=1_000),
    ManifestSize("100k", "100,000 lines", lines=100_000),
    ManifestSize("16m", "16 MiB", size=16 << 20),
    ManifestSize("256m", "256 MiB", size=256 << 20),
)


@dataclass(frozen=True)
class Config:
    n_launch: int       # spawns per measurement of the launch-overhead group (>= 1,000 in full)
    rounds: int         # repetitions of every group; figures are medians over them
    budget_s: float     # other measurements: N chosen so one takes about this long ...
    n_min: int          # ... but at least n_min ...
    n_max: int          # ... and at most n_max spawns
    sizes: tuple = SIZES
    others: bool = True             # also time the bash and Python launchers
    program: str = "tiny"           # the do-nothing program: tiny (nostdlib) or libc
    stat: str = "min"               # a measurement's time: min, p10, median or mean of its N spawn times


FULL = Config(n_launch=2000, rounds=5, budget_s=1.0, n_min=1, n_max=2000)
QUICK = Config(n_launch=300, rounds=3, budget_s=0.08, n_min=1, n_max=300, sizes=SIZES[:3])


# ----------------------------------------------------------------------------- build

def compile_c(source: Path, out: Path, flags: list[str], fallback_flags: list[str] | None = None) -> list[str]:
    """gcc source -> out; returns the flags that worked."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise SystemExit("bench: needs gcc (apt-get install gcc libc6-dev)")
    for attempt in (flags, fallback_flags):
        if attempt is None:
            continue
        result = subprocess.run([cc, *attempt, "-o", str(out), str(source)], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return attempt
    raise SystemExit(f"bench: gcc {source.name} failed:\n{result.stderr}")


# The zero-work launcher: execve(PROGRAM, its own argv, its own envp), nothing else.
FLOOR_ASM = """
    lea rdi, [rip + path]
    lea rsi, [rsp + 8]
    mov rax, [rsp]
    lea rdx, [rsp + rax*8 + 16]
    mov eax, 59
    syscall
    mov edi, 127
    mov eax, 231
    syscall
path:
"""
# argv is at rsp+8, argc at rsp, envp after argv's NULL; 59 = execve, 231 = exit_group
# (127 if execve failed); the program's path is the data right after the code.


def build_floor(program: Path, out: Path) -> bytes:
    """The floor: tinylaunch's own ELF writer around 40 bytes of keystone-assembled code."""
    try:
        from keystone import KS_ARCH_X86, KS_MODE_64, Ks
    except ImportError:
        raise SystemExit("bench: the zero-work launcher is assembled with keystone: "
                         "pip install keystone-engine==0.9.2 (or pip install -e '.[dev]')") from None
    code, _ = Ks(KS_ARCH_X86, KS_MODE_64).asm(FLOOR_ASM)
    blob = elf.write(bytes(code), os.fsencode(program) + b"\0", "x86_64")
    write_exe(out, blob)
    return blob


def write_exe(path: Path, content: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    path.chmod(0o755)


def c1_spec() -> Spec:
    """SPEC C1's example, read from tests/spec_examples.py (without importing hypothesis)."""
    source = (REPO / "tests" / "spec_examples.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "C1_EXAMPLE_JSON" for t in node.targets):
            return load_spec(ast.literal_eval(node.value))
    raise SystemExit("bench: C1_EXAMPLE_JSON not found in tests/spec_examples.py")


def smallest_spec() -> Spec:
    """The smallest launcher that uses runfiles: the program only, found in directory mode."""
    return Spec(program=Rlocation(WANTED))


BASH_LAUNCHER = """\
#!/bin/bash
# What a launcher written with runfiles.bash does: find the runfiles beside $0, look the
# program up (directory first, then `grep -m1 "^P " MANIFEST | cut -d' ' -f2-`, the core
# of runfiles.bash's rlocation), export the runfiles variables, exec.
set -uo pipefail
if [[ -z "${RUNFILES_DIR:-}" && -z "${RUNFILES_MANIFEST_FILE:-}" ]]; then
  if [[ -f "$0.runfiles_manifest" ]]; then
    export RUNFILES_MANIFEST_FILE="$0.runfiles_manifest"
  elif [[ -d "$0.runfiles" ]]; then
    export RUNFILES_DIR="$0.runfiles" JAVA_RUNFILES="$0.runfiles"
  fi
fi
p=@WANTED@
if [[ -e "${RUNFILES_DIR:-/dev/null}/$p" ]]; then
  program="$RUNFILES_DIR/$p"
elif [[ -f "${RUNFILES_MANIFEST_FILE:-/dev/null}" ]]; then
  program=$(grep -m1 "^$p " "$RUNFILES_MANIFEST_FILE" | cut -d ' ' -f 2-)
fi
exec "$program" "$@"
"""

PYTHON_LAUNCHER = """\
# What a launcher written with Bazel's Python runfiles library (bazel-runfiles) does.
import os
import sys
sys.path.insert(0, @RUNFILES_PARENT@)
from runfiles import runfiles
me = sys.argv[0]
if os.path.isdir(me + ".runfiles"):
    r = runfiles.CreateDirectoryBased(me + ".runfiles")
else:
    r = runfiles.CreateManifestBased(me + ".runfiles_manifest")
program = r.Rlocation(@WANTED@)
env = dict(os.environ)
env.update(r.EnvVars())
os.execve(program, [program] + sys.argv[1:], env)
"""


def runfiles_library_parent() -> str | None:
    spec = importlib.util.find_spec("runfiles")
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve().parent.parent)


def write_manifest(path: Path, size: ManifestSize, program: Path) -> tuple[int, int, str]:
    """A Bazel-like manifest, sorted by link, with the wanted line last.
    Returns (bytes, lines, the wanted line)."""
    wanted = f"{WANTED} {program}\n"
    total, lines, batch = len(wanted), 1, []
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for i in range(10 ** 7):
            if size.lines and lines >= size.lines:
                break
            pkg = i // FILES_PER_PACKAGE
            line = f"{FILLER_LINK.format(pkg=pkg, i=i)} {FILLER_TARGET.format(pkg=pkg, i=i)}\n"
            if size.size and total + len(line) > size.size:
                break
            total += len(line)
            lines += 1
            batch.append(line)
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write(wanted)
    return total, lines, wanted.rstrip("\n")


@dataclass
class World:
    root: Path
    spawn_loop: Path
    program: Path
    floor: Path
    python: str | None                      # interpreter for the Python launcher
    commands: dict = field(default_factory=dict)   # key -> (argv, expected exit status)
    manifests: dict = field(default_factory=dict)  # size key -> {bytes, lines, line, path}
    notes: list = field(default_factory=list)


def build_world(root: Path, config: Config, log) -> World:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    spawn_loop = bin_dir / "spawn_loop"
    flags = compile_c(BENCH / "spawn_loop.c", spawn_loop, ["-O2", "-static"], ["-O2"])
    # Children of posix_spawn (CLONE_VM|CLONE_VFORK) start their ru_maxrss from this
    # process's RSS: a static spawn_loop keeps that floor small.
    log(f"spawn_loop: gcc {' '.join(flags)}")
    program = bin_dir / "prog"
    if config.program == "tiny":
        compile_c(BENCH / "noop.c", program, ["-O2", "-static", "-nostdlib"])
    else:
        compile_c(BENCH / "noop.c", program, ["-O2", "-static", "-DWITH_LIBC"])
    floor = bin_dir / "floor"
    build_floor(program, floor)

    python = None
    runfiles_parent = runfiles_library_parent() if config.others else None
    if config.others and runfiles_parent:
        python = os.path.realpath(sys.executable)
    world = World(root, spawn_loop, program, floor, python)
    if config.others and not runfiles_parent:
        world.notes.append("bazel-runfiles is not installed: no Python launcher rows (pip install bazel-runfiles)")

    tl_min = emit(smallest_spec(), "x86_64")
    tl_c1 = emit(c1_spec(), "x86_64")
    bash = BASH_LAUNCHER.replace("@WANTED@", WANTED)
    py = PYTHON_LAUNCHER.replace("@WANTED@", repr(WANTED)).replace("@RUNFILES_PARENT@", repr(runfiles_parent))

    def launchers(directory: Path) -> None:
        write_exe(directory / "app", tl_min)
        write_exe(directory / "app.sh", bash)
        write_exe(directory / "app.py", py)

    # Directory mode: app.runfiles/ beside the launcher, the program a symlink in it (as Bazel makes it).
    dir_mode = root / "dir"
    launchers(dir_mode)
    tree = dir_mode / "app.runfiles"
    (tree / WANTED).parent.mkdir(parents=True)
    (tree / WANTED).symlink_to(program)
    for name in ("app.sh", "app.py"):
        (dir_mode / f"{name}.runfiles").symlink_to("app.runfiles")
    write_exe(dir_mode / "c1", tl_c1)
    c1_tree = dir_mode / "c1.runfiles" / "_main" / "app"
    (c1_tree / "app.venv" / "bin").mkdir(parents=True)
    (c1_tree / "app.venv" / "bin" / "python").symlink_to(program)
    (c1_tree / "main.py").write_text("")

    cmds = world.commands
    cmds["direct"] = ([str(program)], 0)
    cmds["floor"] = ([str(floor)], 0)
    cmds["tl-dir"] = ([str(dir_mode / "app")], 0)
    cmds["tl-c1-dir"] = ([str(dir_mode / "c1")], 0)
    cmds["bash-dir"] = ([str(dir_mode / "app.sh")], 0)
    if python:
        cmds["py-dir"] = ([python, "-I", "-S", str(dir_mode / "app.py")], 0)

    cat, grep = shutil.which("cat") or "/bin/cat", shutil.which("grep") or "/bin/grep"
    cmds["cat-null"] = ([cat, "/dev/null"], 0)
    for size in config.sizes:
        directory = root / f"m-{size.key}"
        launchers(directory)
        manifest = directory / "MANIFEST.bench"
        t0 = time.monotonic()
        nbytes, nlines, line = write_manifest(manifest, size, program)
        log(f"manifest {size.label}: {nbytes:,} bytes, {nlines:,} lines ({time.monotonic() - t0:.1f} s)")
        world.manifests[size.key] = {"label": size.label, "bytes": nbytes, "lines": nlines, "line": line, "path": str(manifest)}
        for name in ("app", "app.sh", "app.py"):
            (directory / f"{name}.runfiles_manifest").symlink_to(manifest.name)
        cmds[f"tl-{size.key}"] = ([str(directory / "app")], 0)
        cmds[f"cat-{size.key}"] = ([cat, str(manifest)], 0)
        cmds[f"grep-{size.key}"] = ([grep, "-m1", "-F", line, str(manifest)], 0)
        cmds[f"grep-null-{size.key}"] = ([grep, "-m1", "-F", line, "/dev/null"], 1)
        cmds[f"bash-{size.key}"] = ([str(directory / "app.sh")], 0)
        if python:
            cmds[f"py-{size.key}"] = ([python, "-I", "-S", str(directory / "app.py")], 0)
    return world


# ----------------------------------------------------------------------------- measure

CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"}
# A developer shell's environment: 100 entries, about 5 KB.  The launcher looks names up
# in it (TINYLAUNCH_DEBUG, RUNFILES_*, each env op, each exported name), so its cost grows
# with the entries, and names that share a first letter with those cost the most: the
# prefixes mix both kinds.
LARGE_ENV_PREFIXES = ("XDG_", "SSH_", "LC_", "GIT_", "NODE_", "PYTHON_", "JAVA_", "DOCKER_", "KUBE_", "AWS_",
                      "GO", "CARGO_", "BAZEL_", "TERM_", "HIST", "LESS_", "RUST_", "PROMPT_", "VSCODE_", "DBUS_")
LARGE_ENV = dict(CHILD_ENV, **{
    f"{LARGE_ENV_PREFIXES[i % len(LARGE_ENV_PREFIXES)]}SETTING_{i:02d}": f"/home/builder/.config/tool{i:02d}/value"
    for i in range(100 - len(CHILD_ENV))})


def spawn_group(world: World, keys: list[str], ns: dict, warmups: dict | None = None,
                env: dict = CHILD_ENV) -> dict:
    """One spawn_loop run: every key's spawns interleaved. key -> spawn_loop's figures."""
    argv = [str(world.spawn_loop)]
    for key in keys:
        command, status = world.commands[key]
        warmup = min(20, ns[key] // 10) if warmups is None else warmups[key]
        argv += [str(ns[key]), str(warmup), str(status), str(len(command)), *command]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"bench: {' '.join(keys)}: {result.stderr.strip()}")
    lines = result.stdout.splitlines()
    figures = [{k: float(v) for k, v in (pair.split("=") for pair in line.split())} for line in lines[:len(keys)]]
    return dict(zip(keys, figures))


def choose_n(world: World, key: str, config: Config) -> int:
    """N so that one measurement takes about budget_s (two calibration spawns after one warm-up)."""
    mean_s = spawn_group(world, [key], {key: 2}, {key: 1})[key]["mean_ns"] / 1e9
    return max(config.n_min, min(config.n_max, int(config.budget_s / mean_s)))


def measure_group(world: World, keys: list[str], ns: dict, rounds: int, log, label: str,
                  env: dict = CHILD_ENV) -> dict:
    """rounds runs of spawn_loop over all keys (order rotated each round), the children in
    env. key -> list of results."""
    results = {key: [] for key in keys}
    for r in range(rounds):
        t0 = time.monotonic()
        order = keys[r % len(keys):] + keys[:r % len(keys)]
        for key, figures in spawn_group(world, order, ns, env=env).items():
            results[key].append(figures)
        log(f"{label}: round {r + 1}/{rounds} ({time.monotonic() - t0:.1f} s)")
    return results


class Rounds:
    """A group's results (key -> one spawn_loop figure dict per round), read with one time
    statistic: "min_ns", "p10_ns", "median_ns" or "mean_ns" of a measurement's N spawns."""

    def __init__(self, results: dict, time_field: str):
        self.results, self.t = results, time_field

    def med(self, key: str, field_name: str | None = None) -> float:
        """Median over rounds of one figure (the time unless named)."""
        return statistics.median(r[field_name or self.t] for r in self.results[key])

    def ratio(self, a: str, b: str) -> float:
        """Median over rounds of a/b, each round's pair measured side by side."""
        t = self.t
        return statistics.median(x[t] / y[t] for x, y in zip(self.results[a], self.results[b]))

    def diff(self, a: str, base: str) -> float:
        t = self.t
        return statistics.median(x[t] - y[t] for x, y in zip(self.results[a], self.results[base]))

    def diff_ratio(self, a: str, a0: str, b: str, b0: str) -> float:
        """Median over rounds of (a - a0) / (b - b0)."""
        t, values = self.t, []
        for x, x0, y, y0 in zip(*(self.results[k] for k in (a, a0, b, b0))):
            denominator = y[t] - y0[t]
            values.append((x[t] - x0[t]) / denominator if denominator > 0 else float("inf"))
        return statistics.median(values)


def run_benchmark(config: Config, root: Path, log) -> dict:
    started = time.monotonic()
    world = build_world(root, config, log)
    report = {"config": {k: v for k, v in config.__dict__.items() if k != "sizes"},
              "sizes": launcher_sizes(), "manifests": world.manifests, "notes": world.notes}
    report["config"]["sizes"] = [s.label for s in config.sizes]
    others = [k for k in ("bash", "py") if f"{k}-dir" in world.commands] if config.others else []

    # Launch overhead: the same N (>= 1,000 in a full run) for every command.
    keys = ["direct", "floor", "tl-dir", "tl-c1-dir"] + [f"tl-{s.key}" for s in config.sizes if s.key in ("1k", "100k")]
    launch = measure_group(world, keys, {k: config.n_launch for k in keys}, config.rounds, log, "launch overhead")
    report["launch"] = {"n": config.n_launch, "raw": launch}
    # The same in a large environment (not a target: it shows what the environment costs).
    keys = ["floor", "tl-dir", "tl-c1-dir"]
    launch_env = measure_group(world, keys, {k: config.n_launch for k in keys}, config.rounds, log,
                               "launch overhead, large environment", env=LARGE_ENV)
    report["launch_env"] = {"n": config.n_launch, "entries": len(LARGE_ENV),
                            "bytes": sum(len(k) + len(v) + 2 for k, v in LARGE_ENV.items()), "raw": launch_env}

    # Manifest scaling, one group per size, the baselines measured alongside.
    report["scaling"] = {}
    for size in config.sizes:
        s = size.key
        keys = ["floor", "tl-dir", f"tl-{s}", "cat-null", f"cat-{s}", f"grep-null-{s}", f"grep-{s}"]
        for other in others:
            keys += [f"{other}-dir", f"{other}-{s}"]
        ns = {key: choose_n(world, key, config) for key in keys}
        results = measure_group(world, keys, ns, config.rounds, log, f"manifest {size.label}")
        report["scaling"][s] = {"n": ns, "raw": results}
    report["bench_seconds"] = time.monotonic() - started
    return report


def launcher_sizes() -> dict:
    sizes = {}
    for arch in ARCHES:
        try:
            shipped_code(arch)
        except EmitError:
            continue
        sizes[arch] = {name: inspect(emit(spec, arch)).sizes
                       for name, spec in (("c1", c1_spec()), ("smallest", smallest_spec()))}
    return sizes


# ----------------------------------------------------------------------------- report

def us(ns: float) -> str:
    return f"{ns / 1000:,.1f}"


def ms_or_us(ns: float) -> str:
    return f"{ns / 1e6:,.2f} ms" if abs(ns) >= 1e6 else f"{ns / 1000:,.1f} µs"


def x(value: float) -> str:
    return f"{value:.2f}x" if value != float("inf") else "n/a"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def summarise(report: dict) -> dict:
    """The figures the tables show and the targets are judged on."""
    time_field = report["config"]["stat"] + "_ns"
    launch = Rounds(report["launch"]["raw"], time_field)
    summary = {"launch": {}, "scaling": {}}
    for key in launch.results:
        summary["launch"][key] = {
            "time_ns": launch.med(key), "mean_ns": launch.med(key, "mean_ns"),
            "median_ns": launch.med(key, "median_ns"), "vs_floor": launch.ratio(key, "floor"),
            "vs_direct": launch.ratio(key, "direct"), "over_floor_ns": launch.diff(key, "floor"),
            "maxrss_kib": launch.med(key, "maxrss_kb"), "minflt": launch.med(key, "minflt"),
            "utime_ns": launch.med(key, "utime_ns"), "stime_ns": launch.med(key, "stime_ns"),
        }
    if "launch_env" in report:          # runs saved before this row existed have none
        large = Rounds(report["launch_env"]["raw"], time_field)
        summary["launch_env"] = {key: {"time_ns": large.med(key), "vs_floor": large.ratio(key, "floor"),
                                       "over_floor_ns": large.diff(key, "floor"),
                                       "small_env_ns": summary["launch"][key]["time_ns"]}
                                 for key in large.results}
    for s, group in report["scaling"].items():
        raw = Rounds(group["raw"], time_field)
        row = {
            "tl_ns": raw.med(f"tl-{s}"), "tl_dir_ns": raw.med("tl-dir"),
            "scan_ns": raw.diff(f"tl-{s}", "tl-dir"),
            "cat_read_ns": raw.diff(f"cat-{s}", "cat-null"),
            "grep_ns": raw.diff(f"grep-{s}", f"grep-null-{s}"),
            "scan_vs_cat": raw.diff_ratio(f"tl-{s}", "tl-dir", f"cat-{s}", "cat-null"),
            "scan_vs_grep": raw.diff_ratio(f"tl-{s}", "tl-dir", f"grep-{s}", f"grep-null-{s}"),
            "tl_vs_grep_total": raw.ratio(f"tl-{s}", f"grep-{s}"),
            "tl_rss_kib": raw.med(f"tl-{s}", "maxrss_kb"), "floor_rss_kib": raw.med("floor", "maxrss_kb"),
            "tl_minflt": raw.med(f"tl-{s}", "minflt"), "tl_dir_minflt": raw.med("tl-dir", "minflt"),
            "tl_utime_ns": raw.med(f"tl-{s}", "utime_ns"), "tl_stime_ns": raw.med(f"tl-{s}", "stime_ns"),
            "cat_rss_kib": raw.med(f"cat-{s}", "maxrss_kb"), "grep_rss_kib": raw.med(f"grep-{s}", "maxrss_kb"),
            "n": group["n"],
        }
        row["rss_above_floor_kib"] = row["tl_rss_kib"] - row["floor_rss_kib"]
        for other in ("bash", "py"):
            if f"{other}-{s}" in raw.results:
                row[other] = {"ns": raw.med(f"{other}-{s}"), "dir_ns": raw.med(f"{other}-dir"),
                              "scan_ns": raw.diff(f"{other}-{s}", f"{other}-dir"),
                              "vs_tl": raw.ratio(f"{other}-{s}", f"tl-{s}"),
                              "dir_vs_tl": raw.ratio(f"{other}-dir", "tl-dir"),
                              "rss_kib": raw.med(f"{other}-{s}", "maxrss_kb"),
                              "dir_rss_kib": raw.med(f"{other}-dir", "maxrss_kb")}
        summary["scaling"][s] = row
    summary["targets"] = judge(summary)
    return summary


def judge(summary: dict) -> list[dict]:
    launch, scaling = summary["launch"], summary["scaling"]
    checks = []

    def check(name: str, what: str, value, target, shown: str, shown_target: str) -> None:
        checks.append({"name": name, "what": what, "value": value, "target": target, "shown": shown,
                       "shown_target": shown_target, "met": value <= target,
                       "reference_c": REFERENCE_C.get(name)})

    check("dir_vs_floor", "directory mode vs zero-work floor", launch["tl-dir"]["vs_floor"],
          TARGETS["dir_vs_floor"], x(launch["tl-dir"]["vs_floor"]), x(TARGETS["dir_vs_floor"]))
    if "tl-1k" in launch:
        check("m1k_vs_floor", "1,000-line manifest vs floor", launch["tl-1k"]["vs_floor"],
              TARGETS["m1k_vs_floor"], x(launch["tl-1k"]["vs_floor"]), x(TARGETS["m1k_vs_floor"]))
    if "100k" in scaling:
        v = scaling["100k"]["scan_vs_cat"]
        check("m100k_scan_vs_cat", "100,000-line scan vs cat's read", v, TARGETS["m100k_scan_vs_cat"], x(v),
              x(TARGETS["m100k_scan_vs_cat"]))
    if "256m" in scaling:
        row = scaling["256m"]
        check("m256_scan_vs_cat", "256 MiB scan vs cat's read", row["scan_vs_cat"], TARGETS["m256_scan_vs_cat"],
              x(row["scan_vs_cat"]), x(TARGETS["m256_scan_vs_cat"]))
        check("m256_scan_vs_grep", "256 MiB scan vs grep -m1 -F", row["scan_vs_grep"],
              TARGETS["m256_scan_vs_grep"], x(row["scan_vs_grep"]), x(TARGETS["m256_scan_vs_grep"]))
        check("m256_rss_above_floor_kib", "256 MiB peak RSS above the floor's", row["rss_above_floor_kib"],
              TARGETS["m256_rss_above_floor_kib"], f"{row['rss_above_floor_kib']:+,.0f} KiB", "< 4,096 KiB")
    return checks


STAT_NAMES = {"min": "fastest", "p10": "10th percentile", "median": "median", "mean": "mean"}
LAUNCH_NAMES = {
    "direct": "program run directly",
    "floor": "zero-work launcher -> program (the floor)",
    "tl-dir": "tinylaunch (program only), directory mode",
    "tl-c1-dir": "tinylaunch C1 example, directory mode",
    "tl-1k": "tinylaunch (program only), 1,000-line manifest",
    "tl-100k": "tinylaunch (program only), 100,000-line manifest",
}


def render(report: dict, summary: dict, machine: dict) -> str:
    cfg = report["config"]
    stat = cfg["stat"]
    out = [(f"tinylaunch bench, {machine['date']}: {machine['cpu']}, {machine['nproc']} CPUs, "
            f"Linux {machine['kernel']}, load average {machine['load_before']} before / {machine['load_after']} "
            f"after; commit {machine['commit']}"),
           (f"{cfg['rounds']} rounds; time = the {STAT_NAMES[stat]} of a measurement's N spawns, then the median "
            f"over rounds; ratios and differences are taken within each round, then the median; "
            f"program: {cfg['program']}"), ""]

    out.append("Sizes (bytes)\n")
    rows = []
    for arch, by_name in report["sizes"].items():
        c1, small = by_name["c1"], by_name["smallest"]
        rows.append([arch, f"{c1['total']:,}", f"{small['total']:,}",
                     f"{c1['headers']} + {c1['code']:,} + {c1['data']}",
                     f"{small['headers']} + {small['code']:,} + {small['data']}"])
    out.append(table(["arch", "C1 example", "smallest (program only)", "C1: headers + code + data",
                      "smallest: headers + code + data"], rows))
    out.append("")

    out.append(f"Launch overhead, x86_64 (N = {report['launch']['n']:,} spawns per measurement, all commands "
               f"interleaved)\n")
    rows = []
    for key, row in summary["launch"].items():
        rows.append([LAUNCH_NAMES[key], us(row["time_ns"]), us(row["median_ns"]), us(row["mean_ns"]),
                     f"{row['over_floor_ns'] / 1000:+,.1f}",
                     x(row["vs_floor"]), x(row["vs_direct"]),
                     f"{row['utime_ns'] / 1000:,.1f} / {row['stime_ns'] / 1000:,.1f}",
                     f"{row['minflt']:.1f}", f"{row['maxrss_kib']:,.0f}"])
    out.append(table(["command", f"µs per launch ({stat})", "median µs", "mean µs", "µs over floor", "vs floor", "vs direct",
                      "child user / sys µs", "minor faults", "max RSS KiB"], rows))
    out.append("")

    if "launch_env" in summary:
        env = report["launch_env"]
        out.append(f"Launch overhead in a large environment, x86_64 ({env['entries']} entries, {env['bytes']:,} "
                   f"bytes; N = {env['n']:,}; the table above runs with {len(CHILD_ENV)} entries)\n")
        rows = [[LAUNCH_NAMES[key], us(row["time_ns"]), f"{row['over_floor_ns'] / 1000:+,.1f}", x(row["vs_floor"]),
                 f"{(row['time_ns'] - row['small_env_ns']) / 1000:+,.1f}"]
                for key, row in summary["launch_env"].items()]
        out.append(table(["command", f"µs per launch ({stat})", "µs over floor", "vs floor",
                          f"µs vs {len(CHILD_ENV)} entries"], rows))
        out.append("")

    out.append("Manifest scaling, x86_64 (the wanted line last; scan = launcher with the manifest - launcher in "
               "directory mode; read = cat FILE - cat /dev/null; grep = grep -m1 -F LINE FILE - the same on /dev/null)\n")
    rows = []
    for size_key, row in summary["scaling"].items():
        m = report["manifests"][size_key]
        rows.append([m["label"], f"{m['bytes']:,} / {m['lines']:,}",
                     ms_or_us(row["tl_ns"]), ms_or_us(row["scan_ns"]), ms_or_us(row["cat_read_ns"]),
                     x(row["scan_vs_cat"]), ms_or_us(row["grep_ns"]), x(row["scan_vs_grep"]),
                     f"{row['tl_rss_kib']:,.0f} ({row['rss_above_floor_kib']:+,.0f})",
                     f"{row['cat_rss_kib']:,.0f} / {row['grep_rss_kib']:,.0f}",
                     f"{row['tl_minflt']:,.0f}",
                     f"{row['tl_utime_ns'] / 1000:,.0f} / {row['tl_stime_ns'] / 1000:,.0f}"])
    out.append(table(["manifest", "bytes / lines", "launcher", "scan", "cat read", "scan / read", "grep",
                      "scan / grep", "launcher max RSS KiB (vs floor)", "cat / grep max RSS KiB",
                      "launcher minor faults", "launcher user / sys µs"], rows))
    out.append("")

    scaling = summary["scaling"]
    others = [o for o in ("bash", "py") if scaling and o in next(iter(scaling.values()))]
    if others:
        out.append("Other launchers, same program, same runfiles (time per launch; in brackets: times tinylaunch's "
                   "time in the same mode and round)\n")
        first = next(iter(scaling.values()))
        header = ["mode", "tinylaunch"]
        names = {"bash": "bash + grep (runfiles.bash style)", "py": "Python, bazel-runfiles"}
        for other in others:
            header += [names[other], f"{other} scan", f"{other} max RSS KiB"]
        dir_row = ["directory mode", ms_or_us(first["tl_dir_ns"])]
        for other in others:
            dir_row += [f"{ms_or_us(first[other]['dir_ns'])} ({x(first[other]['dir_vs_tl'])})", "-",
                        f"{first[other]['dir_rss_kib']:,.0f}"]
        rows = [dir_row]
        for size_key, row in scaling.items():
            cells = [report["manifests"][size_key]["label"], ms_or_us(row["tl_ns"])]
            for other in others:
                o = row[other]
                cells += [f"{ms_or_us(o['ns'])} ({x(o['vs_tl'])})", ms_or_us(o["scan_ns"]), f"{o['rss_kib']:,.0f}"]
            rows.append(cells)
        out.append(table(header, rows))
        out.append("")

    out.append("Issue 7 targets\n")
    rows = []
    for c in summary["targets"]:
        reference = c["reference_c"]
        if reference is not None:
            reference = "+3.7 MiB" if c["name"] == "m256_rss_above_floor_kib" else f"{reference:.2f}x"
        rows.append([c["what"], c["shown"], c["shown_target"], "met" if c["met"] else "**missed**", reference or ""])
    out.append(table(["criterion", "measured", "target", "", "C launcher (issue 7)"], rows))
    for note in report["notes"]:
        out.append(f"note: {note}")
    return "\n".join(out)


def machine_info() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "asm", "src", "gen"],
                               capture_output=True, text=True, check=False).stdout.strip()
        if dirty:
            commit += " + uncommitted asm/src changes"
    except (OSError, subprocess.CalledProcessError):
        pass
    return {"date": datetime.date.today().isoformat(), "cpu": cpu, "nproc": os.cpu_count(),
            "kernel": platform.release(), "commit": commit}


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ----------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="N=300, 3 rounds, no 256 MiB manifest: under a minute")
    parser.add_argument("--rounds", type=int, help="rounds per group (default 5, quick 3)")
    parser.add_argument("--n", type=int, help="spawns per launch-overhead measurement (default 2000, quick 300)")
    parser.add_argument("--budget", type=float, help="seconds per other measurement (default 1.0, quick 0.08)")
    parser.add_argument("--sizes", help="comma-separated manifest sizes out of 1k,100k,16m,256m")
    parser.add_argument("--no-others", action="store_true", help="skip the bash and Python launchers")
    parser.add_argument("--program", choices=("tiny", "libc"), default="tiny",
                        help="do-nothing program: tiny (nostdlib, default) or libc (static glibc main)")
    parser.add_argument("--stat", choices=("min", "p10", "median", "mean"), default="min",
                        help="time of a measurement: the fastest (default), 10th percentile, median or mean "
                             "of its N spawns")
    parser.add_argument("--cpu", type=int, help="pin the benchmark (and so every child) to this CPU")
    parser.add_argument("--workdir", help="build and generate here (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", help="also write every raw measurement and the summary to this file")
    parser.add_argument("--render", metavar="JSON", help="print the tables of a run saved with --json; run nothing")
    return parser.parse_args(argv)


def config_from(options: argparse.Namespace) -> Config:
    config = QUICK if options.quick else FULL
    if options.rounds:
        config = replace(config, rounds=options.rounds)
    if options.n:
        config = replace(config, n_launch=options.n, n_max=max(config.n_max, options.n))
    if options.budget:
        config = replace(config, budget_s=options.budget)
    if options.sizes:
        wanted = options.sizes.split(",")
        unknown = set(wanted) - {s.key for s in SIZES}
        if unknown:
            raise SystemExit(f"bench: --sizes: unknown {', '.join(sorted(unknown))}")
        config = replace(config, sizes=tuple(s for s in SIZES if s.key in wanted))
    return replace(config, others=not options.no_others, program=options.program, stat=options.stat)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.render:
        saved = json.loads(Path(options.render).read_text())
        print(render(saved["report"], summarise(saved["report"]), saved["machine"]))
        return 0
    if platform.machine() != "x86_64":
        raise SystemExit("bench: timings need an x86_64 Linux machine (aarch64 launchers are sized only)")
    config = config_from(options)
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    if options.workdir:
        root = Path(options.workdir).resolve()
        if root.exists() and any(root.iterdir()):
            raise SystemExit(f"bench: --workdir {root} is not empty")
    else:
        root = Path(tempfile.mkdtemp(prefix="tinylaunch-bench-"))
    load_before = load_average()
    machine = machine_info()          # before the run: the commit and tree that were measured
    try:
        report = run_benchmark(config, root, log)
    finally:
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"kept {root}")
    summary = summarise(report)
    machine.update(load_before=load_before, load_after=load_average())
    print(render(report, summary, machine))
    print(f"\nbench took {report['bench_seconds']:.0f} s")
    if options.json:
        Path(options.json).write_text(json.dumps({"machine": machine, "report": report, "summary": summary},
                                                 indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
