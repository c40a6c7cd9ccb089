"""The terminal market simulation behind `make run` (until the local cloud arrives)."""

from __future__ import annotations

import re

import pytest

from deltastream.simulate import main


def test_a_seeded_run_prints_ticks_and_analytics_and_exits_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["NIFTY", "--ticks", "3", "--interval", "0", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.count("NIFTY ") >= 3
    assert len(re.findall(r"max pain [\d,]+", out)) == 3
    assert "PCR OI" in out
    assert "IV " in out


def test_the_same_seed_and_start_give_the_same_market(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["spy", "--ticks", "2", "--interval", "0", "--seed", "9", "--start", "2026-11-23T15:00:00+00:00"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first
    assert "2026-11-23 15:00:01" in first


def test_an_unknown_product_is_refused_with_the_known_ones_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["XYZ", "--ticks", "1"]) == 2
    assert "NIFTY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "named"), [(["--speed", "0"], "--speed"), (["--start", "2026-11-23T09:15:00"], "--start")]
)
def test_bad_options_are_refused(args: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["NIFTY", *args])
    assert named in capsys.readouterr().err
