"""The data store: lookup, cache, live updates with a seam, failures, CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from filestate import folder_digest
from recorded import fred_answer, fred_full_answer, install_fake_yahoo, serve_fred
from typer.testing import CliRunner
from yfinance.exceptions import YFRateLimitError

from xlsmallcap.data import store as store_mod
from xlsmallcap.data.errors import UnknownSeriesError


def test_lookup_is_case_insensitive_and_accepts_yields_without_caret(store):
    assert store.series("iwm").equals(store.series("IWM"))
    assert store.series("irx").name == "^IRX"
    s = store.series("SPY", "2024-07-10", "2024-07-16")
    assert s.index[0] == pd.Timestamp("2024-07-10") and s.index[-1] == pd.Timestamp("2024-07-16")


def test_unknown_series_names_it_and_lists_what_is_available(store):
    with pytest.raises(UnknownSeriesError) as info:
        store.series("NOPE")
    msg = str(info.value)
    assert "'NOPE'" in msg and "IWM" in msg and "WRMFNS" in msg and "FF_SMB" in msg


@pytest.mark.parametrize("reader", ["series", "public", "published", "publication_rule"])
def test_an_unknown_name_is_answered_the_same_way_by_every_reader(store, reader):
    with pytest.raises(UnknownSeriesError, match="'NOPE'; available offline: IWM, SPY"):
        getattr(store, reader)("NOPE")


def test_a_range_open_at_either_end(store):
    whole = store.series("IWM")
    head = store.series("IWM", end="2000-06-01")
    assert head.index[0] == whole.index[0] == pd.Timestamp("2000-05-26")
    assert head.index[-1] == pd.Timestamp("2000-06-01")
    tail = store.series("IWM", start="2024-07-16")
    assert tail.index[0] == pd.Timestamp("2024-07-16") and tail.index[-1] == whole.index[-1]


def test_a_stored_file_deleted_behind_the_stores_back(store):
    """Another program (or a clean-up) removed the file the manifest names: the snapshot is
    used, once, without looping."""
    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    store._file_of("SPY").unlink()
    assert store.series("SPY").size == 8412 and store.source("SPY") == "snapshot"


def test_a_stored_price_series_with_a_zero_is_not_used(store):
    spy = store.series("SPY")
    store._write("SPY", spy.where(spy.index != spy.index[5], 0.0), "yahoo")
    assert (store.series("SPY") > 0).all() and store.source("SPY") == "snapshot"
    assert "(non-positive prices); using the snapshot" in store.problems["SPY"]


def test_a_stored_file_without_its_date_column_is_reported(tmp_path):
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "SPY.csv").write_text("day,SPY\n2024-07-16,1.0\n")  # no manifest
    st = store_mod.DataStore(cache_dir=tmp_path)
    assert st.series("SPY").size == 8412 and st.source("SPY") == "snapshot"
    assert "(expected a 'date' column followed by value columns)" in st.problems["SPY"]


def test_a_column_named_like_a_built_in_series_is_refused_in_place(store, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE,SPY\n2024-07-10,1,2\n2024-07-11,2,3\n")
    with pytest.raises(store_mod.DataError) as info:
        store.import_csv(f)
    assert str(info.value) == ("mine.csv: SPY would replace the built-in series; rename the "
                               "column or pass --replace (`xlsmallcap data remove NAME` "
                               "restores it)")
    assert "MINE" not in store.available() and store.source("SPY") == "snapshot"
    f.write_text("Date,QQQ,MINE,SPY\n2024-07-10,1,2,3\n2024-07-11,2,3,4\n")
    with pytest.raises(store_mod.DataError) as info:
        store.import_csv(f)
    assert str(info.value).startswith("mine.csv: QQQ, SPY would replace the built-in series")


def test_a_users_series_without_a_description_is_described_by_its_name(tmp_path):
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "MINE.csv").write_text("date,MINE\n2024-07-16,1.0\n")
    st = store_mod.DataStore(cache_dir=tmp_path)          # a first-release cache: no manifest
    assert st.describe("mine") == "MINE" and st.series("MINE").tolist() == [1.0]


def test_memo_returns_the_same_object_until_the_cache_file_changes(store):
    a = store.series("IWM")
    assert store.series("IWM") is a


def test_status_lists_every_series_with_coverage(store):
    rows = {r.id: r for r in store.status(today=pd.Timestamp("2026-11-23").date())}
    assert len(rows) == 34
    assert rows["IWM"].source == "snapshot" and rows["IWM"].stale_days == 145
    # the raw file's first and last rows (prices/IWM.csv: 6,562 days; macro/WRMFNS.csv)
    assert (str(rows["IWM"].first), rows["IWM"].rows) == ("2000-05-26", 6562)
    assert rows["IWM"].description == "iShares Russell 2000 ETF (small caps)"
    assert (str(rows["WRMFNS"].first), str(rows["WRMFNS"].last)) == ("1985-01-07", "2026-03-02")


def test_seam_return_is_right_after_an_incremental_update(store, monkeypatch):
    """A dividend after the stored vintage lowers all earlier adjusted prices by 0.8%.

    The fresh download (new vintage) starts 10 days before the stored last date; the return
    spanning the seam must equal the true one.
    """
    truth = store.series("IWM")  # stands in for the true total-return path
    stored_until = pd.Timestamp("2026-06-15")
    old = truth.loc[:stored_until]
    store._write("IWM", old, "yahoo")
    new_vintage = truth.loc["2026-06-01":] * 0.992  # Yahoo re-adjusts its whole history
    install_fake_yahoo(monkeypatch, {"IWM": new_vintage})
    result = store.update(tickers=["IWM"])
    assert result.ok, result.failed
    assert "spliced on 2026-06-15" in result.updated["IWM"]
    s = store.series("IWM")
    assert store.source("IWM") == "yahoo"
    assert s.index[-1] == truth.index[-1] and s.size == truth.size
    a, b = pd.Timestamp("2026-06-10"), pd.Timestamp("2026-06-24")  # spans the seam
    assert s[b] / s[a] == pytest.approx(truth[b] / truth[a], rel=1e-12)
    assert s[b] == pytest.approx(new_vintage[b], rel=1e-12)  # levels are the new vintage
    r = s.pct_change().dropna()
    pd.testing.assert_series_equal(r, truth.pct_change().dropna(), rtol=1e-10,
                                   check_names=False, check_freq=False)


def test_unknown_new_ticker_gets_full_history(store, monkeypatch):
    closes = store.series("IJR")
    fake = install_fake_yahoo(monkeypatch, {"VB": closes})
    result = store.update(tickers=["vb"])
    assert result.ok and "full history" in result.updated["VB"]
    assert fake.calls[0][1]["period"] == "max"
    assert "VB" in store.available() and store.series("VB").size == closes.size
    again = store.update(tickers=["vb"])                # now stored: only the new days
    last = closes.index[-1]
    assert again.updated["VB"] == f"0 new rows, spliced on {last:%Y-%m-%d}; last {last:%Y-%m-%d}"
    assert fake.calls[-1][1]["period"] != "max"           # not the whole history again


def test_a_new_tickers_download_is_checked_as_prices(store, monkeypatch):
    """A ticker outside the catalog is a price series: a download with a zero close is refused
    and nothing is stored."""
    closes = store.series("IJR").iloc[-300:].copy()
    closes.iloc[100] = 0.0
    install_fake_yahoo(monkeypatch, {"VB": closes})
    result = store.update(tickers=["vb"])
    assert "VB" in result.failed and "VB" not in store.available()
    assert result.failed["VB"].endswith("has a price of 0 on 2025-09-24; prices must be positive")
    assert store.kind("vb") == "price"


def test_fred_update_replaces_the_series(store, monkeypatch):
    answer = fred_full_answer(store.series("WRMFNS").loc[:"2026-02-02"])
    serve_fred(monkeypatch, answer)
    result = store.update(series=["WRMFNS"])
    assert result.ok
    assert store.series("WRMFNS").index[-1] == pd.Timestamp("2026-03-16")
    assert store.source("WRMFNS") == "fred"


def test_fred_update_of_a_series_the_catalog_does_not_know(store, monkeypatch):
    """Any FRED series can be kept up to date by its ID, not only the built-in ones."""
    days = pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-04"])
    asked = serve_fred(monkeypatch, fred_answer(pd.Series([0.41, 0.42, 0.43], index=days),
                                                "T10Y2Y"))
    result = store.update(series=["t10y2y"])
    assert result.updated == {"T10Y2Y": "full history; last 2026-03-04"} and not result.failed
    assert asked == ["https://fred.stlouisfed.org/graph/fredgraph.csv?id=T10Y2Y"]
    assert store.series("T10Y2Y").tolist() == [0.41, 0.42, 0.43]
    assert store.source("T10Y2Y") == "fred"


FAILURES = {
    "rate limit": ("yahoo", YFRateLimitError(), "rate limited by the source"),
    "time-out": ("yahoo", TimeoutError("Operation timed out"), "no answer within the time-out"),
    "empty frame": ("yahoo", None, "no prices"),
    "malformed FRED": ("fred", b"<html>maintenance</html>", "malformed CSV"),
    "FRED time-out": ("fred", TimeoutError("timed out"), "no answer within the time-out"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failures_leave_stored_data_byte_identical(store, monkeypatch, case):
    kind, answer, needle = FAILURES[case]
    store._write("IWM", store.series("IWM").iloc[:-5], "yahoo")
    store._write("WRMFNS", store.series("WRMFNS").iloc[:-5], "fred")
    before = folder_digest(store.cache_dir)
    if kind == "yahoo":
        install_fake_yahoo(monkeypatch, {"IWM": answer})
        result = store.update(tickers=["IWM"])
        sid = "IWM"
    else:
        serve_fred(monkeypatch, answer)
        result = store.update(series=["WRMFNS"])
        sid = "WRMFNS"
    assert not result.ok and needle in result.failed[sid]
    assert folder_digest(store.cache_dir) == before


def test_partial_download_updates_the_rest(store, monkeypatch):
    install_fake_yahoo(monkeypatch, {"SPY": store.series("SPY").loc["2026-06-01":]})
    result = store.update(tickers=["SPY", "QQQ"])
    assert set(result.updated) == {"SPY"} and set(result.failed) == {"QQQ"}
    assert store.source("QQQ") == "snapshot" and store.source("SPY") == "yahoo"


def test_read_only_cache_folder_is_reported(store, monkeypatch):
    install_fake_yahoo(monkeypatch, {"SPY": store.series("SPY").loc["2026-06-01":]})

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(store_mod, "write_bytes_atomic", refuse)
    result = store.update(tickers=["SPY"])
    assert "could not write the cache" in result.failed["SPY"]
    assert store.source("SPY") == "snapshot"


def test_fama_french_has_no_live_source(store):
    result = store.update(series=["FF_SMB"])
    assert "no live source" in result.failed["FF_SMB"]


def test_corrupt_cache_file_falls_back_to_snapshot_and_is_reported(store):
    store._write("SPY", store.series("SPY"), "yahoo")
    store._file_of("SPY").write_bytes(b"\x00\xffgarbage")
    s = store.series("SPY")
    assert s.size == 8412 and store.source("SPY") == "snapshot"
    assert "corrupt" in store.problems["SPY"] and "using the snapshot" in store.problems["SPY"]


def test_import_and_export(store, tmp_path):
    src = tmp_path / "mine.csv"
    src.write_text("Date,MYIDX\n2024-07-10,100\n2024-07-11,101.5\n2024-07-12,102\n")
    assert store.import_csv(src) == ["MYIDX"]
    assert store.series("myidx").tolist() == [100.0, 101.5, 102.0]
    assert store.source("MYIDX") == "csv"
    out = store.export(tmp_path / "out.csv", ["IWM", "MYIDX"])
    df = pd.read_csv(out, index_col=0, parse_dates=True)
    assert df.loc["2024-07-11", "MYIDX"] == 101.5
    assert df.loc["2024-07-10", "IWM"] == pytest.approx(199.003)
    xl = store.export(tmp_path / "out.xlsx", ["IWM"])
    back = pd.read_excel(xl, index_col=0)
    assert back["IWM"].iloc[0] == pytest.approx(store.series("IWM").iloc[0])


# ----------------------------------------------------------------------------- CLI
@pytest.fixture
def cli(store, monkeypatch):
    from xlsmallcap import cli

    monkeypatch.setattr(store_mod, "_DEFAULT", store)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.app, list(args))


def test_cli_status_lists_every_series(cli):
    res = cli("data", "status")
    assert res.exit_code == 0, res.output
    for sid in ("IWM", "SPY", "QQQ", "DIA", "RSP", "IWF", "^IRX", "^TNX", "DFF", "DGS2",
                "DGS3MO", "WRMFNS", "RMFNS", "MMMFFAQ027S", "FF_SMB", "FF_ME_LO10"):
        assert sid in res.output
    assert "2026-07-01" in res.output and "snapshot" in res.output


def test_cli_update_failure_exits_non_zero_and_says_what_is_still_used(cli, monkeypatch):
    install_fake_yahoo(monkeypatch, {"IWM": YFRateLimitError()})
    res = cli("data", "update", "--tickers", "IWM")
    assert res.exit_code == 1
    assert "rate limited by the source" in res.output and \
        "still using the stored IWM data (snapshot)" \
        in res.output


def test_cli_update_success(cli, store, monkeypatch):
    install_fake_yahoo(monkeypatch, {"IWM": store.series("IWM").loc["2026-06-01":]})
    answer = fred_full_answer(store.series("WRMFNS").loc[:"2026-02-02"])
    serve_fred(monkeypatch, answer)
    res = cli("data", "update", "-t", "IWM", "-s", "WRMFNS")
    assert res.exit_code == 0, res.output
    assert "updated IWM" in res.output and "updated WRMFNS" in res.output


def test_cli_bad_ticker_name(cli):
    res = cli("data", "update", "--tickers", "../etc")
    assert res.exit_code == 2 and "not a ticker or series id" in res.output


def test_cli_export(cli, tmp_path):
    res = cli("data", "export", "--out", str(tmp_path / "x.csv"), "--series", "IWM,SPY")
    assert res.exit_code == 0 and (tmp_path / "x.csv").exists()


def test_an_answer_that_does_not_overlap_is_replaced_by_the_full_history(store, monkeypatch):
    """Stored until 2026-06-15; Yahoo's answer has a hole from 06-01 to 06-19, so the
    incremental answer (from 06-05) shares no date with the store: the whole history is
    fetched instead and stored as sent."""
    truth = store.series("IWM")
    store._write("IWM", truth.loc[:"2026-06-15"], "yahoo")
    holed = truth.drop(truth.loc["2026-06-01":"2026-06-19"].index)
    fake = install_fake_yahoo(monkeypatch, {"IWM": holed})
    result = store.update(tickers=["IWM"])
    assert result.updated == {"IWM": f"full history (no overlap); last "
                                     f"{truth.index[-1]:%Y-%m-%d}"}
    assert [bool(kw.get("start")) for _, kw in fake.calls] == [True, False]
    pd.testing.assert_series_equal(store.series("IWM"), holed, check_names=False,
                                   check_freq=False)


def test_a_plain_update_asks_every_live_source_once(store, monkeypatch):
    """``update()`` with no names: every catalog series with a live source, Yahoo's by
    ticker and FRED's by URL, and nothing else (Fama-French has no live source)."""
    from xlsmallcap.data.catalog import CATALOG

    yahoo = [s for s in CATALOG if s.live == "yahoo"]
    fred = [s for s in CATALOG if s.live == "fred"]
    fake = install_fake_yahoo(monkeypatch, {s.symbol.upper(): store.series(s.id) for s in yahoo})
    urls = serve_fred(monkeypatch, lambda url: fred_answer(store.series(url.rsplit("id=", 1)[1]),
                                                           url.rsplit("id=", 1)[1]))
    result = store.update()
    asked = [url.rsplit("id=", 1)[1] for url in urls]
    assert result.failed == {}
    assert sorted(result.updated) == sorted(s.id for s in yahoo + fred)
    assert sorted(asked) == sorted(s.id for s in fred)
    assert sorted(t for t, _ in fake.calls) == sorted(s.symbol.upper() for s in yahoo)
    last = store.series("IWM").index[-1]
    assert result.updated["IWM"] == f"0 new rows, spliced on {last:%Y-%m-%d}; last {last:%Y-%m-%d}"
    wrmfns = store.series("WRMFNS").index[-1]
    assert result.updated["WRMFNS"] == f"full history; last {wrmfns:%Y-%m-%d}"


def test_a_corrupt_users_series_shows_in_status_with_no_rows(store, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    store.import_csv(f)
    store._file_of("MINE").write_bytes(b"\x00\x00")
    row = next(r for r in store.status() if r.id == "MINE")
    assert (row.source, row.first, row.last, row.rows, row.stale_days) == \
        ("cache", None, None, 0, None)
    assert row.note.endswith("is corrupt (its checksum does not match: truncated or changed "
                             "outside xlsmallcap); no other copy; import its file again "
                             "(`xlsmallcap data import`)")
    # doing as it says mends it: the same content has the same file name, written again
    store.import_csv(f)
    assert store.series("MINE").tolist() == [1.0, 2.0]
    assert next(r for r in store.status() if r.id == "MINE").rows == 2


def test_describe_gives_the_catalogs_words_a_stored_description_or_the_name(store, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    store.import_csv(f)
    with store._locked():
        store._commit(dict([store._stage("OWN", store.series("MINE"), "csv")]))
    assert store.describe("iwm") == "iShares Russell 2000 ETF (small caps)"
    assert (store.describe("mine"), store.describe("OWN")) == ("imported from mine.csv", "OWN")
    assert store.describe("NOSUCH") == "NOSUCH"


def test_a_cache_folder_whose_parents_do_not_exist_yet_is_made(tmp_path):
    """XLSMALLCAP_CACHE may name a folder several levels below anything that exists."""
    st = store_mod.DataStore(cache_dir=tmp_path / "not" / "yet" / "cache")
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    assert st.import_csv(f) == ["MINE"] and st.series("MINE").tolist() == [1.0, 2.0]


def test_an_unknown_name_is_shown_to_20_characters(store):
    with pytest.raises(UnknownSeriesError) as info:
        store.series("  ABCDEFGHIJKLMNOPQRSTUVWXYZ  ")
    assert info.value.name == "ABCDEFGHIJKLMNOPQRST"


def test_status_goes_on_after_a_corrupt_users_series(store, tmp_path):
    """A corrupt series listed before the user's other series does not hide them."""
    for name in ("ONE", "TWO"):
        f = tmp_path / f"{name}.csv"
        f.write_text(f"Date,{name}\n2024-01-02,1\n2024-01-03,2\n")
        store.import_csv(f)
    first, second = [s for s in store.available() if s in ("ONE", "TWO")]
    store._file_of(first).write_bytes(b"\x00\x00")
    rows = {r.id: r for r in store.status()}
    assert rows[first].rows == 0 and "corrupt" in rows[first].note
    assert (rows[second].rows, rows[second].last) == (2, date(2024, 1, 3))


def test_a_stored_file_names_its_series_and_its_time_is_utc(store, monkeypatch):
    import time
    from datetime import datetime, timezone

    monkeypatch.setenv("TZ", "Asia/Tokyo")     # 9 hours ahead of UTC
    time.tzset()
    try:
        store._write("IWM", store.series("IWM").iloc[:5], "yahoo")
        entry = store._meta()["IWM"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    header = store._file_of("IWM").read_text().splitlines()[0]
    assert header.split(",")[1] == "IWM"
    stamp = datetime.strptime(entry["updated"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 120


def test_a_stale_file_that_cannot_be_removed_does_not_stop_a_write(store, monkeypatch):
    """Sweeping old versions is housekeeping: a file another program holds open (Windows)
    stays for the next sweep, and the new version is stored."""
    from pathlib import Path

    s = store.series("IWM")
    store._write("IWM", s.iloc[:5], "yahoo")
    first = store._file_of("IWM")
    real = Path.unlink

    def held(self, *a, **k):
        if self.name == first.name:
            raise PermissionError(13, "in use")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "unlink", held)
    store._write("IWM", s.iloc[:6], "yahoo")
    assert store.series("IWM").size == 6 and first.exists()
    monkeypatch.undo()
    store._write("IWM", s.iloc[:7], "yahoo")
    assert not first.exists()


def test_a_stored_file_dated_1970_is_still_read(store):
    """A file whose modification time is the epoch (unpacked from an archive that keeps no
    times) is a stored file like any other, not a missing one."""
    import os

    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    os.utime(store._file_of("SPY"), ns=(0, 0))
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh.source("SPY") == "yahoo" and fresh.series("SPY").size == 8412 - 5


def test_a_corrupt_users_file_dated_1970_is_corrupt_not_unknown(store, tmp_path):
    """An imported file that is damaged and has the epoch as its time is still the user's
    series, reported as corrupt, not as a name nobody stored."""
    import os

    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    store.import_csv(f)
    store._file_of("MINE").write_bytes(b"\x00\x00")
    os.utime(store._file_of("MINE"), ns=(0, 0))
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    with pytest.raises(store_mod.DataError, match="stored data for MINE is corrupt"):
        fresh.series("MINE")


def test_the_manifest_lists_series_in_a_stable_order(store):
    """The same data written in another order gives the same manifest keys, sorted."""
    import json

    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    store._write("IWM", store.series("IWM").iloc[:-5], "yahoo")
    keys = list(json.loads((store.cache_dir / "meta.json").read_text()))
    assert keys == sorted(keys) and {"SPY", "IWM"} <= set(keys)


def test_an_abandoned_download_cannot_keep_the_program_alive():
    """A download that never answers is given up after its time-out; its thread is a daemon,
    so the command still exits."""
    import threading

    from xlsmallcap.data.errors import LiveDataError

    release = threading.Event()
    with pytest.raises(LiveDataError, match=r"^IWM: no answer within 0 s \(timed out\)$"):
        store_mod._within(0.2, "IWM", release.wait)
    stuck = [t for t in threading.enumerate() if t.name == "xlsmallcap IWM"]
    try:
        assert stuck and all(t.daemon for t in stuck)
    finally:
        release.set()


def test_fama_french_update_says_how_it_is_updated(store):
    result = store.update(series=["FF_SMB"])
    assert result.failed["FF_SMB"] == ("FF_SMB: no live source (Fama-French data is updated "
                                       "by rebuilding the snapshot)")


def test_splice_without_a_common_day_says_so():
    from xlsmallcap.data.splice import splice

    old = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-07-15", "2024-07-16"]))
    new = pd.Series([3.0], index=pd.to_datetime(["2024-07-17"]))
    with pytest.raises(ValueError, match="^no overlapping date to splice on$"):
        splice(old, new)


def test_without_the_environment_variable_the_cache_is_the_users_cache_folder(monkeypatch):
    import platformdirs

    monkeypatch.delenv(store_mod.CACHE_ENV, raising=False)
    assert store_mod.default_cache_dir() == Path(
        platformdirs.user_cache_dir("xlsmallcap", appauthor=False))
    monkeypatch.setenv(store_mod.CACHE_ENV, "/somewhere/else")
    assert str(store_mod.default_cache_dir()) == "/somewhere/else"


def test_a_cache_folder_that_cannot_be_made_is_named_with_the_fix(tmp_path):
    from xlsmallcap.data.errors import DataError

    (tmp_path / "file").write_text("not a folder")
    st = store_mod.DataStore(cache_dir=tmp_path / "file" / "cache")
    with pytest.raises(DataError, match=r"^cannot use the cache folder .*file/cache \(.*\); "
                                        r"set XLSMALLCAP_CACHE_DIR to a writable folder$"):
        st.remove("MYIDX")


def test_a_busy_lock_is_waited_for_said_and_given_up(store, monkeypatch):
    """In-process twin of the test with a second process: the wait is announced once and ends
    in a message naming the lock."""
    from filelock import FileLock

    from xlsmallcap.data.errors import DataError

    monkeypatch.setattr(store_mod, "LOCK_WAIT", 0.7)
    store.cache_dir.mkdir(parents=True, exist_ok=True)
    holder = FileLock(str(store.cache_dir / ".lock"))
    holder.acquire()
    waited = []
    store.on_lock_wait = lambda: waited.append(True)
    try:
        with pytest.raises(DataError, match=r"^another xlsmallcap process has been writing the "
                                            r"data for 1 s \(.*\.lock\); try again when"):
            store.remove("MYIDX")
    finally:
        holder.release()
    assert waited == [True]
    with pytest.raises(DataError, match="^MYIDX: nothing stored to remove$"):
        store.remove("MYIDX")   # the lock is free again


def test_remove_a_users_series_and_a_stored_built_in_one(store, tmp_path):
    from xlsmallcap.data.errors import DataError

    f = tmp_path / "mine.csv"
    f.write_text("date,MYIDX\n2024-07-10,100.5\n2024-07-11,101\n")
    assert store.import_csv(f) == ["MYIDX"]
    assert store.remove("myidx") == "removed MYIDX"
    assert "MYIDX" not in store.available()
    with pytest.raises(DataError, match="^MYIDX: nothing stored to remove$"):
        store.remove("MYIDX")
    with pytest.raises(DataError, match=r"^SPY: nothing stored to remove \(the built-in series "
                                        r"is in use\)$"):
        store.remove("SPY")
    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    assert store.remove("SPY") == ("removed your SPY; the built-in SPY (embedded snapshot) is "
                                   "used again")
    assert store.source("SPY") == "snapshot" and store.series("SPY").size == 8412
    assert not list((store.cache_dir / "series").glob("SPY*"))   # no file left behind


def test_an_update_past_its_deadline_skips_what_it_has_not_reached(store, monkeypatch):
    monkeypatch.setattr(store_mod, "UPDATE_DEADLINE", 0.0)
    install_fake_yahoo(monkeypatch, {"IWM": store.series("IWM")})
    result = store.update(tickers=["IWM", "SPY"])
    assert result.failed == {"IWM": "IWM: skipped (the update ran past 0 s)",
                             "SPY": "SPY: skipped (the update ran past 0 s)"}
    assert not result.updated and store.source("IWM") == "snapshot"


def test_a_manifest_that_cannot_be_written_leaves_every_series_as_it_was(store, monkeypatch):
    """Each answer is good and its file staged, but the manifest write fails: nothing changes
    and every staged series says why."""
    real = store_mod.write_bytes_atomic

    def refuse_manifest(path, data):
        if path.name == "meta.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, data)

    monkeypatch.setattr(store_mod, "write_bytes_atomic", refuse_manifest)
    spy = store.series("SPY")
    install_fake_yahoo(monkeypatch, {"SPY": spy, "IWM": store.series("IWM")})
    result = store.update(tickers=["SPY", "IWM"], full=True)
    assert not result.updated
    assert result.failed == {s: f"{s}: could not write the cache (Permission denied)"
                             for s in ("SPY", "IWM")}
    assert store.source("SPY") == "snapshot" and store.series("SPY").equals(spy)


def test_a_stored_file_without_rows_falls_back_and_is_reported(store):
    import json

    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    meta_path = store.cache_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["SPY"].pop("sha256")
    meta_path.write_text(json.dumps(meta))
    store._file_of("SPY").write_text("date,SPY\n")
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh.series("SPY").size == 8412 and fresh.source("SPY") == "snapshot"
    assert fresh.problems["SPY"].endswith("is corrupt (no rows); using the snapshot; "
                                          "`xlsmallcap data update` rebuilds it")


def test_a_manifest_that_is_not_an_object_is_rebuilt_from_the_files(store):
    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    (store.cache_dir / "meta.json").write_text("[1, 2]")
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh.series("SPY").size == 8412 - 5 and fresh.source("SPY") == "cache"
    assert fresh.meta_problem.endswith("meta.json is unreadable (not a JSON object); rebuilt "
                                       "from the stored files")


def test_the_rebuilt_manifest_skips_damaged_versions_and_stray_names(store):
    """Without a manifest the newest file whose content matches the checksum in its name is
    chosen; a damaged newer one and files with names no series can have are skipped."""
    import os

    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    good = store._file_of("SPY")
    (store.cache_dir / "meta.json").unlink()
    damaged = good.with_name("SPY.0123456789abcdef.csv")
    damaged.write_bytes(good.read_bytes().replace(b"\n2", b"\n1", 1))
    os.utime(damaged, (good.stat().st_mtime + 60,) * 2)
    (good.parent / "not a name!.csv").write_text("date,X\n2024-07-16,1\n")
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh._file_of("SPY") == good and fresh.series("SPY").size == 8412 - 5
    assert "NOT A NAME!" not in fresh.available() and "not a name!" not in fresh.available()


def test_a_missing_cache_is_looked_for_again_once_a_second(tmp_path, monkeypatch):
    """Without a cache the data version costs no file-system call more than once a second;
    from one second on, a cache another process has written is seen."""
    clock = [100.0]
    monkeypatch.setattr(store_mod.time, "monotonic", lambda: clock[0])
    st = store_mod.DataStore(cache_dir=tmp_path / "cache")
    assert st.version()[1] == -1
    meta = Path(st._meta_path)
    meta.parent.mkdir(parents=True)
    meta.write_text("{}")
    clock[0] = 100.999
    assert st.version()[1] == -1
    clock[0] = 101.0
    assert st.version()[1] == meta.stat().st_mtime_ns


def test_the_rebuilt_manifest_takes_the_newest_version_and_never_the_legacy_file(store):
    """Two good versions of a series (a sweep that did not finish) and a first-release
    `SPY.csv` newer than both: the newer version is chosen, whatever order the folder lists
    them in; the legacy file only when no version is left."""
    import os

    s = store.series("SPY")
    store._write("SPY", s.iloc[:-5], "yahoo")
    first = store._file_of("SPY")
    kept = first.read_bytes()
    store._write("SPY", s.iloc[:-3], "yahoo")
    second = store._file_of("SPY")
    first.write_bytes(kept)                              # the old version is back
    legacy = first.with_name("SPY.csv")
    legacy.write_bytes(kept)
    (store.cache_dir / "meta.json").unlink()
    listed = [p for p in first.parent.glob("*.csv") if p in (first, second)]
    newer, older = listed                                # the later one listed is the older one
    now = second.stat().st_mtime
    os.utime(older, (now - 60,) * 2)
    os.utime(newer, (now,) * 2)
    os.utime(legacy, (now + 60,) * 2)
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh._file_of("SPY") == newer
    first.unlink()
    second.unlink()
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh._file_of("SPY") == legacy and fresh.series("SPY").size == 8412 - 5


def test_an_unreadable_manifest_is_noted_on_cached_series_only(store):
    """A damaged meta.json is rebuilt from the files; the status says so beside each series
    read from the cache, not beside series that come from the embedded snapshot."""
    store._write("SPY", store.series("SPY").iloc[:-5], "yahoo")
    (store.cache_dir / "meta.json").write_text("{not json")
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    rows = {r.id: r for r in fresh.status()}
    assert fresh.meta_problem and rows["SPY"].note == fresh.meta_problem
    assert rows["IWM"].source == "snapshot" and rows["IWM"].note == ""


def test_a_cached_series_keeps_the_rule_it_was_stored_with(store):
    """The rule beside a cached copy is the one used, even where the catalog's differs."""
    import json

    store._write("WRMFNS", store.series("WRMFNS").iloc[:-2], "fred")
    meta = json.loads((store.cache_dir / "meta.json").read_text())
    meta["WRMFNS"]["publication"] = "close"
    (store.cache_dir / "meta.json").write_text(json.dumps(meta))
    fresh = store_mod.DataStore(cache_dir=store.cache_dir)
    assert fresh.publication_rule("WRMFNS") == "close"
    assert store_mod.DataStore(cache_dir=store.cache_dir / "other").publication_rule(
        "WRMFNS") == "h6_weekly"
