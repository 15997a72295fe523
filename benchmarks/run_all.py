"""Run every benchmark and write the results table into ``benchmarks/README.md``.

``python benchmarks/run_all.py``            full sizes; rewrites the README's results section
``python benchmarks/run_all.py --quick``    smoke sizes; prints the tables, README untouched
``python benchmarks/run_all.py --only robust,tensor``    those benchmarks only; rewrites
                                            their sections and leaves the others

The README text between ``<!-- results:start -->`` and ``<!-- results:end -->`` is replaced;
everything else in it is left alone.  With ``--only``, each benchmark's section (between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``, appended before the end marker if
missing) is replaced by that run's, stamped with its own date, command and machine.
"""

import argparse
import datetime
import json
import os
import pathlib
import sys
import time

import bench_completion
import bench_factorization
import bench_lstsq
import bench_robust
import bench_sampling
import bench_sketch
import bench_tensor
from _common import machine_markdown

README = pathlib.Path(__file__).with_name("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
BENCHMARKS = (bench_lstsq, bench_sketch, bench_sampling, bench_completion, bench_tensor,
              bench_factorization, bench_robust)


def benchmark_name(bench):
    """``bench_robust`` -> ``"robust"``."""
    return bench.__name__.removeprefix("bench_")


def run(quick=False, repeats=5, log=sys.stderr, benchmarks=BENCHMARKS):
    """Run each benchmark's ``main``; return their results in order."""
    return [bench.main(quick=quick, repeats=repeats, log=log) for bench in benchmarks]


def results_markdown(results, command, seconds, load_at_start=None, benchmarks=BENCHMARKS):
    """The Markdown of one run: when, the command, the machine, then one section per
    benchmark, each between its own markers."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ("" if load_at_start is None else
            f" Load average (1 min) at the start: {load_at_start:.2f}.")
    parts = [f"Measured {stamp} with `{command}` (total {seconds:.0f} s).{load}",
             "Machine, captured at run time:\n\n" + machine_markdown(results[-1]["machine"])]
    for bench, result in zip(benchmarks, results, strict=True):
        parts.append(_section(benchmark_name(bench), bench.to_markdown(result)))
    return "\n\n".join(parts)


def _section(name, body):
    return f"<!-- {name}:start -->\n{body}\n<!-- {name}:end -->"


def replace_section(text, name, body):
    """``text`` with benchmark ``name``'s section of the results replaced by ``body``
    (appended before the results' end marker when it has none yet)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        return head + _section(name, body) + tail
    if END not in text:
        raise ValueError(f"{README} must contain {END}.")
    head, tail = text.split(END, 1)
    return f"{head}{_section(name, body)}\n{END}{tail}"


def replace_results(text, body):
    """``text`` with the part between the result markers replaced by ``body``."""
    if START not in text or END not in text or text.index(START) > text.index(END):
        raise ValueError(f"{README} must contain {START} followed by {END}.")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{body}\n{END}{tail}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke sizes; print the tables, leave README.md untouched")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per case (>= 5)")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    p.add_argument("--json", type=pathlib.Path, help="also write the raw results here")
    names = [benchmark_name(b) for b in BENCHMARKS]
    p.add_argument("--only", help=f"comma-separated benchmarks (of {', '.join(names)})")
    args = p.parse_args(argv)
    chosen = BENCHMARKS
    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {names}")
        chosen = tuple(b for b in BENCHMARKS if benchmark_name(b) in wanted)
        command += f" --only {args.only}"
    if args.repeats != 5:
        command += f" --repeats {args.repeats}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    results = run(quick=args.quick, repeats=args.repeats, benchmarks=chosen)
    body = results_markdown(results, command, time.perf_counter() - t0, load, chosen)
    print(body)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.quick or args.no_readme:
        return
    text = README.read_text()
    if chosen == BENCHMARKS:
        text = replace_results(text, body)
    else:
        head = body.split("<!-- ", 1)[0].rstrip()            # stamp and machine
        for bench, result in zip(chosen, results, strict=True):
            text = replace_section(text, benchmark_name(bench),
                                   f"{head}\n\n{bench.to_markdown(result)}")
    README.write_text(text)
    print(f"\nwrote {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
