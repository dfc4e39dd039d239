"""Unit tests of the reference model (src/tinylaunch/model.py) against SPEC R1-R10 and
docs/behaviour.md. Worlds are real temp directories; every expected value is written
out by hand (paths are spelled from the temp root ``T``)."""
from __future__ import annotations

import errno
import os
import stat
import time

import pytest
from hypothesis import given, settings, strategies as st

from tinylaunch import model
from tinylaunch.model import (BytesFile, Exec, Failure, RealFS, absolutise, decode_escapes,
                              errno_text, exec_failure, manifest_dir, normalise, parse_line,
                              run, scan_manifest)
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec

PROG = "_main/bin/prog"


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def T(tmp_path):
    return os.fsencode(str(tmp_path))


def put(root: bytes, rel: str, data: bytes = b"") -> bytes:
    """A regular file at root/rel (parents made); returns its path."""
    path = root + b"/" + rel.encode()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def mkdir(root: bytes, rel: str) -> bytes:
    path = root + b"/" + rel.encode()
    os.makedirs(path, exist_ok=True)
    return path


def launch(spec, env=(), execfn=None, cwd=b"/", argv=(b"app",), fs=None):
    return run(spec, list(argv), list(env), execfn, cwd, fs)


def prog(**kw) -> Spec:
    return Spec(program=Rlocation(PROG), **kw)


def fail_line(what: bytes) -> bytes:
    return b"tinylaunch: " + what + b"\n"


DEBUG = b"TINYLAUNCH_DEBUG=1"


# --------------------------------------------------------------------------- R3 discovery

def test_tier1_directory(T):
    put(T, "rf/" + PROG)
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf", b"HOME=/h"])
    D = T + b"/rf"
    assert r == Exec(file=D + b"/_main/bin/prog", argv=[D + b"/_main/bin/prog"],
                     envp=[b"RUNFILES_DIR=" + D, b"HOME=/h", b"JAVA_RUNFILES=" + D], stderr=b"")


def test_tier1_manifest_only(T):
    M = put(T, "m.txt", b"_main/bin/prog /usr/bin/prog\n")
    r = launch(prog(), env=[b"RUNFILES_MANIFEST_FILE=" + M])
    # No directory derivable from "m.txt": argv0 is the resolved path, dir vars removed.
    assert r == Exec(file=b"/usr/bin/prog", argv=[b"/usr/bin/prog"],
                     envp=[b"RUNFILES_MANIFEST_FILE=" + M], stderr=b"")


def test_tier1_both_sources_manifest_used(T):
    mkdir(T, "rf/_main")
    M = put(T, "rf/MANIFEST", b"_main/bin/prog /opt/prog\n")
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M, DEBUG])
    D = T + b"/rf"
    assert r == Exec(
        file=b"/opt/prog", argv=[D + b"/_main/bin/prog"],
        envp=[b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=" + M, DEBUG, b"JAVA_RUNFILES=" + D],
        stderr=b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
               b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n"
               b"tinylaunch: _main/bin/prog -> /opt/prog\n"
               b"tinylaunch: exec /opt/prog\n"
               b"tinylaunch: arg " + D + b"/_main/bin/prog\n")


def test_tier1_wins_over_tier2(T):
    put(T, "env_rf/" + PROG)
    put(T, "app.runfiles/" + PROG)
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/env_rf"], execfn=T + b"/app")
    assert r.file == T + b"/env_rf/_main/bin/prog"


@pytest.mark.parametrize("dir_value, manifest_value", [
    (b"", b""),                      # empty values
    (b"{T}/nope", b"{T}/nope"),      # missing
    (b"{T}/afile", b"{T}/adir"),     # a file is no directory, a directory no manifest
])
def test_tier1_rejected_falls_to_tier2(T, dir_value, manifest_value):
    put(T, "afile")
    mkdir(T, "adir")
    put(T, "app.runfiles/" + PROG)
    env = [b"RUNFILES_DIR=" + dir_value.replace(b"{T}", T),
           b"RUNFILES_MANIFEST_FILE=" + manifest_value.replace(b"{T}", T)]
    r = launch(prog(export_runfiles_env=False), env=env, execfn=T + b"/app")
    assert r == Exec(file=T + b"/app.runfiles/_main/bin/prog",
                     argv=[T + b"/app.runfiles/_main/bin/prog"], envp=env, stderr=b"")


def test_tier1_first_occurrence_only(T):
    put(T, "rf/" + PROG)
    env = [b"RUNFILES_DIR=", b"RUNFILES_DIR=" + T + b"/rf"]
    r = launch(prog(export_runfiles_env=False), env=env)
    assert r == Failure(127, fail_line(b"no runfiles: _main/bin/prog"))


def test_tier1_entry_without_equals_is_not_a_variable(T):
    put(T, "rf/" + PROG)
    r = launch(prog(export_runfiles_env=False), env=[b"RUNFILES_DIR"])
    assert r == Failure(127, fail_line(b"no runfiles: _main/bin/prog"))


def test_tier2_directory_and_runfiles_manifest(T):
    put(T, "app.runfiles/" + PROG)
    M = put(T, "app.runfiles_manifest", b"_main/x /x\n")
    put(T, "app.runfiles/MANIFEST", b"_main/x /y\n")
    r = launch(prog(args=(Rlocation("_main/x"),)), env=[DEBUG], execfn=T + b"/app")
    D = T + b"/app.runfiles"
    assert r == Exec(
        file=D + b"/_main/bin/prog", argv=[D + b"/_main/bin/prog", b"/x"],
        envp=[DEBUG, b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D, b"RUNFILES_MANIFEST_FILE=" + M],
        stderr=b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
               b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n"
               b"tinylaunch: _main/bin/prog -> " + D + b"/_main/bin/prog\n"
               b"tinylaunch: _main/x -> /x\n"
               b"tinylaunch: exec " + D + b"/_main/bin/prog\n"
               b"tinylaunch: arg " + D + b"/_main/bin/prog\n"
               b"tinylaunch: arg /x\n")


def test_tier2_manifest_inside_directory(T):
    M = put(T, "app.runfiles/MANIFEST", b"_main/bin/prog /from/manifest\n")
    r = launch(prog(), env=[DEBUG], execfn=T + b"/app")
    D = T + b"/app.runfiles"
    assert r.stderr.startswith(b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
                               b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n")
    assert r.file == b"/from/manifest"
    assert r.argv == [D + b"/_main/bin/prog"]


def test_tier2_manifest_without_directory(T):
    M = put(T, "app.runfiles_manifest", b"_main/bin/prog /p\n")
    r = launch(prog(), env=[b"RUNFILES_DIR=/stale", b"JAVA_RUNFILES=/stale"], execfn=T + b"/app")
    # argv0 via the derived directory (not checked); export removes the dir variables.
    assert r == Exec(file=b"/p", argv=[T + b"/app.runfiles/_main/bin/prog"],
                     envp=[b"RUNFILES_MANIFEST_FILE=" + M], stderr=b"")


def test_tier2_wins_over_tier3(T):
    put(T, "outer.runfiles/_main/tools/app.runfiles/" + PROG)
    put(T, "outer.runfiles/" + PROG)
    r = launch(prog(), execfn=T + b"/outer.runfiles/_main/tools/app")
    assert r.file == T + b"/outer.runfiles/_main/tools/app.runfiles/_main/bin/prog"


def test_tier3_inside_a_tree(T):
    put(T, "outer.runfiles/" + PROG)
    r = launch(prog(), env=[DEBUG], execfn=T + b"/outer.runfiles/_main/tools/app")
    D = T + b"/outer.runfiles"
    assert r.stderr.startswith(b"tinylaunch: RUNFILES_DIR=" + D + b"\ntinylaunch: _main")
    assert r.file == D + b"/_main/bin/prog"
    assert r.envp == [DEBUG, b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D]


def test_tier3_directory_is_not_checked(T):
    # E says it lies below "gone.runfiles": that is the directory source, existing or not.
    E = T + b"/gone.runfiles/_main/app"
    r = launch(prog(), execfn=E)
    assert r.file == T + b"/gone.runfiles/_main/bin/prog"


def test_tier3_innermost_tree_and_its_manifest(T):
    M = put(T, "a.runfiles/x/b.runfiles/MANIFEST", b"_main/bin/prog /inner\n")
    put(T, "a.runfiles/MANIFEST", b"_main/bin/prog /outer\n")
    r = launch(prog(), execfn=T + b"/a.runfiles/x/b.runfiles/y/app")
    D = T + b"/a.runfiles/x/b.runfiles"
    assert r == Exec(file=b"/inner", argv=[D + b"/_main/bin/prog"],
                     envp=[b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D,
                           b"RUNFILES_MANIFEST_FILE=" + M], stderr=b"")


def test_tier3_final_segment_is_the_launcher(T):
    mkdir(T, "app.runfiles")     # the launcher itself is named "app.runfiles"
    r = launch(prog(), execfn=T + b"/app.runfiles")
    assert r == Failure(127, fail_line(b"no runfiles: _main/bin/prog"))


def test_tier3_segment_must_end_in_runfiles(T):
    r = launch(prog(), execfn=T + b"/x.runfilesy/app")
    assert r == Failure(127, fail_line(b"no runfiles: _main/bin/prog"))


def test_no_execfn_skips_tiers_2_and_3(T):
    put(T, "app.runfiles/" + PROG)
    r = launch(prog(), execfn=None)
    assert r == Failure(127, fail_line(b"no runfiles: _main/bin/prog"))


@pytest.mark.parametrize("execfn", [b"bin/app", b"./bin/app", b"././bin/app"])
def test_relative_execfn_is_made_absolute(T, execfn):
    put(T, "bin/app.runfiles/" + PROG)
    M = put(T, "bin/app.runfiles_manifest", b"")
    r = launch(prog(), env=[DEBUG], execfn=execfn, cwd=T)
    D, M = T + b"/bin/app.runfiles", T + b"/bin/app.runfiles_manifest"
    assert r.stderr.startswith(b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
                               b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n")
    assert r.file == D + b"/_main/bin/prog"


def test_relative_execfn_cwd_root(T):
    put(T, "app.runfiles/" + PROG)
    r = launch(prog(), execfn=T[1:] + b"/app", cwd=b"/")
    assert r.file == T + b"/app.runfiles/_main/bin/prog"      # "/" + rel, no "//"


def test_relative_execfn_tier3(T):
    r = launch(prog(), execfn=b"./t.runfiles/_main/app", cwd=T)
    assert r.file == T + b"/t.runfiles/_main/bin/prog"


def test_relative_runfiles_dir_exported_absolute(T):
    put(T, "rf/" + PROG)
    r = launch(prog(), env=[b"RUNFILES_DIR=./rf"], cwd=T + b"/")
    D = T + b"/rf"
    assert r == Exec(file=D + b"/_main/bin/prog", argv=[D + b"/_main/bin/prog"],
                     envp=[b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D], stderr=b"")


def test_absolutise():
    assert absolutise(b"/a/./b", b"/cwd") == b"/a/./b"
    assert absolutise(b"a", b"/cwd") == b"/cwd/a"
    assert absolutise(b"././a/./b", b"/cwd") == b"/cwd/a/./b"
    assert absolutise(b".//a", b"/cwd") == b"/cwd//a"       # only "./" is removed
    assert absolutise(b"../a", b"/cwd") == b"/cwd/../a"
    assert absolutise(b"a", b"/") == b"/a"
    assert absolutise(b".", b"/cwd") == b"/cwd/."


def test_getcwd_failure_when_relative_source_accepted(T, monkeypatch):
    put(T, "rf/" + PROG)
    monkeypatch.chdir(T)
    r = launch(Spec(program=Literal("/bin/x")), env=[b"RUNFILES_DIR=rf", DEBUG], cwd=errno.ENOENT)
    assert r == Failure(125, fail_line(b"getcwd: ENOENT"))
    # An absolute source never needs getcwd.
    r = launch(Spec(program=Literal("/bin/x")), env=[b"RUNFILES_DIR=" + T + b"/rf"], cwd=errno.ENOENT)
    assert isinstance(r, Exec)


def test_no_source_nothing_to_resolve(T):
    env = [b"RUNFILES_DIR=/nonexistent", b"RUNFILES_MANIFEST_FILE=/nonexistent"]
    r = launch(Spec(program=Literal("/bin/x")), env=env + [DEBUG], execfn=T + b"/app")
    assert r == Exec(file=b"/bin/x", argv=[b"/bin/x"], envp=env + [DEBUG],
                     stderr=b"tinylaunch: exec /bin/x\ntinylaunch: arg /bin/x\n")


def test_no_discovery_without_rlocation_and_export(T):
    put(T, "rf/" + PROG)
    env = [b"RUNFILES_DIR=" + T + b"/rf", DEBUG]
    r = launch(Spec(program=Literal("/bin/x"), export_runfiles_env=False), env=env)
    assert r == Exec(file=b"/bin/x", argv=[b"/bin/x"], envp=env,
                     stderr=b"tinylaunch: exec /bin/x\ntinylaunch: arg /bin/x\n")


# --------------------------------------------------------------------------- R4 resolution

def manifest_world(T, text: bytes, **kw):
    """Launch ``prog``-like specs against a manifest-only tier 1."""
    M = put(T, "the_manifest", text)
    return M, [b"RUNFILES_MANIFEST_FILE=" + M]


def resolve(T, text: bytes, path: str, extra_env=()):
    """The result of resolving ``path`` through a manifest holding ``text``."""
    M, env = manifest_world(T, text)
    r = launch(Spec(program=Rlocation(path), export_runfiles_env=False, argv0="resolved"),
               env=env + list(extra_env))
    return r.file if isinstance(r, Exec) else r


def test_directory_first(T):
    put(T, "rf/" + PROG)
    M = put(T, "rf/MANIFEST", b"_main/bin/prog /from/manifest\n")
    env = [b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M, b"RUNFILES_MANIFEST_FILE=2"]
    r = launch(prog(), env=env)
    D = T + b"/rf"
    # Resolved through the tree: the manifest is unused and its variable removed.
    assert r == Exec(file=D + b"/_main/bin/prog", argv=[D + b"/_main/bin/prog"],
                     envp=[b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D], stderr=b"")


def test_directory_result_is_spelled_through_the_tree(T):
    target = put(T, "elsewhere/real")
    mkdir(T, "rf/_main/bin")
    os.symlink(target, T + b"/rf/_main/bin/prog")
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf"])
    assert r.file == T + b"/rf/_main/bin/prog"


def test_directory_dangling_symlink_falls_to_manifest(T):
    mkdir(T, "rf/_main/bin")
    os.symlink(b"/nonexistent/target", T + b"/rf/_main/bin/prog")
    M = put(T, "rf/MANIFEST", b"_main/bin/prog /from/manifest\n")
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M])
    assert r.file == b"/from/manifest"


def test_directory_enotdir_goes_on(T):
    put(T, "rf/_main/bin")                     # a file where a directory is expected
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf"])
    assert r.file == T + b"/rf/_main/bin/prog"     # directory only: D/P anyway


def test_directory_only_missing_is_d_slash_p(T):
    mkdir(T, "rf")
    r = launch(prog(argv0="resolved"), env=[b"RUNFILES_DIR=" + T + b"/rf", DEBUG])
    D = T + b"/rf"
    assert r.stderr == (b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
                        b"tinylaunch: _main/bin/prog -> " + D + b"/_main/bin/prog\n"
                        b"tinylaunch: exec " + D + b"/_main/bin/prog\n"
                        b"tinylaunch: arg " + D + b"/_main/bin/prog\n")


def test_directory_stat_eloop_is_fatal(T):
    mkdir(T, "rf/_main")
    os.symlink(b"loop", T + b"/rf/_main/loop")
    r = launch(Spec(program=Rlocation("_main/loop/x")), env=[b"RUNFILES_DIR=" + T + b"/rf", DEBUG])
    D = T + b"/rf"
    assert r == Failure(125, b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
                             b"tinylaunch: stat " + D + b"/_main/loop/x: ELOOP\n")


def test_directory_stat_enametoolong_is_fatal_by_number(T):
    mkdir(T, "rf/_main")
    long = "_main/" + "n" * 300
    r = launch(Spec(program=Rlocation(long)), env=[b"RUNFILES_DIR=" + T + b"/rf"])
    assert r == Failure(125, fail_line(b"stat " + T + b"/rf/" + long.encode() + b": errno 36"))


def test_runfiles_dir_with_trailing_slash(T):
    put(T, "rf/" + PROG)
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf/"])
    assert r.file == T + b"/rf//_main/bin/prog"
    assert r.envp[0] == b"RUNFILES_DIR=" + T + b"/rf/"


def test_directory_and_manifest_neither_has_it(T):
    mkdir(T, "rf")
    M = put(T, "rf/MANIFEST", b"_main/other /o\n")
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M])
    assert r == Failure(127, fail_line(b"not in runfiles: _main/bin/prog"))


def test_manifest_exact(T):
    assert resolve(T, b"_main/a /x/a\n_main/bin/prog /x/prog\n", PROG) == b"/x/prog"


def test_manifest_not_found(T):
    assert resolve(T, b"_main/a /x/a\n", PROG) == Failure(127, fail_line(b"not in runfiles: _main/bin/prog"))


def test_manifest_empty_file(T):
    assert resolve(T, b"", PROG) == Failure(127, fail_line(b"not in runfiles: _main/bin/prog"))


def test_manifest_exact_beats_earlier_prefix(T):
    assert resolve(T, b"_main/bin /dir\n_main/bin/prog /exact\n", PROG) == b"/exact"


def test_manifest_longest_prefix(T):
    text = b"_main /m\n_main/d/e /long\n_main/d /short\n"
    assert resolve(T, text, "_main/d/e/f/g") == b"/long/f/g"
    assert resolve(T, text, "_main/d/x") == b"/short/x"
    assert resolve(T, text, "_main/q") == b"/m/q"


def test_manifest_partial_segment_decoy(T):
    text = b"c/di /decoy\nc/dirx /decoy2\nc /c\n"
    assert resolve(T, text, "c/dir/file") == b"/c/dir/file"
    text = b"c/di /decoy\nc/dir /dir\n"
    assert resolve(T, text, "c/dir/file") == b"/dir/file"
    assert resolve(T, text, "c/dirfile") == Failure(127, fail_line(b"not in runfiles: c/dirfile"))


def test_manifest_prefix_does_not_match_longer_link(T):
    assert resolve(T, b"c/dir/file /f\n", "c/dir") == Failure(127, fail_line(b"not in runfiles: c/dir"))


def test_manifest_duplicates_first_wins(T):
    assert resolve(T, b"a/b /first\na/b /second\n", "a/b") == b"/first"
    assert resolve(T, b"a /first\na /second\n", "a/b") == b"/first/b"


def test_manifest_target_with_spaces(T):
    assert resolve(T, b"a/b /with space/x y\n", "a/b") == b"/with space/x y"


def test_manifest_no_trailing_newline_and_empty_lines(T):
    text = b"\n\n_main/a /a\n\n\n_main/bin/prog /last"
    assert resolve(T, text, PROG) == b"/last"
    assert resolve(T, b"\n_main/bin/prog", PROG) == b"/dev/null"
    assert resolve(T, b"_main/bin/prog", PROG) == b"/dev/null"


def test_manifest_empty_target_is_dev_null(T):
    text = b"_main/empty\n_main/empty2 \n_main/tree\n"
    assert resolve(T, text, "_main/empty") == b"/dev/null"
    assert resolve(T, text, "_main/empty2") == b"/dev/null"
    assert resolve(T, text, "_main/tree/x/y") == b"/dev/null/x/y"


def test_manifest_escaped_lines(T):
    text = (b" _main/a\\sb /t/a b\n"                  # \s in the link is a space
            b" _main/nl\\nx /t/nl\\nx\n"              # \n in both
            b" _main/bs\\bx /t/bs\\bx\n"              # \b in both
            b" _main/sp /t/\\s\n"                     # \s in a target stays
            b" _main/bad\\x /t/bad\\x\\\n"            # invalid escapes and a trailing \ stay
            b" _main/dbl\\\\n /t/dbl\\\\n\n"          # \\n: a backslash, then \n
            b" _main/bsb\\bs /t/bsb\\bs\n")           # \bs: a backslash then s, not a space
    assert resolve(T, text, "_main/a b") == b"/t/a b"
    assert resolve(T, text, "_main/nl\nx") == b"/t/nl\nx"
    assert resolve(T, text, "_main/bs\\x") == b"/t/bs\\x"
    assert resolve(T, text, "_main/sp") == b"/t/\\s"
    assert resolve(T, text, "_main/bad\\x") == b"/t/bad\\x\\"
    assert resolve(T, text, "_main/dbl\\\n") == b"/t/dbl\\\n"
    assert resolve(T, text, "_main/bsb\\s") == b"/t/bsb\\s"
    assert resolve(T, text, "_main/a b/deeper") == b"/t/a b/deeper"
    # An escaped line at the very start, and an escaped link with no target.
    assert resolve(T, b" x\\sy /z\n", "x y") == b"/z"
    assert resolve(T, b" x\\sy", "x y") == b"/dev/null"


def test_manifest_escaped_and_plain_spelling_first_wins(T):
    # " a\b" is the link a-backslash; " a\bb" is a-backslash-b.
    text = b" a\\b /first\n a\\bb /second\n"
    assert resolve(T, text, "a\\") == b"/first"
    assert resolve(T, text, "a\\b") == b"/second"
    text = b"a\\q /plain\n a\\bq /escaped\n"      # both are links a\q
    assert resolve(T, text, "a\\q") == b"/plain"
    text = b" a\\bq /escaped\na\\q /plain\n"
    assert resolve(T, text, "a\\q") == b"/escaped"


def test_manifest_plain_line_is_not_decoded(T):
    assert resolve(T, b"a\\sb /t\\n\n", "a\\sb") == b"/t\\n"


def test_manifest_line_split_at_first_space(T):
    # A relative target "b c" is a hop from "a": Q = "b c", not in the manifest.
    assert resolve(T, b"a b c\n", "a") == Failure(127, fail_line(b"not in runfiles: a"))
    assert resolve(T, b"a b c\nb c /found\n", "a") == Failure(127, fail_line(b"not in runfiles: a"))
    assert resolve(T, b"a b c\n b\\sc /found\n", "a") == b"/found"


def test_manifest_nul_in_target_ends_it(T):
    assert resolve(T, b"a /x\0y\n", "a") == b"/x"
    assert resolve(T, b"a /x\0y\n", "a/r") == b"/x/r"


def test_relative_target_chain(T):
    text = (b"_main/bin/prog ../lib/real\n"          # -> _main/lib/real
            b"_main/lib/real ./../lib2//real2\n"     # -> _main/lib2/real2
            b"_main/lib2 /abs/lib2\n")               # prefix: /abs/lib2/real2
    M, env = manifest_world(T, text)
    r = launch(prog(), env=env + [DEBUG])
    assert r == Exec(file=b"/abs/lib2/real2", argv=[b"/abs/lib2/real2"],
                     envp=[b"RUNFILES_MANIFEST_FILE=" + M, DEBUG],
                     stderr=b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n"
                            b"tinylaunch: _main/bin/prog -> /abs/lib2/real2\n"
                            b"tinylaunch: exec /abs/lib2/real2\n"
                            b"tinylaunch: arg /abs/lib2/real2\n")


def test_relative_target_with_rest(T):
    text = b"_main/tree other/tree\n_main/other/tree /abs/tree\nx/y /xy\n"
    assert resolve(T, text, "_main/tree/a/b") == b"/abs/tree/a/b"
    # A link without "/" has an empty dirname.
    assert resolve(T, b"top x/y\nx/y /xy\n", "top") == b"/xy"
    assert resolve(T, b"top x\nx /x\n", "top/rest") == b"/x/rest"


def test_relative_target_ending_in_empty_target(T):
    assert resolve(T, b"a/b c\na/c\n", "a/b") == b"/dev/null"


def test_relative_target_climbs_above_root(T):
    text = b"_main/bin/prog ../../../x\n"
    assert resolve(T, text, PROG) == Failure(125, fail_line(b"chain escapes root: _main/bin/prog"))
    # Exactly to the root is empty: escapes too.
    assert resolve(T, b"a/b ..\n", "a/b") == Failure(125, fail_line(b"chain escapes root: a/b"))
    assert resolve(T, b"a .\n", "a") == Failure(125, fail_line(b"chain escapes root: a"))
    # Climbing and coming back down within the path is fine; above the root even for a
    # moment is not.
    assert resolve(T, b"a/b/c ../../a/d\na/d /ad\n", "a/b/c") == b"/ad"
    assert resolve(T, b"a/b ../../a/c\na/c /ac\n", "a/b") == Failure(125, fail_line(b"chain escapes root: a/b"))


def test_relative_target_dangling(T):
    assert resolve(T, b"a/b c\n", "a/b") == Failure(127, fail_line(b"not in runfiles: a/b"))


def chain(hops: int) -> bytes:
    """l0 -> l1 -> ... -> l<hops> (absolute): ``hops`` relative targets."""
    lines = [b"d/l%d l%d\n" % (i, i + 1) for i in range(hops)]
    return b"".join(lines) + b"d/l%d /end\n" % hops


def test_chain_of_32_hops_resolves(T):
    assert resolve(T, chain(32), "d/l0") == b"/end"
    assert resolve(T, chain(32), "d/l1") == b"/end"


def test_chain_of_33_hops_fails(T):
    assert resolve(T, chain(33), "d/l0") == Failure(125, fail_line(b"too many hops: d/l0"))


def test_chain_too_long_reported_before_escape(T):
    text = chain(32).replace(b"d/l32 /end\n", b"d/l32 ../../x\n")
    assert resolve(T, text, "d/l0") == Failure(125, fail_line(b"too many hops: d/l0"))


def test_manifest_loop_is_too_long(T):
    assert resolve(T, b"a/x y\na/y x\n", "a/x") == Failure(125, fail_line(b"too many hops: a/x"))


def test_path_too_long(T):
    t4095 = b"/" + b"t" * 4094
    assert resolve(T, b"a " + t4095 + b"\n", "a") == t4095
    assert resolve(T, b"a " + t4095 + b"t\n", "a") == Failure(125, fail_line(b"path too long: a"))
    # With the rest appended: 4093 + "/" + "r" = 4095 fine, "rr" is 4096.
    t4093 = b"/" + b"t" * 4092
    assert resolve(T, b"a " + t4093 + b"\n", "a/r") == t4093 + b"/r"
    assert resolve(T, b"a " + t4093 + b"\n", "a/rr") == Failure(125, fail_line(b"path too long: a/rr"))
    # /dev/null counts too.
    long_rest = "r" * 4086      # "/dev/null/" is 10 bytes: 4096
    assert resolve(T, b"a\n", "a/" + long_rest) == Failure(125, fail_line(b"path too long: a/" + long_rest.encode()))


def test_path_too_long_hop(T):
    seg = b"s" * 4095            # Q = "seg" (4095) fine; "seg" + "x" is 4096
    assert resolve(T, b"a " + seg + b"\n" + seg + b" /ok\n", "a") == b"/ok"
    assert resolve(T, b"a " + seg + b"x\n", "a") == Failure(125, fail_line(b"path too long: a"))
    # Measured after normalising: a long un-normalised target is fine.
    text = b"a/b " + b"./" * 3000 + b"c\na/c /ac\n"
    assert resolve(T, text, "a/b") == b"/ac"


def test_manifest_marks_manifest_used_for_export(T):
    mkdir(T, "rf")
    M = put(T, "rf/MANIFEST", b"_main/x /x\n")
    put(T, "rf/" + PROG)
    env = [b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M]
    D = T + b"/rf"
    r = launch(prog(env=(EnvOp("set", "X", Rlocation("_main/x")),)), env=env)
    assert r.envp == [b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=" + M, b"X=/x",
                      b"JAVA_RUNFILES=" + D]


# --------------------------------------------------------------------------- R5 argv

def test_argv_order(T):
    put(T, "rf/" + PROG)
    put(T, "rf/_main/data")
    D = T + b"/rf"
    spec = prog(args=(Literal("-x"), Rlocation("_main/data"), Literal("")))
    r = launch(spec, env=[b"RUNFILES_DIR=" + D], argv=(b"me", b"a1", b"", b"a3"))
    assert r.argv == [D + b"/_main/bin/prog", b"-x", D + b"/_main/data", b"", b"a1", b"", b"a3"]


@pytest.mark.parametrize("manifest_name, argv0", [
    ("x.runfiles_manifest", b"{T}/x.runfiles/_main/bin/prog"),
    ("x/MANIFEST", b"{T}/x/_main/bin/prog"),
    ("x/manifest", b"/resolved"),
    ("MANIFEST", b"{T}/_main/bin/prog"),
])
def test_argv0_logical_from_manifest(T, manifest_name, argv0):
    M = put(T, manifest_name, b"_main/bin/prog /resolved\n")
    r = launch(prog(), env=[b"RUNFILES_MANIFEST_FILE=" + M])
    assert r.argv == [argv0.replace(b"{T}", T)]


def test_argv0_manifest_at_root():
    class RootManifest(RealFS):
        def open_regular(self, path):
            return BytesFile(b"_main/bin/prog /resolved\n") if path == b"/MANIFEST" else None
    r = launch(prog(), env=[b"RUNFILES_MANIFEST_FILE=/MANIFEST", b"RUNFILES_DIR=x"], fs=RootManifest())
    assert r == Exec(file=b"/resolved", argv=[b"/_main/bin/prog"],
                     envp=[b"RUNFILES_MANIFEST_FILE=/MANIFEST"], stderr=b"")


def test_argv0_modes(T):
    put(T, "rf/" + PROG)
    D = T + b"/rf"
    env = [b"RUNFILES_DIR=" + D]
    assert launch(prog(argv0="resolved"), env=env, argv=(b"me", b"1")).argv == [D + b"/_main/bin/prog", b"1"]
    assert launch(prog(argv0="launcher"), env=env, argv=(b"me", b"1")).argv == [b"me", b"1"]
    assert launch(prog(argv0="launcher"), env=env, argv=()).argv == [b""]
    assert launch(prog(argv0=Argv0Literal("name")), env=env, argv=()).argv == [b"name"]
    assert launch(prog(argv0="logical"), env=env, argv=()).argv == [D + b"/_main/bin/prog"]


def test_argv0_logical_differs_from_resolved(T):
    mkdir(T, "rf")
    M = put(T, "rf/MANIFEST", b"_main/bin/prog /real/prog\n")
    env = [b"RUNFILES_DIR=" + T + b"/rf", b"RUNFILES_MANIFEST_FILE=" + M]
    assert launch(prog(), env=env).argv == [T + b"/rf/_main/bin/prog"]
    assert launch(prog(argv0="resolved"), env=env).argv == [b"/real/prog"]


def test_argv0_logical_plain_path_program():
    r = launch(Spec(program=Literal("/usr/bin/env"), export_runfiles_env=False), argv=(b"me", b"x"))
    assert r == Exec(file=b"/usr/bin/env", argv=[b"/usr/bin/env", b"x"], envp=[], stderr=b"")


def test_utf8_values():
    r = launch(Spec(program=Literal("/bin/é"), args=(Literal("ü"),), export_runfiles_env=False,
                    argv0=Argv0Literal("ñ")))
    assert r.file == b"/bin/\xc3\xa9"
    assert r.argv == [b"\xc3\xb1", b"\xc3\xbc"]      # the launcher's argv[0] is not passed on


# --------------------------------------------------------------------------- R6 env ops

def env_after(ops, env, extra=()):
    spec = Spec(program=Literal("/bin/x"), env=tuple(ops), export_runfiles_env=False)
    r = launch(spec, env=env)
    assert isinstance(r, Exec), r
    return r.envp


def test_env_set():
    env = [b"A=1", b"B=2", b"A=3", b"A"]
    assert env_after([EnvOp("set", "A", Literal("x"))], env) == [b"A=x", b"B=2", b"A=3", b"A"]
    assert env_after([EnvOp("set", "C", Literal(""))], env) == env + [b"C="]
    # an entry without "=" never matches
    assert env_after([EnvOp("set", "A", Literal("x"))], [b"A", b"AB=1"]) == [b"A", b"AB=1", b"A=x"]


def test_env_default():
    assert env_after([EnvOp("default", "A", Literal("d"))], [b"B=1"]) == [b"B=1", b"A=d"]
    assert env_after([EnvOp("default", "A", Literal("d"))], [b"A=", b"B=1"]) == [b"A=", b"B=1"]
    assert env_after([EnvOp("default", "A", Literal("d"))], [b"A"]) == [b"A", b"A=d"]


def test_env_unset():
    env = [b"A=1", b"B=2", b"A=", b"A", b"AA=1"]
    assert env_after([EnvOp("unset", "A")], env) == [b"B=2", b"A", b"AA=1"]
    assert env_after([EnvOp("unset", "Z")], env) == env


@pytest.mark.parametrize("op, env, expected", [
    ("prepend", [b"P=/old", b"P=/second"], [b"P=/new:/old", b"P=/second"]),
    ("append", [b"P=/old", b"P=/second"], [b"P=/old:/new", b"P=/second"]),
    ("prepend", [b"P=", b"P=/second"], [b"P=/new", b"P=/second"]),
    ("append", [b"X=1"], [b"X=1", b"P=/new"]),
    ("prepend", [b"P", b"X=1"], [b"P", b"X=1", b"P=/new"]),
])
def test_env_prepend_append(op, env, expected):
    assert env_after([EnvOp(op, "P", Literal("/new"))], env) == expected


def test_env_separators():
    assert env_after([EnvOp("prepend", "P", Literal("a"), separator=";;")], [b"P=b"]) == [b"P=a;;b"]
    assert env_after([EnvOp("append", "P", Literal("a"), separator="")], [b"P=b"]) == [b"P=ba"]
    assert env_after([EnvOp("append", "P", Literal(""), separator=":")], [b"P=b"]) == [b"P=b:"]


def test_env_ops_in_order():
    ops = [EnvOp("set", "A", Literal("1")), EnvOp("append", "A", Literal("2")),
           EnvOp("unset", "B"), EnvOp("default", "B", Literal("3")),
           EnvOp("prepend", "A", Literal("0"), separator="-")]
    assert env_after(ops, [b"B=x", b"C=y"]) == [b"C=y", b"A=0-1:2", b"B=3"]


def test_env_op_rlocation_values_resolve_in_order(T):
    M = put(T, "m", b"_main/a /a\n_main/b /b\n")
    ops = (EnvOp("set", "A", Rlocation("_main/a")), EnvOp("default", "HOME", Rlocation("_main/b")))
    spec = Spec(program=Literal("/bin/x"), args=(Rlocation("_main/b"),), env=ops, export_runfiles_env=False)
    env = [b"RUNFILES_MANIFEST_FILE=" + M, DEBUG, b"HOME=/h"]
    r = launch(spec, env=env)
    # The default's value is resolved (and traced) even though HOME is present.
    assert r == Exec(file=b"/bin/x", argv=[b"/bin/x", b"/b"], envp=env + [b"A=/a"],
                     stderr=b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n"
                            b"tinylaunch: _main/b -> /b\n"
                            b"tinylaunch: _main/a -> /a\n"
                            b"tinylaunch: _main/b -> /b\n"
                            b"tinylaunch: exec /bin/x\n"
                            b"tinylaunch: arg /bin/x\n"
                            b"tinylaunch: arg /b\n")


def test_env_default_present_still_fails_to_resolve(T):
    M = put(T, "m", b"_main/a /a\n")
    spec = Spec(program=Literal("/bin/x"), env=(EnvOp("default", "HOME", Rlocation("_main/zz")),))
    r = launch(spec, env=[b"RUNFILES_MANIFEST_FILE=" + M, b"HOME=/h"])
    assert r == Failure(127, fail_line(b"not in runfiles: _main/zz"))


# --------------------------------------------------------------------------- R7 export

def test_export_directory_replaces_in_place_and_removes_manifest(T):
    put(T, "rf/" + PROG)
    D = T + b"/rf"
    env = [b"JAVA_RUNFILES=/old", b"RUNFILES_MANIFEST_FILE=/x", b"RUNFILES_DIR=" + D,
           b"RUNFILES_MANIFEST_FILE=/y", b"RUNFILES_MANIFEST_FILE"]
    r = launch(prog(), env=env)
    assert r.envp == [b"JAVA_RUNFILES=" + D, b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE"]


def test_export_manifest_only_with_existing_directory(T):
    mkdir(T, "x.runfiles")
    M = put(T, "x.runfiles_manifest", b"_main/bin/prog /p\n")
    r = launch(prog(), env=[b"RUNFILES_MANIFEST_FILE=" + M, b"JAVA_RUNFILES=/old"])
    D = T + b"/x.runfiles"
    assert r.envp == [b"RUNFILES_MANIFEST_FILE=" + M, b"JAVA_RUNFILES=" + D, b"RUNFILES_DIR=" + D]


def test_export_manifest_only_directory_is_a_file(T):
    put(T, "x.runfiles")
    M = put(T, "x.runfiles_manifest", b"_main/bin/prog /p\n")
    r = launch(prog(), env=[b"RUNFILES_DIR=/o", b"JAVA_RUNFILES=/o", b"RUNFILES_MANIFEST_FILE=" + M,
                            b"JAVA_RUNFILES=/o2"])
    assert r.envp == [b"RUNFILES_MANIFEST_FILE=" + M]


def test_export_manifest_relative_made_absolute(T):
    put(T, "x/MANIFEST", b"_main/bin/prog /p\n")
    r = launch(prog(), env=[b"RUNFILES_MANIFEST_FILE=./x/MANIFEST"], cwd=T)
    D = T + b"/x"
    assert r.envp == [b"RUNFILES_MANIFEST_FILE=" + D + b"/MANIFEST", b"RUNFILES_DIR=" + D,
                      b"JAVA_RUNFILES=" + D]


def test_export_runs_after_ops(T):
    put(T, "rf/" + PROG)
    D = T + b"/rf"
    ops = (EnvOp("set", "RUNFILES_DIR", Literal("/mine")), EnvOp("set", "RUNFILES_MANIFEST_FILE", Literal("/m")))
    r = launch(prog(env=ops), env=[b"RUNFILES_DIR=" + D])
    assert r.envp == [b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D]


def test_export_off(T):
    put(T, "rf/" + PROG)
    D = T + b"/rf"
    env = [b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=/gone"]
    assert launch(prog(export_runfiles_env=False), env=env).envp == env


def test_export_on_without_source_leaves_env():
    env = [b"RUNFILES_DIR=/nonexistent", b"JAVA_RUNFILES=/j"]
    ops = (EnvOp("set", "A", Literal("1")),)
    assert launch(Spec(program=Literal("/bin/x"), env=ops), env=env).envp == env + [b"A=1"]


# --------------------------------------------------------------------------- R9 debug

@pytest.mark.parametrize("env, on", [
    ([b"TINYLAUNCH_DEBUG=1"], True),
    ([b"TINYLAUNCH_DEBUG=0"], True),            # any non-empty value
    ([b"TINYLAUNCH_DEBUG="], False),
    ([b"TINYLAUNCH_DEBUG"], False),
    ([b"TINYLAUNCH_DEBUG=", b"TINYLAUNCH_DEBUG=1"], False),   # the first entry decides
    ([b"TINYLAUNCH_DEBUG", b"TINYLAUNCH_DEBUG=1"], True),     # "=" less entries are not it
    ([b"TINYLAUNCH_DEBUGX=1"], False),
])
def test_debug_switch(env, on):
    r = launch(Spec(program=Literal("/bin/x"), export_runfiles_env=False), env=env)
    assert r.stderr == (b"tinylaunch: exec /bin/x\ntinylaunch: arg /bin/x\n" if on else b"")


def test_debug_is_read_before_ops():
    ops = (EnvOp("set", "TINYLAUNCH_DEBUG", Literal("1")),)
    r = launch(Spec(program=Literal("/bin/x"), env=ops, export_runfiles_env=False), env=[])
    assert r.stderr == b"" and r.envp == [b"TINYLAUNCH_DEBUG=1"]


def test_failure_keeps_trace_so_far(T):
    put(T, "rf/" + PROG)
    mkdir(T, "rf/_main/a")
    D = T + b"/rf"
    M = put(T, "m", b"")
    spec = prog(args=(Rlocation("_main/a"), Rlocation("_main/missing")))
    r = launch(spec, env=[b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=" + M, DEBUG])
    assert r == Failure(127, b"tinylaunch: RUNFILES_DIR=" + D + b"\n"
                             b"tinylaunch: RUNFILES_MANIFEST_FILE=" + M + b"\n"
                             b"tinylaunch: _main/bin/prog -> " + D + b"/_main/bin/prog\n"
                             b"tinylaunch: _main/a -> " + D + b"/_main/a\n"
                             b"tinylaunch: not in runfiles: _main/missing\n")


def test_no_runfiles_error_with_debug(T):
    r = launch(prog(), env=[DEBUG])
    assert r == Failure(127, b"tinylaunch: no runfiles: _main/bin/prog\n")


# --------------------------------------------------------------------------- R8 errors

@pytest.mark.parametrize("err, status, text", [
    (errno.ENOENT, 127, b"ENOENT"), (errno.ENOTDIR, 127, b"ENOTDIR"),
    (errno.E2BIG, 125, b"E2BIG"), (errno.ENOMEM, 125, b"ENOMEM"),
    (errno.EACCES, 126, b"EACCES"), (errno.ENOEXEC, 126, b"ENOEXEC"),
    (errno.ELOOP, 126, b"ELOOP"), (errno.ETXTBSY, 126, b"ETXTBSY"),
    (errno.EISDIR, 126, b"errno 21"), (errno.ENAMETOOLONG, 126, b"errno 36"),
    (errno.EIO, 126, b"errno 5"), (errno.EINVAL, 126, b"errno 22"),
])
def test_exec_failure(err, status, text):
    assert exec_failure(b"/x/prog", err, b"trace\n") == Failure(status, b"trace\ntinylaunch: exec /x/prog: " + text + b"\n")


def test_errno_text():
    assert errno_text(2) == b"ENOENT"
    assert errno_text(13) == b"EACCES"
    assert errno_text(4) == b"errno 4"
    assert errno_text(133) == b"errno 133"


class FakeFS(RealFS):
    """The real filesystem with some stat results replaced by an errno."""

    def __init__(self, errors):
        self.errors = errors

    def stat_mode(self, path):
        if path in self.errors:
            raise OSError(self.errors[path], os.strerror(self.errors[path]))
        return super().stat_mode(path)


@pytest.mark.parametrize("err, text", [(errno.EACCES, b"EACCES"), (errno.EIO, b"errno 5")])
def test_directory_stat_error_is_fatal(T, err, text):
    mkdir(T, "rf")
    M = put(T, "rf/MANIFEST", b"_main/bin/prog /p\n")
    D = T + b"/rf"
    fs = FakeFS({D + b"/_main/bin/prog": err})
    r = launch(prog(), env=[b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=" + M], fs=fs)
    assert r == Failure(125, fail_line(b"stat " + D + b"/_main/bin/prog: " + text))


def test_tier1_directory_stat_error_is_not_a_source(T):
    put(T, "app.runfiles/" + PROG)
    fs = FakeFS({T + b"/rf": errno.EACCES})
    mkdir(T, "rf")
    r = launch(prog(), env=[b"RUNFILES_DIR=" + T + b"/rf"], execfn=T + b"/app", fs=fs)
    assert r.file == T + b"/app.runfiles/_main/bin/prog"


class BrokenFile:
    def __init__(self):
        self.closed = False

    def read(self):
        raise OSError(errno.EIO, "I/O error")

    def close(self):
        self.closed = True


def test_manifest_read_error_on_acceptance(T, monkeypatch):
    put(T, "rf/" + PROG)
    D = T + b"/rf"
    handle = BrokenFile()

    class FS(RealFS):
        def open_regular(self, path):
            return handle if path.endswith(b"/m") else None

    # Mapped when accepted, even if the tree resolves everything; the message names M
    # as found (before it is made absolute), and no trace line has been written yet.
    env = [b"RUNFILES_DIR=" + D, b"RUNFILES_MANIFEST_FILE=./m", DEBUG]
    r = launch(prog(), env=env, cwd=T, fs=FS())
    assert r == Failure(125, b"tinylaunch: read ./m: errno 5\n")
    assert handle.closed
    # Export alone needs discovery, so the failure stops a launch with nothing to resolve.
    r = launch(Spec(program=Literal("/bin/x")), env=[b"RUNFILES_MANIFEST_FILE=/m"], fs=FS())
    assert r == Failure(125, b"tinylaunch: read /m: errno 5\n")
    # A tier that is never looked at is never read.
    class Tier2Broken(RealFS):
        def open_regular(self, path):
            return BrokenFile() if path.endswith(b".runfiles_manifest") else None

    r = launch(prog(), env=[b"RUNFILES_DIR=" + D], execfn=T + b"/app", fs=Tier2Broken())
    assert r.file == D + b"/_main/bin/prog"
    r = launch(prog(), execfn=T + b"/app", fs=Tier2Broken())
    assert r == Failure(125, fail_line(b"read " + T + b"/app.runfiles_manifest: errno 5"))
    r = launch(prog(), execfn=b"app", cwd=T, fs=Tier2Broken())
    assert r == Failure(125, fail_line(b"read app.runfiles_manifest: errno 5"))

    # Tier 3 builds its MANIFEST path from the directory made absolute.
    class Tier3Broken(RealFS):
        def open_regular(self, path):
            return BrokenFile() if path == T + b"/t.runfiles/MANIFEST" else None

    r = launch(prog(), execfn=b"./t.runfiles/app", cwd=T, fs=Tier3Broken())
    assert r == Failure(125, fail_line(b"read " + T + b"/t.runfiles/MANIFEST: errno 5"))


class MemFS:
    """An in-memory tree: the minimal filesystem protocol, no symlinks."""

    def __init__(self, files, dirs):
        self.files, self.dirs = files, set(dirs)

    def stat_mode(self, path):
        if path in self.dirs:
            return stat.S_IFDIR | 0o755
        if path in self.files:
            return stat.S_IFREG | 0o644
        raise OSError(errno.ENOENT, "no such file")

    def open_regular(self, path):
        return BytesFile(self.files[path]) if path in self.files else None


def test_injected_filesystem():
    fs = MemFS(files={b"/w/app.runfiles/MANIFEST": b"_main/x /real/x\n", b"/w/app.runfiles/_main/bin/prog": b""},
               dirs=[b"/w", b"/w/app.runfiles", b"/w/app.runfiles/_main", b"/w/app.runfiles/_main/bin"])
    r = launch(prog(args=(Rlocation("_main/x"),)), execfn=b"app", cwd=b"/w", fs=fs)
    D = b"/w/app.runfiles"
    assert r == Exec(file=D + b"/_main/bin/prog", argv=[D + b"/_main/bin/prog", b"/real/x"],
                     envp=[b"RUNFILES_DIR=" + D, b"JAVA_RUNFILES=" + D,
                           b"RUNFILES_MANIFEST_FILE=" + D + b"/MANIFEST"], stderr=b"")


# --------------------------------------------------------------------------- pieces

def test_normalise():
    assert normalise(b"a/./b//c/") == b"a/b/c"
    assert normalise(b"/a/b/../c") == b"a/c"
    assert normalise(b"a/../..") is None
    assert normalise(b"..") is None
    assert normalise(b"a/..") is None
    assert normalise(b"") is None
    assert normalise(b"...") == b"..."


def test_decode_escapes():
    assert decode_escapes(b"a\\sb\\nc\\bd", True) == b"a b\nc\\d"
    assert decode_escapes(b"a\\sb\\nc\\bd", False) == b"a\\sb\nc\\d"
    assert decode_escapes(b"\\", True) == b"\\"
    assert decode_escapes(b"\\\\n", True) == b"\\\n"
    assert decode_escapes(b"\\bs", True) == b"\\s"
    assert decode_escapes(b"\\x\\", False) == b"\\x\\"


def test_parse_line():
    assert parse_line(b"a b c") == (b"a", b"b c")
    assert parse_line(b"a") == (b"a", b"")
    assert parse_line(b"a ") == (b"a", b"")
    assert parse_line(b" a\\sb c\\sd") == (b"a b", b"c\\sd")
    assert parse_line(b" ") == (b"", b"")


def test_manifest_dir():
    assert manifest_dir(b"/a/x.runfiles_manifest") == b"/a/x.runfiles"
    assert manifest_dir(b"/a/x/MANIFEST") == b"/a/x"
    assert manifest_dir(b"/a/xMANIFEST") is None
    assert manifest_dir(b"/a/x.runfiles/manifest") is None


def test_scan_manifest_returns_link_target_rest():
    data = b"a/b /ab\na/b/c/d /abcd\n"
    assert scan_manifest(data, b"a/b") == (b"a/b", b"/ab", None)
    assert scan_manifest(data, b"a/b/c/d/e/f") == (b"a/b/c/d", b"/abcd", b"e/f")
    assert scan_manifest(data, b"a/b/c") == (b"a/b", b"/ab", b"c")
    assert scan_manifest(data, b"a") is None


def naive_scan(data: bytes, key: bytes):
    """The one-pass line scan the launcher does, the slow obvious way."""
    best = None
    for line in data.split(b"\n"):
        if not line:
            continue
        link, target = parse_line(line)
        if link == key:
            return link, target, None
        if key.startswith(link + b"/") and (best is None or len(link) > len(best[0])):
            best = (link, target, key[len(link) + 1:])
    return best


_piece = st.sampled_from(["a", "b", "a b", "\\", "\n", "s", "n", "\\s", "\\b", "\\n", "/", " ", "c\0"])
_text = st.lists(_piece, max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.tuples(st.booleans(), _text, st.one_of(st.none(), _text)), max_size=8),
       key=st.lists(st.sampled_from(["a", "b", "a b", "\\", "\n", "\\s"]), min_size=1, max_size=4).map("/".join),
       trailing=st.booleans())
def test_scan_manifest_matches_naive_scan(lines, key, trailing):
    raw = []
    for escaped, link, target in lines:
        # A raw link holds no space (it ends there) and no line holds a newline.
        text = (" " if escaped else "") + link.replace(" ", "").replace("\n", "")
        if target is not None:
            text += " " + target.replace("\n", "")
        raw.append(text.encode())
    data = b"\n".join(raw) + (b"\n" if trailing else b"")
    assert scan_manifest(data, key.encode()) == naive_scan(data, key.encode())


def test_large_manifest_is_fast(T):
    # 64 MiB of filler with near misses before the one line that matters.
    filler = b"".join(b"_main/filler/d%03d/file%06d.txt /nonexistent/filler/%06d\n" % (i % 997, i, i)
                      for i in range(20000))
    decoys = b"_main /decoy\n_main/app /decoy/app\n_main/app/pro /decoy/pro\n _main/app/prog\\s /decoy/esc\n"
    blocks = (64 << 20) // len(filler) + 1
    M = T + b"/big"
    with open(M, "wb") as f:
        for _ in range(blocks):
            f.write(filler)
        f.write(decoys + b"_main/app/prog /real/prog\n_main/data /real/data")
    assert os.path.getsize(M) > 64 << 20
    spec = Spec(program=Rlocation("_main/app/prog"),
                args=(Rlocation("_main/data/a/b/c/d/e"), Rlocation("_main/app/x/y/z")))
    start = time.monotonic()
    r = launch(spec, env=[b"RUNFILES_MANIFEST_FILE=" + M])
    assert r.argv == [b"/real/prog", b"/real/data/a/b/c/d/e", b"/decoy/app/x/y/z"]
    missing = launch(Spec(program=Rlocation("other/no/such/path/at/all")), env=[b"RUNFILES_MANIFEST_FILE=" + M])
    assert missing == Failure(127, fail_line(b"not in runfiles: other/no/such/path/at/all"))
    elapsed = time.monotonic() - start
    assert elapsed < 5, elapsed
