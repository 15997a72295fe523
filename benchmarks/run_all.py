"""Run every benchmark and write the results table into ``benchmarks/README.md``.

``python benchmarks/run_all.py``            full sizes; rewrites the README's results section
``python benchmarks/run_all.py --quick``    smoke sizes; prints the tables, README untouched

The README text between ``<!-- results:start -->`` and ``<!-- results:end -->`` is replaced;
everything else in it is left alone.
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
import bench_sampling
import bench_sketch
import bench_tensor
from _common import machine_markdown

README = pathlib.Path(__file__).with_name("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
BENCHMARKS = (bench_lstsq, bench_sketch, bench_sampling, bench_completion, bench_tensor,
              bench_factorization)


def run(quick=False, repeats=5, log=sys.stderr):
    """Run each benchmark's ``main``; return their results in order."""
    return [bench.main(quick=quick, repeats=repeats, log=log) for bench in BENCHMARKS]


def results_markdown(results, command, seconds, load_at_start=None):
    """The Markdown of one run: when, the command, the machine, then one section per
    benchmark."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ("" if load_at_start is None else
            f" Load average (1 min) at the start: {load_at_start:.2f}.")
    parts = [f"Measured {stamp} with `{command}` (total {seconds:.0f} s).{load}",
             "Machine, captured at run time:\n\n" + machine_markdown(results[-1]["machine"])]
    for bench, result in zip(BENCHMARKS, results, strict=True):
        parts.append(bench.to_markdown(result))
    return "\n\n".join(parts)


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
    args = p.parse_args(argv)
    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
    if args.repeats != 5:
        command += f" --repeats {args.repeats}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    results = run(quick=args.quick, repeats=args.repeats)
    body = results_markdown(results, command, time.perf_counter() - t0, load)
    print(body)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if not (args.quick or args.no_readme):
        README.write_text(replace_results(README.read_text(), body))
        print(f"\nwrote {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
