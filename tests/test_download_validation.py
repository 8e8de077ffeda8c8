"""A bad answer never touches stored data: it is refused, said, and the bytes stay the same.

FRED answers are injected at FRED's HTTP call (``urllib.request.urlopen``, which the adapter
uses); Yahoo answers through yfinance's real ``download`` with the recorded ``Ticker``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from filestate import folder_digest
from recorded import fred_answer, fred_full_answer, install_fake_yahoo, serve_fred
from typer.testing import CliRunner

import xlsmallcap.data.store as store_mod
from xlsmallcap.cli import app
from xlsmallcap.data.store import DataStore
from xlsmallcap.data.validate import RefusedDownload


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    st = DataStore(cache_dir=tmp_path / "cache")
    st._write("IWM", st.series("IWM").iloc[:-10], "yahoo")
    st._write("WRMFNS", st.series("WRMFNS"), "fred")
    monkeypatch.setattr(store_mod, "_DEFAULT", st)
    return st


def _fred_body(st: DataStore) -> str:
    return fred_full_answer(st.series("WRMFNS")).decode()


def test_truncated_fred_answer_mid_line_is_refused(seeded, monkeypatch):
    body = _fred_body(seeded)
    cut = body.index("2009-11-16,") + len("2009-11-16,83")   # the true value is 839.2
    asked = serve_fred(monkeypatch, body[:cut].encode())
    before = folder_digest(seeded.cache_dir)
    res = CliRunner().invoke(app, ["data", "update", "-s", "WRMFNS"])
    assert asked and "fredgraph.csv?id=WRMFNS" in asked[0]
    assert res.exit_code == 1
    assert "WRMFNS: the answer moves -90% from 2009-11-09 to 2009-11-16" in res.output
    assert folder_digest(seeded.cache_dir) == before
    assert seeded.series("WRMFNS").loc["2009-11-16"] == pytest.approx(839.2)


def test_truncated_fred_answer_on_a_line_boundary_is_refused(seeded, monkeypatch):
    body = _fred_body(seeded)
    serve_fred(monkeypatch, body[: body.index("2009-11-16,")].encode())
    before = folder_digest(seeded.cache_dir)
    result = seeded.update(series=["WRMFNS"])
    assert "less than the stored 1985-01-07 to 2026-03-02" in result.failed["WRMFNS"]
    assert folder_digest(seeded.cache_dir) == before


@pytest.mark.parametrize("value, needle", [("0", "zero or negative fund assets"),
                                           ("-5", "zero or negative fund assets")])
def test_fred_zero_or_negative_is_refused(seeded, monkeypatch, value, needle):
    body = _fred_body(seeded).replace("2024-07-08,1844.5", f"2024-07-08,{value}")
    serve_fred(monkeypatch, body.encode())
    before = folder_digest(seeded.cache_dir)
    assert needle in seeded.update(series=["WRMFNS"]).failed["WRMFNS"]
    assert folder_digest(seeded.cache_dir) == before


def test_a_good_full_fred_answer_is_stored(seeded, monkeypatch):
    serve_fred(monkeypatch, fred_full_answer(seeded.series("WRMFNS")))
    result = seeded.update(series=["WRMFNS"])
    assert result.ok and seeded.series("WRMFNS").index[-1] == pd.Timestamp("2026-03-16")


def _recent(st: DataStore) -> pd.Series:
    """What Yahoo has from 2026-06-01 on (the cache holds IWM to 2026-06-16 only)."""
    return st._snapshot_series("IWM").loc["2026-06-01":]


SEAM = pd.Timestamp("2026-06-16")   # the stored last day: the splice day


@pytest.mark.parametrize("damage, needle", [
    (lambda s: s.where(s.index != SEAM, 0.0), "a price of 0 on 2026-06-16"),
    (lambda s: s.where(s.index != s.index[-1], -3.0), "a price of -3 on 2026-07-01"),
    (lambda s: s.loc[:"2026-06-12"], "a partial answer never replaces stored data"),
    (lambda s: s.where(s.index != s.index[-1], s.iloc[-2] * 10), "moves +900%"),
])
def test_bad_yahoo_answers_are_refused(seeded, monkeypatch, damage, needle):
    install_fake_yahoo(monkeypatch, {"IWM": damage(_recent(seeded))})
    before = folder_digest(seeded.cache_dir)
    stored = seeded.series("IWM").copy()
    result = seeded.update(tickers=["IWM"])
    assert needle in result.failed["IWM"]
    assert folder_digest(seeded.cache_dir) == before
    pd.testing.assert_series_equal(seeded.series("IWM"), stored)


def test_a_full_download_that_covers_less_than_is_stored_is_refused(seeded, monkeypatch):
    """``--full`` asks for the whole history; an answer from 2026-06-01 only would replace
    decades of stored prices: refused, the cache unchanged."""
    install_fake_yahoo(monkeypatch, {"IWM": _recent(seeded)})
    before = folder_digest(seeded.cache_dir)
    result = seeded.update(tickers=["IWM"], full=True)
    assert "a partial answer never replaces stored data" in result.failed["IWM"]
    assert folder_digest(seeded.cache_dir) == before


def test_a_rescaled_history_is_spliced_only_when_the_user_confirms(seeded, monkeypatch):
    """Yahoo's recent prices at twice the stored ones on the seam (a split not yet in the
    stored history): refused; with accept_jumps the stored history is rescaled to join them."""
    install_fake_yahoo(monkeypatch, {"IWM": _recent(seeded) * 2.0})
    stored = seeded.series("IWM").copy()
    assert "2.00x the stored one" in seeded.update(tickers=["IWM"]).failed["IWM"]
    result = seeded.update(tickers=["IWM"], accept_jumps=True)
    assert result.ok and result.updated["IWM"].startswith("10 new rows, spliced on 2026-06-16")
    got = seeded.series("IWM")
    assert got.loc["2020-01-02"] == pytest.approx(2.0 * stored.loc["2020-01-02"], rel=1e-12)


def test_a_jump_accepted_before_the_overlap_is_not_refused_again(seeded, monkeypatch):
    """The stored IWM tripled on 2026-06-08 (a jump the user accepted then); an update asks
    Yahoo for the days from 2026-06-06 (10 days before the stored end, 06-16) and checks the
    moves from there: the stored step from Friday 06-05 to 06-08 is not looked at again."""
    stored = seeded.series("IWM")
    tripled = stored.where(stored.index < "2026-06-08", stored * 3.0)
    seeded._write("IWM", tripled, "yahoo")
    install_fake_yahoo(monkeypatch, {"IWM": _recent(seeded) * 3.0})
    result = seeded.update(tickers=["IWM"])
    assert result.ok, result.failed
    assert result.updated["IWM"].startswith("10 new rows, spliced on 2026-06-16")
    got = seeded.series("IWM")
    assert got.loc["2026-06-05"] == pytest.approx(stored.loc["2026-06-05"], rel=1e-12)
    assert got.iloc[-1] == pytest.approx(3.0 * _recent(seeded).iloc[-1], rel=1e-12)


def test_a_jump_between_the_stored_days_and_a_later_starting_answer_is_named(seeded,
                                                                            monkeypatch):
    """The stored IWM tripled on 2026-06-12; Yahoo's answer, asked from 2026-06-06, starts on
    06-12 and agrees with the stored seam. The days checked after the splice (the last 10
    stored days on) hold the step from the stored 06-11 to Yahoo's 06-12: it is named."""
    stored = seeded.series("IWM")
    seeded._write("IWM", stored.where(stored.index < "2026-06-12", stored * 3.0), "yahoo")
    install_fake_yahoo(monkeypatch, {"IWM": _recent(seeded).loc["2026-06-12":] * 3.0})
    before = seeded.series("IWM").copy()
    failed = seeded.update(tickers=["IWM"]).failed["IWM"]
    assert failed.startswith("IWM: the answer moves +20") and \
        "from 2026-06-11 to 2026-06-12" in failed
    pd.testing.assert_series_equal(seeded.series("IWM"), before)


def test_a_jump_in_a_whole_history_after_no_overlap_is_stored_only_when_confirmed(seeded,
                                                                                  monkeypatch):
    """Yahoo's answer has no day in common with the stored end (the days around it missing),
    so the whole history is fetched instead; its last day jumps tenfold: refused, and stored
    as the whole history when the user confirms."""
    from xlsmallcap.data.store import OVERLAP_DAYS

    full = seeded._snapshot_series("IWM")
    end = seeded.series("IWM").index[-1]
    gap = (full.index > end - pd.Timedelta(days=OVERLAP_DAYS + 1)) & (full.index <= end)
    answer = full[~gap]
    answer = answer.where(answer.index != answer.index[-1], answer.iloc[-2] * 10)
    install_fake_yahoo(monkeypatch, {"IWM": answer})
    assert "moves +900%" in seeded.update(tickers=["IWM"]).failed["IWM"]
    result = seeded.update(tickers=["IWM"], accept_jumps=True)
    assert result.updated["IWM"].startswith("full history (no overlap)")
    assert seeded.series("IWM").iloc[-1] == pytest.approx(answer.iloc[-1])


def test_a_full_download_with_a_jump_is_stored_when_the_user_confirms(seeded, monkeypatch):
    """``--full --accept-jumps``: the whole history, its tenfold last day included."""
    full = seeded._snapshot_series("IWM")
    answer = full.where(full.index != full.index[-1], full.iloc[-2] * 10)
    install_fake_yahoo(monkeypatch, {"IWM": answer})
    assert "moves +900%" in seeded.update(tickers=["IWM"], full=True).failed["IWM"]
    result = seeded.update(tickers=["IWM"], full=True, accept_jumps=True)
    assert result.updated["IWM"].startswith("full history;")
    assert seeded.series("IWM").iloc[-1] == pytest.approx(answer.iloc[-1])


def test_a_real_jump_is_stored_when_the_user_confirms(seeded, monkeypatch):
    jump = _recent(seeded)
    jump = jump.where(jump.index != jump.index[-1], jump.iloc[-2] * 10)
    install_fake_yahoo(monkeypatch, {"IWM": jump})
    res = CliRunner().invoke(app, ["data", "update", "-t", "IWM"])
    assert res.exit_code == 1 and "--accept-jumps" in res.output
    res = CliRunner().invoke(app, ["data", "update", "-t", "IWM", "--accept-jumps"])
    assert res.exit_code == 0, res.output
    assert seeded.series("IWM").iloc[-1] == pytest.approx(jump.iloc[-1])


def test_a_good_yahoo_answer_is_spliced(seeded, monkeypatch):
    install_fake_yahoo(monkeypatch, {"IWM": _recent(seeded)})
    result = seeded.update(tickers=["IWM"])
    assert result.ok and "spliced on" in result.updated["IWM"]
    assert seeded.series("IWM").index[-1] == pd.Timestamp("2026-07-01")


# The checks themselves, on hand-made answers, each refusal's message in full.
def _days(values, start="2024-07-01"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


@pytest.mark.parametrize("kind, values, message", [
    ("yield", [4.1, 4.2, 60.0], "^TNX: the answer has rates outside -5 to 50 percent"),
    ("rate", [5.3, -6.0, 5.3], "^TNX: the answer has rates outside -5 to 50 percent"),
    ("yield", [4.0, 9.5], "^TNX: the answer moves +5.50 pp from 2024-07-01 to 2024-07-02; "
                          "if that is real, run again with --accept-jumps"),
    ("price", [100.0, 250.0], "^TNX: the answer moves +150% from 2024-07-01 to 2024-07-02; "
                              "if that is real, run again with --accept-jumps"),
    # an exact doubling is allowed: the message names the move beyond it, not that one
    ("price", [1.0, 2.0, 5.0], "^TNX: the answer moves +150% from 2024-07-02 to 2024-07-03; "
                               "if that is real, run again with --accept-jumps"),
    ("mmf", [0.0, 5.0, 0.0], "^TNX: the answer has zero or negative fund assets"),
    # below 1 too: a fund of $0.5bn that empties, a price of 50 cents that jumps tenfold
    ("mmf", [0.0, 0.5, 0.0, 2.0], "^TNX: the answer has zero or negative fund assets"),
    ("price", [0.5, 5.0], "^TNX: the answer moves +900% from 2024-07-01 to 2024-07-02; "
                          "if that is real, run again with --accept-jumps"),
])
def test_check_series_refusals(kind, values, message):
    from xlsmallcap.data.validate import check_series

    with pytest.raises(RefusedDownload) as exc:
        check_series("^TNX", kind, _days(values), today=pd.Timestamp("2026-01-01"))
    assert str(exc.value) == message


@pytest.mark.parametrize("kind, values, jumps", [
    ("yield", [-4.9, 49.9, 45.0], True), ("yield", [4.0, 8.9], False), ("rate", [5.0, 19.9], False),
    ("mmf", [0.0, 0.0, 5.0, 5.5], False), ("price", [1.0, 1.99], False),
    ("rate", [50.0, 50.0], False), ("yield", [-5.0, -5.0], False)])     # the range's ends
def test_check_series_accepts_the_edges(kind, values, jumps):
    from xlsmallcap.data.validate import check_series

    check_series("X", kind, _days(values), accept_jumps=jumps, today=pd.Timestamp("2026-01-01"))


def test_check_covers_allows_forty_days_of_slack_at_the_start_and_none_at_the_end():
    from xlsmallcap.data.validate import check_covers

    stored = pd.Series(1.0, index=pd.date_range("2024-01-01", "2024-06-28"))
    check_covers("X", pd.Series(1.0, index=pd.date_range("2024-02-10", "2024-06-28")), stored)
    for start, end in (("2024-02-11", "2024-06-28"), ("2024-01-01", "2024-06-27")):
        with pytest.raises(RefusedDownload) as exc:
            check_covers("X", pd.Series(1.0, index=pd.date_range(start, end)), stored)
        assert str(exc.value) == (f"X: the answer covers {start} to {end}, less than the stored "
                                  "2024-01-01 to 2024-06-28; a partial answer never replaces "
                                  "stored data")


def test_check_splice_names_the_last_day_of_a_short_answer():
    from xlsmallcap.data.validate import check_splice

    old = _days([10.0, 10.5, 11.0])
    with pytest.raises(RefusedDownload) as exc:
        check_splice("X", old, old.iloc[:2])
    assert str(exc.value) == ("X: the answer ends on 2024-07-02, before the stored 2024-07-03; "
                              "a partial answer never replaces stored data")


def _rmfns_answer(st: DataStore, change=None) -> bytes:
    s = st.series("RMFNS")
    if change is not None:
        s = change(s)
    return fred_answer(s, "RMFNS")


def test_a_jump_already_in_the_stored_history_is_not_refused_again(seeded, monkeypatch):
    """Retail money funds doubled from February to March 1974 (FRED's RMFNS): the stored
    history has it, so a full answer that repeats it is accepted."""
    s = seeded.series("RMFNS")
    assert s["1974-03-01"] / s["1974-02-01"] > 1.9             # the real jump is there
    serve_fred(monkeypatch, _rmfns_answer(seeded))
    result = seeded.update(series=["RMFNS"])
    assert result.failed == {} and result.updated["RMFNS"].startswith("full history")


def test_a_jump_in_a_revised_observation_is_refused(seeded, monkeypatch):
    prev, last = seeded.series("RMFNS").index[-3:-1]
    serve_fred(monkeypatch, _rmfns_answer(seeded, lambda s: s.where(s.index != last,
                                                                     s[last] * 3)))
    before = folder_digest(seeded.cache_dir)
    result = seeded.update(series=["RMFNS"])
    assert result.failed["RMFNS"].startswith("RMFNS: the answer moves +2")
    assert f"% from {prev:%Y-%m-%d} to {last:%Y-%m-%d}; if that is real" in result.failed["RMFNS"]
    assert folder_digest(seeded.cache_dir) == before


def _answer(dates, values):
    return pd.Series(values, index=pd.to_datetime(dates), dtype="float64")


@pytest.mark.parametrize("kind, s, message", [
    ("price", _answer([], []), "IWM: the answer has no observations"),
    ("price", _answer(["2024-07-16", "2024-07-15"], [1.0, 2.0]),
     "IWM: the answer's dates are not sorted and unique"),
    ("price", _answer(["2024-07-15", "2024-07-15"], [1.0, 2.0]),
     "IWM: the answer's dates are not sorted and unique"),
    ("price", _answer(["1850-01-02", "2024-07-15"], [1.0, 2.0]),
     "IWM: the answer has implausible dates (1850-01-02 to 2024-07-15)"),
    ("price", _answer(["2024-07-15", "2024-07-18"], [1.0, 2.0]),
     "IWM: the answer has implausible dates (2024-07-15 to 2024-07-18)"),   # after tomorrow
    ("price", _answer(["2024-07-15", "2024-07-16", "2024-07-18"], [1.0, 1.0, 2.0]),
     "IWM: the answer has implausible dates (2024-07-15 to 2024-07-18)"),   # only the last
    ("price", _answer(["2024-07-15", "2024-07-16"], [1.0, float("nan")]),
     "IWM: the answer has values that are not numbers"),
])
def test_each_way_an_answer_can_be_wrong_is_named(kind, s, message):
    from xlsmallcap.data.validate import check_series

    with pytest.raises(RefusedDownload) as info:
        check_series("IWM", kind, s, today=pd.Timestamp("2024-07-16"))
    assert str(info.value) == message


def test_an_answer_dated_tomorrow_is_accepted():
    """Time zones: Yahoo's "today" can be the day after ours."""
    from xlsmallcap.data.validate import check_series

    check_series("IWM", "price", _answer(["2024-07-16", "2024-07-17"], [1.0, 1.01]),
                 today=pd.Timestamp("2024-07-16"))


@pytest.mark.parametrize("stored, answer", [(150.0, 100.0), (100.0, 150.0)])
def test_a_price_exactly_two_thirds_or_one_and_a_half_times_at_the_seam_is_spliced(stored,
                                                                                  answer):
    """The bounds belong to the dividend side: 100 for a stored 150 (exactly 1/1.5) and 150
    for a stored 100 are spliced."""
    from xlsmallcap.data.validate import check_splice

    check_splice("IWM", _days([stored, stored], start="2024-07-15"),
                 _days([answer, answer], start="2024-07-16"))


@pytest.mark.parametrize("factor, refused", [(0.6, True), (0.7, False), (1.45, False),
                                             (1.6, True)])
def test_a_price_that_moved_by_half_at_the_seam_is_refused(factor, refused):
    """Between two downloads a dividend moves adjusted prices by a few percent; 1.5x either way
    is a split or a different ticker."""
    from xlsmallcap.data.validate import check_splice

    old = _days([100.0, 100.0], start="2024-07-15")
    new = _days([100.0 * factor, 101.0 * factor], start="2024-07-16")
    if refused:
        with pytest.raises(RefusedDownload) as info:
            check_splice("IWM", old, new)
        assert str(info.value) == (f"IWM: on 2024-07-16 the answer's price is {factor:.2f}x the "
                                   "stored one; if that is real, run again with --accept-jumps")
        check_splice("IWM", old, new, accept_jumps=True)
    else:
        check_splice("IWM", old, new)
