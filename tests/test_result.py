"""The result base class and the iteration log every iterative method uses."""

import dataclasses
import pickle
import warnings

import numpy as np
import pytest

from lowrank._result import History, IterationLog, Result
from lowrank.exceptions import ConvergenceWarning


class _Demo(Result):
    x: object
    history: dict
    label: str = "demo"


def _demo():
    return _Demo(x=np.arange(3.0), history={"residual": [1.0, 0.5], "time": [0.1, 0.2]})


def test_subclasses_are_frozen_dataclasses_without_a_decorator():
    res = _demo()
    assert dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.label = "other"
    assert [f.name for f in dataclasses.fields(res)] == ["x", "history", "label"]


def test_equality_is_identity_and_never_raises_on_arrays():
    a, b = _demo(), _demo()
    assert a == a
    assert a != b  # element-wise comparison of the arrays would raise here


def test_history_is_a_read_only_mapping_of_read_only_arrays():
    res = _demo()
    assert isinstance(res.history, History)
    with pytest.raises(TypeError):
        res.history["residual"] = np.zeros(2)
    with pytest.raises(ValueError):
        res.history["residual"][0] = 3.0
    assert res.history["residual"].dtype == np.float64
    source = {"residual": np.ones(2), "time": np.zeros(2)}
    held = _Demo(x=None, history=source)
    source["residual"][0] = 7.0  # the caller's array was copied
    assert held.history["residual"][0] == 1.0


def test_history_columns_must_have_equal_length():
    with pytest.raises(RuntimeError, match="differ in length"):
        History({"a": [1.0], "b": [1.0, 2.0]})


def test_repr_is_compact():
    text = repr(_demo())
    assert "History(2 rows; last: residual=0.5" in text
    assert "<ndarray shape=(3,) dtype=float64>" in text
    assert "History(empty)" in repr(History())


def test_results_pickle_and_replace():
    res = pickle.loads(pickle.dumps(_demo()))
    assert res.history["residual"].tolist() == [1.0, 0.5]
    other = dataclasses.replace(res, label="b")
    assert other.label == "b" and isinstance(other.history, History)


def test_iteration_log_converges_only_when_told():
    log = IterationLog(("residual",), maxiter=2)
    log.record(residual=1.0)
    log.record(residual=0.5)
    assert not log.converged and log.message == "maxiter=2 reached"
    with pytest.warns(ConvergenceWarning, match="demo did not converge: maxiter=2"):
        log.warn("demo")
    history = log.history()
    assert list(history) == ["residual", "time"] and log.n_iter == 2
    assert np.all(np.diff(history["time"]) >= 0)
    assert log.last("residual") == 0.5


def test_iteration_log_callback_stop_does_not_warn():
    log = IterationLog(("residual",), maxiter=5, callback=lambda k, r: k >= 2)
    assert not log.call_back(1, 0.3)
    assert log.call_back(2, 0.2)
    assert log.stopped_by_callback and log.message == "stopped by callback"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log.warn("demo")


def test_iteration_log_failures_warn_and_stay_unconverged():
    log = IterationLog(("residual",), maxiter=5)
    log.converge("ok")
    log.fail("stalled before the tolerance")
    assert not log.converged
    with pytest.warns(ConvergenceWarning, match="stalled"):
        log.warn("demo")


def test_iteration_log_rejects_bad_input():
    with pytest.raises(TypeError, match="`callback` must be callable"):
        IterationLog(("r",), maxiter=1, callback=3)
    log = IterationLog(("r",), maxiter=1)
    with pytest.raises(RuntimeError, match="unknown history columns"):
        log.record(r=1.0, s=2.0)
