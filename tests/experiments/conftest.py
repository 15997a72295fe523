"""Shared checks of the figure tests."""

import csv

import pytest

from lowrank.experiments import FIGURES
from lowrank.experiments.__main__ import main


@pytest.fixture
def cli_matches_fixtures(tmp_path, capsys, request):
    """``check(ids)``: run ``lowrank figures`` at the tiny scale for ``ids`` and check
    that each figure's PNG is written and its CSV is the ``to_rows`` of the same seed's
    run (the test module's ``<id>_data`` fixture), wall-clock columns aside."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")

    def check(ids):
        assert main(["figures", "--scale", "tiny", "--only", ",".join(ids), "--out",
                     str(tmp_path), "--seed", "0"]) == 0
        out = capsys.readouterr().out
        for fid in ids:
            module = FIGURES[fid]
            stem = tmp_path / f"{fid}_{module.__name__.rsplit('.', 1)[-1]}"
            png, table = stem.with_suffix(".png"), stem.with_suffix(".csv")
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            with open(table, newline="") as fh:
                rows = list(csv.DictReader(fh))
            timing = getattr(module, "TIMING_COLUMNS", ())
            for row in rows:  # wall-clock times differ from run to run
                assert all(isinstance(float(row.pop(key)), float) for key in timing)
            data = request.getfixturevalue(f"{fid.lower()}_data")
            assert rows == [{k: str(v) for k, v in row.items() if k not in timing}
                            for row in module.to_rows(data)]
            assert str(png) in out

    return check
