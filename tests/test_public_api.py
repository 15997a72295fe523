"""Pins the public API (SPEC 4) and the cost of ``import lowrank``."""

import json
import pkgutil
import subprocess
import sys
import textwrap
import types

import pytest

import lowrank
import lowrank.completion
import lowrank.exceptions
import lowrank.experiments
import lowrank.factorization
import lowrank.regression
import lowrank.robust
import lowrank.sampling
import lowrank.sketch
import lowrank.tensor
import lowrank.testing

# The names SPEC 4 fixes; each module may export more, never fewer.
PUBLIC_NAMES = {
    "lowrank": {
        "ConvergenceWarning", "CountSketch", "GaussianSketch", "LstsqResult",
        "RademacherSketch", "SRHTSketch", "SparseSignSketch", "__version__", "exceptions",
        "linf_lstsq", "lstsq", "make_sketch", "regression", "sketch", "testing",
        "sampling", "lp_regression", "leverage_scores", "lewis_weights",
        "completion", "altmin", "CompletionResult", "LinfLstsqResult", "LpRegressionResult",
        "RowSample", "lp_sensitivities", "sample_rows", "sampling_probabilities",
        "subspace_embedding_distortion",
        "tensor", "subspace_power_method", "multi_subspace_power_method", "CPResult",
        "MomentTensor", "symmetric_tensor", "cp_tensor",
        "factorization", "jacobi_eigh", "jacobi_svd", "gram_schmidt_qr",
        "elimination_cholesky", "rp_cholesky",
        "robust", "subgradient_recovery", "GaussianMeasurements", "EntryMeasurements",
        "corrupt",
    },
    "lowrank.sketch": {
        "CountSketch", "GaussianSketch", "RademacherSketch", "SRHTSketch", "SparseSignSketch",
        "make_sketch", "sketch",
    },
    "lowrank.regression": {"LstsqResult", "linf_lstsq", "lstsq", "lp_regression"},
    "lowrank.sampling": {
        "leverage_scores", "lewis_weights", "lp_sensitivities", "sampling_probabilities",
        "sample_rows", "RowSample", "subspace_embedding_distortion",
    },
    "lowrank.testing": {
        "adjoint_test", "assert_orthonormal", "low_rank_matrix", "lstsq_problem",
        "observation_mask", "sparse_corruption", "graded_spd_matrix",
        "symmetric_cp_problem", "cp_problem", "symmetric_noise", "factor_match_score",
    },
    "lowrank.factorization": {
        "jacobi_eigh", "jacobi_svd", "gram_schmidt_qr", "elimination_cholesky",
        "rp_cholesky",
    },
    "lowrank.tensor": {
        "subspace_power_method", "multi_subspace_power_method", "CPResult", "MomentTensor",
        "symmetric_tensor", "cp_tensor",
    },
    "lowrank.completion": {"altmin", "CompletionResult"},
    "lowrank.robust": {
        "subgradient_recovery", "RecoveryResult", "GaussianMeasurements",
        "EntryMeasurements", "corrupt",
    },
    "lowrank.experiments": {"FIGURES"},
    "lowrank.exceptions": {"ConvergenceWarning"},
}

MODULES = {
    "lowrank": lowrank,
    "lowrank.sketch": lowrank.sketch,
    "lowrank.regression": lowrank.regression,
    "lowrank.sampling": lowrank.sampling,
    "lowrank.testing": lowrank.testing,
    "lowrank.exceptions": lowrank.exceptions,
    "lowrank.completion": lowrank.completion,
    "lowrank.tensor": lowrank.tensor,
    "lowrank.factorization": lowrank.factorization,
    "lowrank.robust": lowrank.robust,
    "lowrank.experiments": lowrank.experiments,
}

# Public subpackages that ``import lowrank`` does not re-export by design.
NOT_REEXPORTED = {"experiments"}


def _public_subpackages():
    return sorted(info.name for info in pkgutil.iter_modules(lowrank.__path__)
                  if not info.name.startswith("_"))


def test_every_public_subpackage_is_registered():
    # A new family (a public subpackage or module of lowrank/) must be added to
    # PUBLIC_NAMES/MODULES here, to lowrank/__init__.py and to the docs.
    for name in _public_subpackages():
        assert f"lowrank.{name}" in MODULES, f"lowrank.{name} is not registered in this test"
        if name not in NOT_REEXPORTED:
            assert name in lowrank.__all__, f"lowrank/__init__.py does not export {name}"


def test_every_public_subpackage_has_an_api_page():
    from pathlib import Path

    api = Path(__file__).resolve().parents[1] / "docs" / "api"
    for name in _public_subpackages():
        assert (api / f"{name}.rst").is_file(), f"docs/api/{name}.rst is missing"


def test_result_classes_are_exported_at_the_top():
    # Every public result class of a re-exported family is also a top-level name.
    for name in _public_subpackages():
        if name in NOT_REEXPORTED or name in ("testing", "exceptions"):
            continue
        module = MODULES[f"lowrank.{name}"]
        for attr in module.__all__:
            obj = getattr(module, attr)
            if isinstance(obj, type) and issubclass(obj, lowrank._result.Result):
                assert getattr(lowrank, attr, None) is obj, f"lowrank.{attr} is missing"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_all_contains_the_spec_names(name):
    module = MODULES[name]
    missing = PUBLIC_NAMES[name] - set(module.__all__)
    assert not missing, f"{name}.__all__ lacks {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_name_in_all_resolves(name):
    module = MODULES[name]
    assert len(module.__all__) == len(set(module.__all__)), "duplicates in __all__"
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but does not exist"
        assert not attr.startswith("_") or attr == "__version__"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_public_objects_are_not_private_modules(name):
    # Public names must come from the public package, not leak private module objects.
    module = MODULES[name]
    for attr in module.__all__:
        obj = getattr(module, attr)
        if isinstance(obj, types.ModuleType):
            assert not obj.__name__.rsplit(".", 1)[-1].startswith("_"), attr


def test_top_level_reexports_are_the_family_objects():
    assert lowrank.sketch.GaussianSketch is lowrank.GaussianSketch
    assert lowrank.make_sketch is lowrank.sketch.make_sketch
    assert lowrank.lstsq is lowrank.regression.lstsq
    assert lowrank.LstsqResult is lowrank.regression.LstsqResult
    assert lowrank.ConvergenceWarning is lowrank.exceptions.ConvergenceWarning
    assert lowrank.leverage_scores is lowrank.sampling.leverage_scores
    assert lowrank.lp_regression is lowrank.regression.lp_regression
    assert lowrank.altmin is lowrank.completion.altmin
    assert lowrank.CompletionResult is lowrank.completion.CompletionResult
    assert lowrank.RowSample is lowrank.sampling.RowSample
    assert lowrank.subgradient_recovery is lowrank.robust.subgradient_recovery
    assert isinstance(lowrank.sketch, types.ModuleType)
    assert callable(lowrank.sketch.sketch)


def test_sketch_classes_share_the_spec_signature():
    import inspect

    for cls in (lowrank.GaussianSketch, lowrank.RademacherSketch, lowrank.SRHTSketch,
                lowrank.SparseSignSketch, lowrank.CountSketch):
        params = inspect.signature(cls).parameters
        assert list(params)[:2] == ["sketch_size", "n"], cls
        for keyword in ("rng", "dtype"):
            assert params[keyword].kind is inspect.Parameter.KEYWORD_ONLY, (cls, keyword)
    params = inspect.signature(lowrank.sketch.sketch).parameters
    assert list(params)[:2] == ["A", "sketch_size"]
    assert params["kind"].default == "sparse_sign"
    assert params["kind"].kind is inspect.Parameter.KEYWORD_ONLY


def test_sampling_signatures_follow_the_spec():
    import inspect

    def keyword_only(func, *names):
        params = inspect.signature(func).parameters
        for name in names:
            assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, (func, name)
        return params

    s = lowrank.sampling
    assert keyword_only(s.leverage_scores, "method", "rng")["method"].default == "exact"
    assert list(keyword_only(s.lewis_weights, "tol", "maxiter").values())[1].name == "p"
    assert keyword_only(s.lp_sensitivities, "method")["method"].default == "exact"
    params = keyword_only(s.sampling_probabilities, "method")
    assert list(params)[:3] == ["A", "p", "n_samples"]
    params = keyword_only(s.sample_rows, "p", "rng")
    assert list(params)[:2] == ["A", "probabilities"] and params["p"].default == 2
    params = keyword_only(s.subspace_embedding_distortion, "n_directions", "rng")
    assert list(params)[:3] == ["A", "sample_or_sketch", "p"]
    params = keyword_only(lowrank.regression.lp_regression, "method", "n_samples", "tol",
                          "rng")
    assert list(params)[:3] == ["A", "b", "p"] and params["method"].default == "lewis"


def test_version_is_a_string():
    assert isinstance(lowrank.__version__, str)
    assert lowrank.__version__


def test_convergence_warning_is_a_warning():
    assert issubclass(lowrank.ConvergenceWarning, Warning)


_IMPORT_PROBE = textwrap.dedent("""
    import json, sys
    import lowrank, lowrank.sketch, lowrank.regression, lowrank.sampling, lowrank.testing
    import lowrank.completion
    json.dump(sorted(sys.modules), sys.stdout)
""")


def test_import_is_cheap():
    out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True,
                         text=True, check=True, timeout=120)
    modules = set(json.loads(out.stdout))
    assert "lowrank" in modules
    assert not any(m == "matplotlib" or m.startswith("matplotlib.") for m in modules)
    # hypothesis is a test-time dependency: only lowrank.testing.strategies imports it
    assert "hypothesis" not in modules and "lowrank.testing.strategies" not in modules
    # No Numba kernel module is imported, so nothing is compiled at import time.
    assert "lowrank._kernels.sketch" not in modules
    assert not [m for m in modules if m.startswith("lowrank._kernels.")]
