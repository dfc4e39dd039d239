"""The code variants (tinylaunch.features): which variant a spec gets, that each one is
smaller than a variant with more features, and that the scenario table runs them all."""
from __future__ import annotations

import pytest

import scenarios as S
from spec_examples import C1_EXAMPLE
from tinylaunch import emit, features, inspect
from tinylaunch.abi import ARCHES
from tinylaunch.emit import shipped_code, shipped_variants
from tinylaunch.features import Features
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec


def test_feature_sets_of_specs():
    assert features.of(C1_EXAMPLE) == features.C1
    bare = Spec(Literal("/bin/true"), export_runfiles_env=False)
    assert features.of(bare) == Features(False, False, False, "resolved"), "logical without runfiles is resolved"
    assert features.of(Spec(Rlocation("_main/p"), export_runfiles_env=False, argv0="launcher")) == \
        Features(True, False, False, "launcher")
    assert features.of(Spec(Literal("/bin/true"), argv0=Argv0Literal("x"))) == Features(True, True, False, "literal")
    assert features.of(Spec(Literal("/bin/true"), env=(EnvOp("unset", "X"),), export_runfiles_env=False)) == \
        Features(False, False, True, "resolved")


def test_every_feature_set_is_shipped_once():
    names = [wanted.name for wanted in features.ALL]
    assert len(names) == len(set(names)) == 22
    for arch in ARCHES:
        assert sorted(shipped_variants(arch)) == sorted(names)


def test_every_variant_runs_in_the_scenario_table():
    used = {features.of(S.instantiate(sc.spec, "/r")) for sc in S.SCENARIOS}
    assert set(features.ALL) <= used, [w.name for w in features.ALL if w not in used]


@pytest.mark.parametrize("arch", ARCHES)
def test_emit_uses_the_spec_variant(arch):
    for sc in S.SCENARIOS:
        spec = S.instantiate(sc.spec, "/r")
        code = shipped_code(arch, features.of(spec))
        assert emit(spec, arch)[176:176 + len(code)] == code


def fewer(a: Features, b: Features) -> bool:
    """a needs a subset of what b needs (same argv0 mode)."""
    return a != b and a.argv0 == b.argv0 and all(
        getattr(a, f) <= getattr(b, f) for f in ("runfiles", "export", "env"))


@pytest.mark.parametrize("arch", ARCHES)
def test_fewer_features_less_code(arch):
    sizes = {wanted: len(shipped_code(arch, wanted)) for wanted in features.ALL}
    for a in features.ALL:
        for b in features.ALL:
            if fewer(a, b):
                assert sizes[a] < sizes[b], f"{arch}: {a.name} {sizes[a]} >= {b.name} {sizes[b]}"


@pytest.mark.parametrize("arch", ARCHES)
def test_inspect_finds_every_variant(arch):
    for wanted in features.ALL:
        spec = S.instantiate(S.variant_spec(wanted), "/r")
        found = inspect(emit(spec, arch))
        assert found.spec == spec
        assert found.sizes["code"] == len(shipped_code(arch, wanted))
