"""The ``lowrank`` command line: ``lowrank figures [--scale small|paper] [--only F1,F2]``.

Also runs as ``python -m lowrank.experiments figures ...``.
"""

import argparse
import csv
import logging
import sys
import time
from pathlib import Path

from .. import __version__
from . import FIGURES

__all__ = ["main"]

logger = logging.getLogger(__name__)

_SCALE_HELP = ("problem sizes: 'small' (under a minute per figure on 2 cores) or "
               "'paper' (the sizes of the paper notes: hours per figure on 2 cores); "
               "default: small")


def _figure_ids(text):
    ids = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [i for i in ids if i not in FIGURES]
    if not ids or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(FIGURES)}; got {text!r}")
    return list(dict.fromkeys(ids))


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="lowrank",
        description="lowrank: randomized low-rank linear algebra. "
                    "Run 'lowrank figures --help' to reproduce the paper figures.")
    parser.add_argument("--version", action="version", version=f"lowrank {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    figures = commands.add_parser(
        "figures", help="reproduce figures: write PNG + CSV per figure",
        description="Run the figure experiments and write <DIR>/<id>_<name>.png and .csv. "
                    + "Figures: " + "; ".join(f"{k}: {m.TITLE}" for k, m in FIGURES.items()))
    # "tiny" (seconds) is accepted for the test suite but not advertised.
    figures.add_argument("--scale", choices=("small", "paper", "tiny"), default="small",
                         metavar="{small,paper}", help=_SCALE_HELP)
    figures.add_argument("--only", type=_figure_ids, default=list(FIGURES),
                         metavar="F1,F2",
                         help=f"comma-separated figure ids (default: all of {','.join(FIGURES)})")
    figures.add_argument("--out", type=Path, default=Path("figures_out"), metavar="DIR",
                         help="output folder, created if missing (default: figures_out)")
    figures.add_argument("--seed", type=int, default=0, metavar="N",
                         help="random seed; the same seed gives identical data (default: 0)")
    figures.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser


def _write_csv(rows, path):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _run_figures(args):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from tqdm import tqdm
    except ModuleNotFoundError as exc:
        sys.stderr.write(f"lowrank figures needs Matplotlib and tqdm ({exc}); install them "
                         "with: pip install 'lowrank[figures]'\n")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for fid in args.only:
        module = FIGURES[fid]
        stem = args.out / f"{fid}_{module.__name__.rsplit('.', 1)[-1]}"
        start = time.perf_counter()
        with tqdm(total=module.n_steps(args.scale), desc=fid, unit="trial") as bar:
            data = module.run(args.scale, rng=args.seed, progress=bar.update)
        fig = module.plot(data)
        FigureCanvasAgg(fig)  # render with Agg: no display, no pyplot state
        fig.savefig(stem.with_suffix(".png"), dpi=150)
        _write_csv(module.to_rows(data), stem.with_suffix(".csv"))
        elapsed = time.perf_counter() - start
        logger.info("%s finished in %.1f s", fid, elapsed)
        print(f"{fid}: wrote {stem}.png and {stem}.csv ({elapsed:.1f} s)")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``lowrank`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success.

    Examples
    --------
    Reproduce F1 at the small scale into ``figures_out/`` (about 20 s)::

        $ lowrank figures --only F1 --scale small
        F1: wrote figures_out/F1_linf_error_vs_sketch_size.png and figures_out/F1_...csv (22.4 s)

    or, from Python, ``main(["figures", "--only", "F1"])``.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # a bare ``lowrank`` asks what it can do
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return _run_figures(args)


if __name__ == "__main__":
    sys.exit(main())
