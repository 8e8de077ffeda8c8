"""``xlsmallcap report``: the terminal answer."""

from __future__ import annotations

from typer.testing import CliRunner

from xlsmallcap.cli import app


def run(*args):
    return CliRunner().invoke(app, list(args))


def test_report_for_the_july_2024_surge():
    res = run("report", "--as-of", "2024-07-16")
    assert res.exit_code == 0, res.output
    out = res.output
    for needle in ("Diversification", "score 31/100", "as of 2024-07-16", "+9.73%",
                   "vs QQQ (Nasdaq-100)", "126 d", "Cash stickiness", "Rate sensitivity (DGS2)",
                   "Volatility ratio", "Max drawdown", "Quadrant", "Base rate since 1926",
                   "Data freshness", "FF_SMB"):
        assert needle in out, needle


def test_report_other_pair():
    res = run("report", "--small", "IJR", "--benchmarks", "IWB", "--as-of", "2021-01-29")
    assert res.exit_code == 0, res.output
    assert "IJR vs IWB" in res.output and "vs IWB" in res.output


def test_report_bad_inputs_say_what_is_expected():
    res = run("report", "--as-of", "2024-13-45")
    assert res.exit_code == 2 and "--as-of must be a date like 2024-07-16" in res.output
    res = run("report", "--small", "NOPE")
    assert res.exit_code == 2 and "unknown ticker or series 'NOPE'" in res.output
    res = run("report", "--as-of", "1990-01-02")
    assert res.exit_code == 2 and "share no dates" in res.output
