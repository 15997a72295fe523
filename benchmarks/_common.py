"""Shared helpers of the benchmark scripts: timing, machine description, Markdown tables.

Benchmark rules (papers/sketching_regression.md, "Benchmark rules"): one warm-up call
(so Numba compilation is excluded), then the median of the timed repeats, taken
round-robin over the compared cases; threads are
not pinned, but the BLAS libraries, their thread counts and Numba's thread count are
recorded next to the numbers.
"""

import os
import platform
import statistics
import sys
import time


def time_interleaved(fns, repeats, *, warmup=True):
    """Time several callables round-robin: one untimed warm-up call of each, then
    ``repeats`` rounds in which every ``fns[name](i)`` is called once (round ``i``).

    Interleaving spreads load changes on a shared machine over all cases alike, so
    their ratios stay meaningful.  Returns ``{name: (median_seconds, times, outputs)}``
    where ``outputs[i]`` is what the call of round ``i`` returned, so accuracy can be
    measured outside the timed region.
    """
    if warmup:
        for fn in fns.values():
            fn(-1)
    times = {name: [] for name in fns}
    outputs = {name: [] for name in fns}
    for i in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out = fn(i)
            times[name].append(time.perf_counter() - t0)
            outputs[name].append(out)
    return {name: (statistics.median(times[name]), times[name], outputs[name])
            for name in fns}


def reset_peak_memory():
    """Reset the kernel's high-water mark of resident memory (Linux >= 4.0); return
    whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def status_mb(field):
    """A memory field of ``/proc/self/status`` (``"VmHWM"``, ``"VmRSS"``) in MB, or None
    where there is no such file (not Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    """A dict describing the machine, the libraries and the thread settings in force.

    Call it after the benchmarks ran, so that every BLAS library and Numba's threading
    layer are loaded.
    """
    import numba
    import numpy
    import scipy
    import threadpoolctl

    try:
        numba_layer = numba.threading_layer()
    except ValueError:  # no parallel Numba function has run yet
        numba_layer = "not initialised"
    try:
        import lowrank

        lowrank_version = getattr(lowrank, "__version__", "unknown")
    except ImportError:
        lowrank_version = "not importable"
    pools = [
        {
            "user_api": p.get("user_api"),
            "internal_api": p.get("internal_api"),
            "version": p.get("version"),
            "num_threads": p.get("num_threads"),
            "architecture": p.get("architecture"),
            "threading_layer": p.get("threading_layer"),
            "library": os.path.basename(p.get("filepath", "")),
        }
        for p in threadpoolctl.threadpool_info()
    ]
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "lowrank": lowrank_version,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba_layer,
        "threadpools": pools,
        "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
                if k in os.environ},
    }


def machine_markdown(info):
    """Bullet list of :func:`machine_info`."""
    lines = [
        f"- CPU: {info['cpu']} ({info['cpu_count']} logical CPUs, "
        f"{info['affinity']} usable); {info['platform']}",
        f"- Python {info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}, "
        f"Numba {info['numba']}, lowrank {info['lowrank']}",
        f"- Numba: {info['numba_threads']} threads, threading layer "
        f"{info['numba_threading_layer']}",
    ]
    for p in info["threadpools"]:
        lines.append(f"- {p['user_api']}: {p['internal_api']} {p['version']} "
                     f"({p['architecture']}, {p['threading_layer']}), "
                     f"{p['num_threads']} threads: `{p['library']}`")
    if info.get("load_average"):
        lines.append("- Load average (1, 5, 15 min) when recorded: "
                     + ", ".join(f"{x:.2f}" for x in info["load_average"]))
    env = ", ".join(f"{k}={v}" for k, v in info["env"].items()) or "none set"
    lines.append(f"- Thread environment variables: {env} (threads not pinned)")
    return "\n".join(lines)


def fmt(value, spec=".2e"):
    """Format a number for a table; None and strings pass through."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return format(value, spec)


def markdown_table(header, rows):
    """A Markdown table from a header list and a list of row lists (already strings)."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def load_phrase(load):
    """``"; load average (1, 5, 15 min) at the start: a, b, c"`` (empty when unknown)."""
    if load is None:
        return ""
    return f"; load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in load)}"


def targets_markdown(targets):
    """Bullet list of target checks: ``{"target", "value", "passed"}`` dicts."""
    return "\n".join(f"- {'PASS' if t['passed'] else 'FAIL'}: {t['target']} "
                     f"(measured {t['value']})" for t in targets)


def run_cli(doc, main, to_markdown, *, quick_help="small problems (seconds)", argv=None):
    """The command line of one benchmark module: ``[--quick] [--repeats N]``, then print
    the machine and the module's tables."""
    import argparse

    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per case (>= 5)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    res = main(quick=args.quick, repeats=args.repeats)
    print(machine_markdown(res["machine"]))
    print()
    print(to_markdown(res))
