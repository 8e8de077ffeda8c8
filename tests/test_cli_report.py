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
    for needle in ("Diversification", "score 36/100", "as of 2024-07-16", "+9.73%",
                   "vs QQQ (Nasdaq-100)", "126 d", "Cash stickiness", "Rate sensitivity (DGS2)",
                   "Volatility ratio", "Max drawdown", "Quadrant", "Base rate since 1926",
                   "Data used: only what was public on 2024-07-16", "FF_SMB"):
        assert needle in out, needle


def test_report_other_pair():
    res = run("report", "--small", "IJR", "--benchmarks", "IWB", "--as-of", "2021-01-29")
    assert res.exit_code == 0, res.output
    assert "IJR vs IWB" in res.output and "vs IWB" in res.output


def test_report_bad_inputs_say_what_is_expected():
    res = run("report", "--as-of", "2024-13-45")
    assert res.exit_code == 2 and "--as-of '2024-13-45' is not a date on the calendar" \
        in res.output
    res = run("report", "--small", "NOPE")
    assert res.exit_code == 2 and "unknown ticker or series 'NOPE'" in res.output
    res = run("report", "--as-of", "1990-01-02")
    assert res.exit_code == 2 and "share no dates" in res.output


def _wide(as_of: str) -> str:
    """The report rendered on a console wide enough that no note wraps."""
    from rich.console import Console

    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data
    from xlsmallcap.report_view import render

    console = Console(width=600)
    with console.capture() as cap:
        console.print(render(api.report(as_of, store=use_embedded_data())))
    return cap.get()


def test_report_carries_the_evidence():
    out = _wide("2024-07-16")
    for needle in ("p-value small caps lead 0.842, large caps lead 0.682",
                   "stationary bootstrap of 756 days", "to 2024-06-28, 1000 paths",
                   "Rotation needs p < 0.05 on 3 days in a row (now p=0.842)",
                   "Newey-West se 2.81%, t 1.71, n=50 weeks: not significant (|t| < 2)",
                   "n/a: DFF moved 5 bp or more in fewer than 3 of 50 weeks",
                   "(95% 21.93%-42.20%)", "SMB to 2024-05-31 (published by then)",
                   "today's surge IWM vs SPY 5 d: +9.73%", "2 of 9 surges of 6.49%-14.60%",
                   "share of all 25691 days",
                   "percentile among 1954 past 52-wk windows", "Easing cycle",
                   "no: outflows and small-cap outperformance in the same week are unrelated",
                   "no evidence that markets are more volatile before elections"):
        assert needle in out, needle


def test_report_lists_what_was_public():
    lines = run("report", "--as-of", "2024-07-16").output.splitlines()
    rows = {cells[0]: cells[1:3] for line in lines
            if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) >= 4}
    assert rows["WRMFNS"] == ["2024-06-10", "2024-06-25"]
    assert rows["DFF"] == ["2024-07-15", "2024-07-16"]
    assert rows["FF_SMB"] == ["2024-05-31", "2024-06-30"]
    assert rows["IWM"] == ["2024-07-16", "2024-07-16"]
    assert rows["QQQ"] == ["2024-07-16", "2024-07-16"]  # the growth proxy is listed too


def test_track_record_command_says_what_the_data_says():
    res = run("track-record")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "IWM vs SPY, QQQ, DIA, 2003-12-02 to 2026-07-01 (reported)" in out
    assert "1929-06-18 to 1999-12-31 (fitted)" in out
    assert "2000-01-03 to 2025-05-30 (reported)" in out
    # out of sample the verdict has no edge, and the command says so in words
    assert out.count("it does not forecast the next") == 2
    assert "Fewer than 5 spells (intervals not reliable): Rotation." in out


def test_report_fits_80_columns_without_cutting_a_figure():
    import datetime as dt

    from rich.console import Console

    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data
    from xlsmallcap.report_view import render

    console = Console(width=80)
    with console.capture() as cap:
        console.print(render(api.report("2024-07-16", store=use_embedded_data()),
                             today=dt.date(2024, 7, 17)))
    out = cap.get()
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "…" not in out and "2024-0..." not in out
    assert "│ WRMFNS │ 2024-06-10" in out and "n/a: DFF moved 5 bp or more" in out
