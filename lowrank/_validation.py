"""Input validation at the public boundary.

Every public function validates its arguments here *before* doing any work, and every
message names the parameter, the constraint and the value received, e.g.
"`sketch_size` must be an integer with sketch_size >= 1; got 0.".
"""

import numbers
import operator

import numpy as np

from ._backend import array_namespace, is_sparse, to_float

__all__ = [
    "check_dtype_arg",
    "check_int",
    "check_matrix",
    "check_option",
    "check_real",
    "check_same_namespace",
    "check_shape",
    "check_vector",
]


def check_int(value, name: str, *, low=None, high=None):
    """Return ``value`` as an ``int`` in ``[low, high]`` or raise ``TypeError``/``ValueError``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be an integer; got {value!r}.")
    if not isinstance(value, numbers.Integral):
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"`{name}` must be an integer; got {value!r}.") from None
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"`{name}` must be an integer with {_range_text(name, low, high)}; "
                         f"got {value}.")
    return value


def check_real(value, name: str, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite ``float`` in the given (open or closed) range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" {'<' if high_open else '<='} {high}"
        raise ValueError(f"`{name}` must be a finite number with {lo}{name}{hi}; got {value!r}.")
    return value


def _range_text(name, low, high):
    if low is not None and high is not None:
        return f"{low} <= {name} <= {high}"
    if low is not None:
        return f"{name} >= {low}"
    return f"{name} <= {high}"


def check_option(value, name: str, options):
    """Return ``value`` if it is one of ``options`` (strings), else raise ``ValueError``."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"`{name}` must be one of {allowed}; got {value!r}.")
    return value


def check_dtype_arg(dtype, name: str = "dtype"):
    """Normalize a ``dtype`` argument to ``numpy.float32`` or ``numpy.float64`` (``None`` kept)."""
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"`{name}` must be float32 or float64; got {dtype!r}.") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"`{name}` must be float32 or float64; got {dt}.")
    return dt


def _check_dtype_kind(xp, A, name):
    dtype = A.dtype
    if isinstance(dtype, np.dtype):
        kind = dtype.kind
    elif xp.isdtype(dtype, "complex floating"):
        kind = "c"
    else:
        kind = "f" if xp.isdtype(dtype, ("real floating", "integral", "bool")) else "O"
    if kind == "c":
        raise TypeError(f"`{name}` must be real; got complex dtype {dtype}.")
    if kind not in "biuf":
        raise TypeError(f"`{name}` must have a real numeric dtype; got {dtype}.")


def _all_finite(xp, A):
    data = A.data if is_sparse(A) else A
    if data.size == 0:
        return True
    # A finite sum proves every entry finite (NaN and inf propagate) in one cheap pass;
    # only an overflowing sum needs the element-wise check.
    if bool(xp.isfinite(xp.sum(data))):
        return True
    return bool(xp.all(xp.isfinite(data)))


def check_matrix(A, name: str = "A", *, allow_sparse=True, check_finite=True, ndim=(2,)):
    """Validate a data matrix and cast it to its working float dtype.

    Returns ``(A, xp)``.  Lists and other array-likes become NumPy arrays; SciPy/CuPy
    sparse matrices are accepted when ``allow_sparse``.  Integer and boolean data are
    promoted to float64; complex and object data raise ``TypeError``; non-finite values
    raise ``ValueError`` when ``check_finite``.
    """
    if is_sparse(A):
        if not allow_sparse:
            raise TypeError(f"`{name}` must be a dense array; got sparse {type(A).__name__}.")
        xp = array_namespace(A)
        _check_dtype_kind(xp, A, name)
        A = to_float(xp, A)
        if A.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-D sparse matrix; got shape {A.shape}.")
    else:
        if not hasattr(A, "__array_namespace__") and not isinstance(A, np.ndarray):
            try:
                A = np.asarray(A)
            except (ValueError, TypeError) as exc:
                raise TypeError(f"`{name}` must be an array; got {type(A).__name__}.") from exc
        xp = array_namespace(A)
        _check_dtype_kind(xp, A, name)
        A = to_float(xp, A)
        if A.ndim not in ndim:
            dims = " or ".join(f"{k}-D" for k in ndim)
            raise ValueError(f"`{name}` must be {dims}; got shape {tuple(A.shape)}.")
    if any(s == 0 for s in A.shape):
        raise ValueError(f"`{name}` must be non-empty; got shape {tuple(A.shape)}.")
    if check_finite and not _all_finite(xp, A):
        raise ValueError(f"`{name}` must contain only finite values (no NaN or inf).")
    return A, xp


def check_vector(b, name: str, length: int, *, check_finite=True, allow_matrix=False):
    """Validate a right-hand side of ``length`` rows (1-D, or 2-D when ``allow_matrix``)."""
    b, xp = check_matrix(b, name, allow_sparse=False, check_finite=check_finite,
                         ndim=(1, 2) if allow_matrix else (1,))
    if b.shape[0] != length:
        raise ValueError(f"`{name}` must have {length} rows to match `A`; got shape "
                         f"{tuple(b.shape)}.")
    return b, xp


def check_same_namespace(xp, other, name):
    """Raise ``TypeError`` when an argument's array namespace is not that of ``A``."""
    if other is not xp and getattr(other, "__name__", None) != getattr(xp, "__name__", None):
        raise TypeError(f"`{name}` must be an array of the same namespace as `A` "
                        f"({getattr(xp, '__name__', xp)}); got one of "
                        f"{getattr(other, '__name__', other)}.")


def check_shape(shape, name: str = "shape"):
    """Return ``shape`` as a pair ``(m, n)`` of positive ints or raise ``ValueError``
    (``TypeError`` for non-integer entries); the message names the whole argument and
    the offending entry, e.g. "`shape` must be a pair of positive integers (m, n):
    `shape[1]` must be an integer with shape[1] >= 1; got 0."."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"`{name}` must be a pair of positive integers (m, n); got {shape!r}.")
    pair = []
    for i, s in enumerate(shape):
        try:
            pair.append(check_int(s, f"{name}[{i}]", low=1))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"`{name}` must be a pair of positive integers (m, n): "
                            f"{exc}") from None
    return tuple(pair)
