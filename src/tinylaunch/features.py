"""The parts of the launcher a spec needs.  `gen` assembles one code variant per
feature set, the package ships them all, and `emit` uses the variant of its spec, so a
launcher carries no code its spec can never run (docs/layout.md, "Code variants")."""
from __future__ import annotations

from dataclasses import dataclass

from tinylaunch.spec import Argv0Literal, Spec

# R5's argv[0] modes as the code knows them: "literal" reads the string from the blob.
ARGV0_MODES = ("logical", "resolved", "launcher", "literal")


@dataclass(frozen=True)
class Features:
    runfiles: bool      # R2-R4: discovery and resolution (some rlocation value, or export)
    export: bool        # R7: export the runfiles variables (implies runfiles)
    env: bool           # R6: the spec has env ops
    argv0: str          # R5: one of ARGV0_MODES; "logical" only with runfiles

    @property
    def name(self) -> str:
        """The variant's key in the shipped tables, e.g. "runfiles export env logical"."""
        parts = [part for part, on in (("runfiles", self.runfiles), ("export", self.export),
                                       ("env", self.env)) if on]
        return " ".join(parts + [self.argv0])


def of(spec: Spec) -> Features:
    """The feature set of a valid spec.  Without runfiles no directory is ever known,
    so R5's logical argv[0] is the resolved path: the two modes share a variant."""
    runfiles = spec.needs_runfiles()
    argv0 = "literal" if isinstance(spec.argv0, Argv0Literal) else spec.argv0
    if argv0 == "logical" and not runfiles:
        argv0 = "resolved"
    return Features(runfiles, spec.export_runfiles_env, bool(spec.env), argv0)


# Every feature set a spec can have, in a fixed order (the shipped tables follow it).
ALL = tuple(
    Features(runfiles, export, env, argv0)
    for runfiles in (False, True)
    for export in ((False, True) if runfiles else (False,))
    for env in (False, True)
    for argv0 in ARGV0_MODES
    if runfiles or argv0 != "logical"
)
# Everything a spec can use but the argv[0] modes: the SPEC C1 example's variant, the
# one the listing shows and the budgets measure.
C1 = Features(runfiles=True, export=True, env=True, argv0="logical")
