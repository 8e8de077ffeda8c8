"""The Yahoo and FRED adapters against recorded responses (no network)."""

from __future__ import annotations

import pandas as pd
import pytest
from recorded import FRED_DGS2_OLD, FRED_HTML, FRED_WRMFNS, install_fake_yahoo
from yfinance.exceptions import YFRateLimitError

from xlsmallcap.data.errors import LiveDataError
from xlsmallcap.data.fred import FRED_CSV_URL, download_series, parse_fred_csv
from xlsmallcap.data.yahoo import download_close

CLOSES = pd.Series([100.0, 101.5, 99.8, 102.3],
                   index=pd.to_datetime(["2026-07-01", "2026-07-02", "2026-07-06", "2026-07-07"]))


def test_yahoo_closes_through_real_yfinance_download(monkeypatch):
    fake = install_fake_yahoo(monkeypatch, {"IWM": CLOSES})
    s = download_close("IWM", pd.Timestamp("2026-07-02").date())
    assert list(s.index) == list(CLOSES.index[1:])  # tz dropped, dates kept
    assert s.index.tz is None and s.name == "IWM"
    assert s.tolist() == CLOSES.iloc[1:].tolist()
    ticker, kw = fake.calls[0]
    assert ticker == "IWM" and kw["auto_adjust"] is True and kw["start"] == "2026-07-02"
    assert kw["timeout"] == 20   # seconds yfinance waits for Yahoo's answer


def test_yahoo_full_history_asks_for_period_max(monkeypatch):
    fake = install_fake_yahoo(monkeypatch, {"SPY": CLOSES})
    download_close("SPY")
    assert fake.calls[0][1]["period"] == "max"


@pytest.mark.parametrize("answer, needle", [
    (YFRateLimitError(), "Rate limited"),
    (TimeoutError("Operation timed out after 20001 milliseconds"), "timed out"),
    (ConnectionError("Could not resolve host: query2.finance.yahoo.com"), "resolve host"),
    (None, "no price data found"),
])
def test_yahoo_failures_name_the_ticker_and_reason(monkeypatch, answer, needle):
    install_fake_yahoo(monkeypatch, {"IWM": answer})
    with pytest.raises(LiveDataError) as info:
        download_close("IWM")
    assert "IWM" in str(info.value) and needle in str(info.value)


def test_yahoo_download_that_raises_is_reported():
    def broken(*a, **k):
        raise OSError("network is unreachable")

    with pytest.raises(LiveDataError, match="IWM: download failed: OSError"):
        download_close("IWM", download=broken)


def test_fred_current_layout_with_blank_missing_value():
    s = parse_fred_csv(FRED_WRMFNS, "WRMFNS")
    assert s.index[0] == pd.Timestamp("2026-02-09") and s.size == 5
    assert pd.Timestamp("2026-03-09") not in s.index
    assert s["2026-03-02"] == 2273.9


def test_fred_old_layout_with_dot():
    s = parse_fred_csv(FRED_DGS2_OLD, "DGS2")
    assert s.tolist() == [4.19, 4.19, 4.22]


@pytest.mark.parametrize("body, needle", [
    (FRED_HTML, "malformed"),
    (b"observation_date,DGS2\n2026-08-19,4.19\n", "expected ['observation_date', 'WRMFNS']"),
    (b"value,WRMFNS\n2026-02-09,1.0\n", "header ['value', 'WRMFNS']"),
    (b"observation_date,WRMFNS,NOTE\n2026-02-09,1.0,x\n",
     "header ['observation_date', 'WRMFNS', 'NOTE']"),
    (b"observation_date,WRMFNS\n2026-02-09,abc\n", "line 2"),
    (b"observation_date,WRMFNS\nnot-a-date,1.0\n", "line 2"),
    (b"observation_date,WRMFNS\n", "no observations"),
    (b"observation_date,WRMFNS\n2026-02-09,1.0\n2026-02-09,2.0\n", "WRMFNS: FRED sent "
                                                                     "duplicated dates"),
    (b"", "malformed"),
])
def test_fred_malformed(body, needle):
    with pytest.raises(LiveDataError) as info:
        parse_fred_csv(body, "WRMFNS")
    assert needle in str(info.value) and "WRMFNS" in str(info.value)


def test_fred_fetch_url_and_timeout():
    seen = []

    def fetch(url, timeout):
        seen.append((url, timeout))
        return FRED_WRMFNS

    download_series("WRMFNS", timeout=7, fetch=fetch)
    assert seen == [(FRED_CSV_URL.format(id="WRMFNS"), 7)]


def test_fred_timeout_is_reported():
    def fetch(url, timeout):
        raise TimeoutError("timed out")

    with pytest.raises(LiveDataError, match="WRMFNS: FRED download failed: TimeoutError"):
        download_series("WRMFNS", fetch=fetch)


def test_yahoo_two_rows_for_one_day_keep_the_later(monkeypatch):
    """During the session Yahoo can send today's row twice (midnight and the latest trade):
    one close per day, the later one."""
    closes = pd.Series([100.0, 101.0, 102.0, 102.5],
                       index=pd.to_datetime(["2026-07-02 00:00", "2026-07-06 00:00",
                                             "2026-07-07 00:00", "2026-07-07 15:30"]))
    install_fake_yahoo(monkeypatch, {"IWM": closes})
    s = download_close("IWM")
    assert list(s.index.strftime("%Y-%m-%d")) == ["2026-07-02", "2026-07-06", "2026-07-07"]
    assert s.tolist() == [100.0, 101.0, 102.5]


def test_fred_whole_numbers_come_back_as_floats():
    s = parse_fred_csv(b"observation_date,WRMFNS\n2026-02-09,2279\n2026-02-16,2281\n", "WRMFNS")
    assert s.dtype == "float64" and s.tolist() == [2279.0, 2281.0]


def _frame(columns, values, tz=None):
    idx = pd.DatetimeIndex(["2026-07-06", "2026-07-07"], tz=tz)
    return pd.DataFrame(values, index=idx, columns=columns)


@pytest.mark.parametrize("frame, closes", [
    # the shape yfinance.download gives today: (Price, Ticker) columns, tz-aware dates
    (_frame(pd.MultiIndex.from_tuples([("Close", "IWM"), ("Open", "IWM")]),
            [[200.0, 199.0], [201.0, 200.0]], tz="America/New_York"), [200.0, 201.0]),
    # older yfinance: flat columns, naive dates
    (_frame(["Open", "Close"], [[199.0, 200.0], [200.0, 201.0]]), [200.0, 201.0]),
])
def test_yahoo_frames_of_either_shape_give_the_closes(frame, closes):
    s = download_close("IWM", download=lambda *a, **k: frame)
    assert s.tolist() == closes and s.index.tz is None
    assert list(s.index.strftime("%Y-%m-%d")) == ["2026-07-06", "2026-07-07"]


@pytest.mark.parametrize("frame, reason", [
    (_frame(pd.MultiIndex.from_tuples([("Close", "SPY")]), [[1.0], [2.0]]),
     "IWM: Yahoo Finance returned no prices (no rows returned)"),        # another ticker's
    (_frame(["Open"], [[1.0], [2.0]]),
     "IWM: Yahoo Finance returned no prices (no rows returned)"),        # no Close column
    (_frame(["Close"], [[200.0], [float("inf")]]),
     "IWM: Yahoo Finance returned non-numeric prices"),
])
def test_yahoo_frames_without_usable_closes_are_refused(frame, reason):
    with pytest.raises(LiveDataError) as info:
        download_close("IWM", download=lambda *a, **k: frame)
    assert str(info.value) == reason


def test_fred_is_asked_with_the_products_name_and_the_time_out(monkeypatch):
    """FRED answers scripts that name themselves; the request carries the User-Agent."""
    import io
    import urllib.request

    from xlsmallcap.data import fred

    seen = {}

    def urlopen(req, timeout=None):
        seen["agent"], seen["url"], seen["timeout"] = (req.get_header("User-agent"),
                                                        req.full_url, timeout)
        return io.BytesIO(FRED_WRMFNS)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert fred._urlopen(FRED_CSV_URL.format(id="WRMFNS"), 7) == FRED_WRMFNS
    assert seen == {"agent": "xlsmallcap", "url": FRED_CSV_URL.format(id="WRMFNS"),
                    "timeout": 7}


def test_splice_seam_is_the_last_day_both_have_a_price():
    from xlsmallcap.data.splice import splice

    days = pd.to_datetime(["2024-07-12", "2024-07-15", "2024-07-16", "2024-07-17"])
    old = pd.Series([100.0, 101.0, 102.0], index=days[:3], name="IWM")
    new = pd.Series([50.0, 50.5, float("nan"), 52.0], index=days, name="IWM")
    out = splice(old, new)          # 07-16 has no new price: the seam is 07-15, factor 0.5
    assert out.tolist() == [50.0, 50.5, 52.0] and list(out.index) == [days[0], days[1], days[3]]


def test_a_fred_answer_is_named_by_its_series_and_a_bad_line_is_named():
    from xlsmallcap.data.errors import LiveDataError
    from xlsmallcap.data.fred import parse_fred_csv

    good = parse_fred_csv(b"observation_date,WRMFNS\n2026-01-05,123.5\n", "wrmfns")
    assert good.name == "WRMFNS" and good.tolist() == [123.5]
    with pytest.raises(LiveDataError) as info:
        parse_fred_csv(b"DATE,WRMFNS\n2026-01-05,12;3\n", "WRMFNS")
    assert str(info.value) == "WRMFNS: FRED sent a malformed CSV (line 2 is not 'date,number')"


def test_the_office_js_path_is_told_by_xlwings_func(monkeypatch):
    """xlwings Lite and Server put their own ``func`` in ``xlwings``; Windows has xlwings'."""
    import xlwings as xw

    from xlsmallcap import excel

    assert excel._office_js() is False

    def func():
        pass

    func.__module__ = "xlwings.pro.udfs_officejs"
    monkeypatch.setattr(xw, "func", func)
    assert excel._office_js() is True
