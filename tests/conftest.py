"""Shared test configuration: hypothesis profiles, ``--runslow``, seeds and the ``xp`` fixture.

Hypothesis profiles (registered at import):

- ``default``: ``deadline=None`` (the first call of a Numba kernel compiles or loads it
  from the cache, which would trip a deadline), 25 examples;
- ``ci``: derandomized, 20 examples, the "too slow" / "data too large" health checks off,
  no example database.

``ci`` is loaded when the ``CI`` environment variable is set, ``default`` otherwise;
``HYPOTHESIS_PROFILE`` names a profile explicitly and wins over both.
"""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis loads its own "ci" profile when it detects CI; inherit from its pristine
# "default" instead, so that each profile means the same thing everywhere.
_HYPOTHESIS_DEFAULTS = settings.get_profile("default")
settings.register_profile("default", _HYPOTHESIS_DEFAULTS, deadline=None, max_examples=25,
                          print_blob=True)
settings.register_profile(
    "ci",
    _HYPOTHESIS_DEFAULTS,
    database=None,
    deadline=None,
    derandomize=True,
    max_examples=20,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)

# Seeds for tests that should hold for any seed (scikit-learn's ``global_random_seed``).
# Probabilistic guarantees use their own fixed seed lists with a stated failure allowance.
SEEDS = [0, 1, 2, 3, 4]

# Array namespaces the ``xp`` fixture runs over; CuPy is skipped without CuPy or a GPU.
ARRAY_NAMESPACES = ["numpy", "array_api_strict", "cupy"]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="run the tests marked `slow`")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(params=SEEDS)
def global_seed(request):
    """An integer seed; a test using it runs once per entry of ``SEEDS``."""
    return request.param


def _cupy_or_skip():
    cupy = pytest.importorskip("cupy")
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken: CuPy imports but cannot run
        pytest.skip(f"CuPy cannot reach a GPU: {exc}")
    if n_devices < 1:
        pytest.skip("CuPy found no GPU device")
    return cupy


def array_namespace_module(name):
    """The namespace module called ``name`` (skips the test when CuPy or a GPU is absent)."""
    if name == "cupy":
        return _cupy_or_skip()
    return importlib.import_module(name)


@pytest.fixture(
    params=[pytest.param(name, marks=pytest.mark.gpu) if name == "cupy" else name
            for name in ARRAY_NAMESPACES]
)
def xp(request):
    """The array namespace module (``numpy``, ``array_api_strict`` or ``cupy``).

    Build inputs with ``xp.asarray(numpy_array)``; compare results after moving them back
    with ``numpy.asarray`` (``.get()`` for CuPy).
    """
    return array_namespace_module(request.param)
