"""Smoke test of the benchmark: the quick path on tiny inputs (a few seconds).

Run with `python3 -m pytest -q bench` (not in CI's default test directories)."""
from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the bench times x86_64 launchers natively")

TINY = replace(run.QUICK, n_launch=20, rounds=2, budget_s=0.005, n_min=1, n_max=20,
               sizes=(replace(run.SIZES[0], lines=300),
                      replace(run.SIZES[1], lines=2_000),
                      replace(run.SIZES[3], size=256 << 10)))


def test_manifest_is_sorted_with_the_wanted_line_last(tmp_path: Path):
    program = Path("/abs/prog")
    for size in (replace(run.SIZES[0], lines=2_500), replace(run.SIZES[2], size=100_000)):
        path = tmp_path / size.key
        nbytes, nlines, line = run.write_manifest(path, size, program)
        data = path.read_bytes()
        lines = data.decode().splitlines()
        assert len(data) == nbytes and len(lines) == nlines
        assert lines[-1] == line == f"{run.WANTED} {program}"
        links = [entry.split(" ", 1)[0] for entry in lines]
        assert links == sorted(links) and len(set(links)) == len(links)
        if size.lines:
            assert nlines == size.lines
        else:
            assert size.size - 120 < nbytes <= size.size


def test_tiny_run_measures_every_row_and_judges_the_targets(tmp_path: Path):
    report = run.run_benchmark(TINY, tmp_path / "work", lambda message: None)
    summary = run.summarise(report)
    assert set(summary["launch"]) == {"direct", "floor", "tl-dir", "tl-c1-dir", "tl-1k", "tl-100k"}
    for row in summary["launch"].values():
        assert row["time_ns"] > 0 and row["maxrss_kib"] > 0
    assert set(summary["launch_env"]) == {"floor", "tl-dir", "tl-c1-dir"}
    assert summary["launch_env"]["floor"]["vs_floor"] == 1.0 and summary["launch_env"]["tl-c1-dir"]["time_ns"] > 0
    assert report["launch_env"]["entries"] == len(run.LARGE_ENV) == 100
    assert set(summary["scaling"]) == {"1k", "100k", "256m"}
    assert {c["name"] for c in summary["targets"]} == set(run.TARGETS)
    # The launcher maps the whole manifest today: a 256 KiB one shows in its RSS (or not,
    # once it maps windows); either way the figure is a number, not a crash.
    assert summary["scaling"]["256m"]["tl_rss_kib"] > 0
    machine = dict(run.machine_info(), load_before="0", load_after="0")
    text = run.render(report, summary, machine)
    for heading in ("Sizes (bytes)", "Launch overhead", "in a large environment", "Manifest scaling",
                    "Issue 7 targets"):
        assert heading in text
    assert set(report["sizes"]) >= {"x86_64"}
    sizes = report["sizes"]["x86_64"]
    assert sizes["smallest"]["total"] < sizes["c1"]["total"]


def test_spawn_loop_fails_on_an_unexpected_exit_status(tmp_path: Path):
    spawn_loop = tmp_path / "spawn_loop"
    run.compile_c(run.BENCH / "spawn_loop.c", spawn_loop, ["-O2"])
    ok = subprocess.run([str(spawn_loop), "3", "1", "1", "1", "/bin/false", "2", "0", "0", "1", "/bin/true"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["n=3", "n=2"] and lines[2].startswith("self_maxrss_kb=")
    bad = subprocess.run([str(spawn_loop), "3", "0", "0", "1", "/bin/false"], capture_output=True, text=True, check=False)
    assert bad.returncode == 3 and "exited 1, expected 0" in bad.stderr


def test_command_line_writes_the_table_and_json(tmp_path: Path, capsys):
    out = tmp_path / "bench.json"
    assert run.main(["--n", "10", "--rounds", "1", "--budget", "0.005", "--sizes", "1k", "--no-others",
                     "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| tinylaunch (program only), directory mode |" in printed
    data = json.loads(out.read_text())
    assert data["summary"]["launch"]["floor"]["vs_floor"] == 1.0
    assert run.main(["--render", str(out)]) == 0
    assert capsys.readouterr().out.strip() == printed.split("\nbench took")[0].strip()
