"""The reference model cross-checked with Bazel's own Python runfiles library
(``bazel-runfiles``, rules_python's ``python/runfiles/runfiles.py``) on hypothesis-made
manifests, trees and paths, wherever the two define the same thing.

Where the library and SPEC R4 part ways, generation is restricted to the overlap:

- duplicate links: the library keeps the last line (a dict), SPEC any one, the model
  the first. Every link is written once.
- empty targets and lines without a space: the library maps an empty target to the
  link itself and raises on a line with no space; SPEC says ``/dev/null``. Every line
  has a space and a non-empty target.
- relative targets: the library returns them as they are; SPEC follows them as
  symlinks. Every target is absolute.
- empty lines: the library raises on them. None are written (the model's handling is
  covered in test_model.py).
- the library reads the manifest as UTF-8 text: only valid UTF-8 is generated, and no
  NUL (a NUL ends a target in the model, not in the library).
- the library rejects, by substring, a path with a segment starting with ".." (such as
  "..a", fine in SPEC): generated paths avoid those.
- the library checks the repository mapping (``_repo_mapping``); no link or path
  starts with ``_``, so the mapping is always empty.
- paths of 4,096 bytes or more fail in the model (``path too long``); everything here
  is short.
- with both variables set the library uses only the manifest, the model the directory
  first: the two agree when the manifest lists the tree (``test_tree_and_its_manifest``)
  and the path is not a plain directory (found in the tree, never listed).
- ``EnvVars``: the library gives ``RUNFILES_DIR=""`` where the model removes the
  variable (no directory known or it does not exist); an empty value counts as absent.

Escapes are generated both the way Bazel writes them and as arbitrary byte soup of
``\\``, ``s``, ``n``, ``b`` (including invalid and trailing backslashes): the library's
chain of ``str.replace`` decodes like the model's left-to-right decoder, so any
difference shows up as a lookup that one side finds and the other does not.
"""
from __future__ import annotations

import os
import posixpath
import tempfile

from hypothesis import assume, given, settings, strategies as st
from runfiles import runfiles

from tinylaunch.model import Exec, Failure, decode_escapes, run
from tinylaunch.spec import Literal, Rlocation, Spec

EXAMPLES = 300


# --------------------------------------------------------------------------- generation

_segment = st.text(alphabet="ab. \\\nsé", min_size=1, max_size=3).filter(lambda s: s not in (".", ".."))
_path = st.lists(_segment, min_size=1, max_size=3).map("/".join)
_target = st.text(alphabet="xy/ \\\né", max_size=8).map(lambda t: "/" + t)
_soup = st.text(alphabet="a/\\snb", min_size=1, max_size=8)
_soup_target = st.text(alphabet="a/ \\snb", max_size=8).map(lambda t: "/" + t)


def normalised(path: str) -> bool:
    """SPEC's rlocation path rules, narrowed to what the library accepts: it rejects a
    leading backslash and, by substring, any segment that starts with ".." ("/..")."""
    if not path or path.startswith(("/", "\\")) or path.endswith("/"):
        return False
    return all(seg not in ("", ".") and not seg.startswith("..") for seg in path.split("/"))


def bazel_line(link: str, target: str) -> str:
    """One manifest line as Bazel writes it: escaped only when needed."""
    if any(c in link for c in " \n\\") or any(c in target for c in "\n\\"):
        link = link.replace("\\", "\\b").replace(" ", "\\s").replace("\n", "\\n")
        target = target.replace("\\", "\\b").replace("\n", "\\n")
        return " " + link + " " + target
    return link + " " + target


@st.composite
def manifests(draw):
    """A list of (decoded link, manifest line): Bazel-written lines, escaped lines with
    arbitrary escape soup, and plain lines holding raw backslashes."""
    entries, seen = [], set()
    for kind, link, target in draw(st.lists(st.tuples(
            st.sampled_from(["bazel", "soup", "plain"]), _path, _target), max_size=12)):
        if kind == "bazel":
            line = bazel_line(link, target)
        elif kind == "soup":
            raw_link = draw(_soup)
            raw_target = draw(_soup_target)
            line = " " + raw_link + " " + raw_target
            link = decode_escapes(raw_link.encode(), True).decode()
        else:
            link = link.replace(" ", "").replace("\n", "") or "a"
            line = link + " " + target.replace("\n", "")
        if link in seen or link.startswith("_"):
            continue
        seen.add(link)
        entries.append((link, line))
    return entries


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def model_resolve(env: dict, path: str) -> bytes | None:
    """The file the model would execute for rlocation ``path`` (None: not found)."""
    spec = Spec(program=Rlocation(path), export_runfiles_env=False, argv0="resolved")
    envp = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    r = run(spec, [b"app"], envp, None, b"/")
    if isinstance(r, Failure):
        assert r == Failure(127, b"tinylaunch: not in runfiles: " + path.encode() + b"\n"), r
        return None
    return r.file


def bazel_resolve(rf, path: str) -> bytes | None:
    got = rf.Rlocation(path)
    return None if got is None else os.fsencode(got)


# --------------------------------------------------------------------------- manifests

@settings(max_examples=EXAMPLES, deadline=None)
@given(entries=manifests(), rests=st.lists(_path, min_size=1, max_size=3),
       others=st.lists(_path, max_size=3), trailing_newline=st.booleans())
def test_manifest_lookup_matches_bazel(entries, rests, others, trailing_newline):
    """Exact links, TreeArtifact prefixes (``link/rest``, longest wins, ``c/di`` is not a
    prefix of ``c/dir/x``), and paths that may match nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "MANIFEST")
        text = "\n".join(line for _, line in entries)
        write(manifest, text + ("\n" if trailing_newline and entries else ""))
        env = {"RUNFILES_MANIFEST_FILE": manifest}
        rf = runfiles.Create(env)
        assert rf is not None
        links = [link for link, _ in entries]
        queries = links + [link + "/" + rest for link in links for rest in rests] + others
        queries += [link[:-1] for link in links if len(link) > 1]     # partial segments
        checked = 0
        for path in queries:
            if not normalised(path) or path.startswith("_"):
                continue
            checked += 1
            assert model_resolve(env, path) == bazel_resolve(rf, path), path
        assert checked or not [q for q in queries if normalised(q)]


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_longest_prefix_nested_links_match_bazel(data):
    """Links nested in each other (a, a/b, a/b/c ...) with decoys that share a partial
    segment: the deepest listed directory wins in both."""
    depth = data.draw(st.integers(1, 5))
    segs = data.draw(st.lists(st.sampled_from(["c", "di", "dir", "d i", "x\\y"]), min_size=depth, max_size=depth))
    listed = data.draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    lines, seen = [], set()
    for i in range(depth):
        link = "/".join(segs[:i + 1])
        candidates = [(link, "/t%d" % i)] if listed[i] else []
        candidates.append((link[:-1], "/decoy%d" % i))        # one byte short: no segment
        for name, target in candidates:
            if normalised(name) and name not in seen:
                seen.add(name)
                lines.append(bazel_line(name, target))
    lines = data.draw(st.permutations(lines))
    path = "/".join(segs) + "/leaf/file"
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "x.runfiles_manifest")
        write(manifest, "".join(line + "\n" for line in lines))
        env = {"RUNFILES_MANIFEST_FILE": manifest}
        rf = runfiles.CreateManifestBased(manifest)
        for p in (path, "/".join(segs)):
            assert model_resolve(env, p) == bazel_resolve(rf, p), p


# --------------------------------------------------------------------------- directories

@settings(max_examples=EXAMPLES, deadline=None)
@given(paths=st.lists(_path.filter(normalised), min_size=1, max_size=5),
       exists=st.lists(st.booleans(), min_size=5, max_size=5))
def test_directory_mode_matches_bazel(paths, exists):
    """Directory mode: Rlocation is D/P whether or not the file exists."""
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "app.runfiles")       # no trailing "/": posixpath.join adds none
        os.mkdir(root)
        for path, make in zip(paths, exists):
            full = os.path.join(root, path)
            if make and not os.path.exists(full):
                try:
                    os.makedirs(os.path.dirname(full), exist_ok=True)
                    open(full, "wb").close()
                except (FileExistsError, NotADirectoryError):
                    pass      # a file where this path wants a directory: left missing
        env = {"RUNFILES_DIR": root}
        rf = runfiles.Create(env)
        for path in paths:
            if path.startswith("_"):
                continue
            assert model_resolve(env, path) == bazel_resolve(rf, path) == os.fsencode(posixpath.join(root, path))


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(files=st.lists(_path.filter(normalised), min_size=1, max_size=6),
       queries=st.lists(_path.filter(normalised), max_size=4))
def test_tree_and_its_manifest(files, queries):
    """A tree with the manifest that lists it (link -> D/link): the model (directory
    first, then the manifest) and the library (manifest only) agree on every path."""
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "app.runfiles")
        os.mkdir(root)
        made = []
        for path in files:
            full = os.path.join(root, path)
            try:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "xb"):
                    pass
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue
            made.append(path)
        manifest = os.path.join(root, "MANIFEST")
        write(manifest, "".join(bazel_line(p, root + "/" + p) + "\n" for p in made))
        env = {"RUNFILES_DIR": root, "RUNFILES_MANIFEST_FILE": manifest}
        rf = runfiles.Create(env)
        for path in made + [m + "/sub" for m in made] + queries:
            if path.startswith("_") or path == "MANIFEST" or path.startswith("MANIFEST/"):
                continue
            if os.path.isdir(os.path.join(root, path)):
                continue      # a plain directory is in the tree, never in a manifest
            assert model_resolve(env, path) == bazel_resolve(rf, path), path


# --------------------------------------------------------------------------- exported variables

def model_exported(env: dict) -> dict:
    """The runfiles variables the model exports for a spec with one literal program."""
    envp = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    r = run(Spec(program=Literal("/bin/true")), [b"app"], envp, None, b"/")
    assert isinstance(r, Exec)
    out = {}
    for entry in r.envp:
        name, _, value = entry.partition(b"=")
        out[os.fsdecode(name)] = os.fsdecode(value)
    return out


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["x.runfiles_manifest", "x.runfiles/MANIFEST", "x/MANIFEST", "manifest.txt",
                             "x.runfiles_manifest.bak"]),
       make_dir=st.booleans())
def test_env_vars_manifest_mode_match_bazel(name, make_dir):
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(manifest), exist_ok=True)
        write(manifest, "a /a\n")
        if make_dir and name.endswith(".runfiles_manifest"):
            os.mkdir(os.path.join(tmp, "x.runfiles"))
        want = {k: v for k, v in runfiles.CreateManifestBased(manifest).EnvVars().items() if v}
        derived = want.get("RUNFILES_DIR")
        if derived and not os.path.isdir(derived):
            # The library names the directory even when it is missing; the model removes it.
            del want["RUNFILES_DIR"], want["JAVA_RUNFILES"]
        assert model_exported({"RUNFILES_MANIFEST_FILE": manifest}) == want


def test_env_vars_directory_mode_match_bazel():
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "app.runfiles")
        os.mkdir(root)
        want = runfiles.CreateDirectoryBased(root).EnvVars()
        assert want == {"RUNFILES_DIR": root, "JAVA_RUNFILES": root}
        # A manifest variable that is no source is removed by the model (the library's
        # EnvVars does not mention it).
        got = model_exported({"RUNFILES_DIR": root, "RUNFILES_MANIFEST_FILE": root + "/nonexistent"})
        assert got == want
