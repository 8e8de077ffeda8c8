"""Point in time: a figure as of D uses only what was published by D, for every kind of series."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from xlsmallcap import api
from xlsmallcap.data.publication import publication_dates
from xlsmallcap.data.store import DataStore

D = pd.Timestamp("2024-07-16")


@pytest.mark.parametrize("rule, observed, published", [
    ("close", "2024-07-16", "2024-07-16"),
    ("next_business_day", "2024-07-12", "2024-07-15"),    # a Friday: out on Monday
    ("next_business_day", "2024-07-15", "2024-07-16"),
    ("h6_weekly", "2019-06-03", "2019-06-13"),            # weekly H.6: the 2nd Thursday after
    ("h6_weekly", "2021-02-01", "2021-02-11"),            # the last weekly release
    ("h6_weekly", "2021-02-08", "2021-02-23"),            # the first monthly release
    ("h6_weekly", "2021-02-15", "2021-03-23"),
    ("h6_weekly", "2024-06-10", "2024-06-25"),
    ("h6_weekly", "2024-07-15", "2024-08-27"),            # "about six weeks later"
    ("h6_weekly", "2025-03-10", "2025-03-25"),
    ("h6_monthly", "1974-06-01", "1974-07-23"),
    ("h6_monthly", "2024-06-01", "2024-07-23"),
    ("z1_quarterly", "2020-07-01", "2020-12-31"),
    ("french_monthly", "2024-05-31", "2024-06-30"),
    ("french_monthly", "2024-07-11", "2024-08-31"),       # the CPI surge: public in late August
])
def test_publication_rules_on_dated_examples(rule, observed, published):
    got = publication_dates(rule, pd.DatetimeIndex([observed]))[0]
    assert got == pd.Timestamp(published)


@pytest.mark.parametrize("rule", ["close", "next_business_day", "h6_weekly", "h6_monthly",
                                  "z1_quarterly", "french_monthly"])
def test_publication_dates_never_go_back(rule):
    days = pd.date_range("1985-01-07", "2026-07-01", freq="W-MON")
    pub = publication_dates(rule, days)
    assert (pub >= days).all() and pub.is_monotonic_increasing


@pytest.fixture
def embedded(tmp_path):
    return DataStore(cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("series, last", [
    ("IWM", "2024-07-16"),          # price: same day
    ("DFF", "2024-07-15"),          # rate: next business day
    ("DGS2", "2024-07-15"),
    ("WRMFNS", "2024-06-10"),       # money funds: the H.6 release of 2024-06-25
    ("RMFNS", "2024-05-01"),        # June's monthly figure came out on 2024-07-23
    ("FF_SMB", "2024-05-31"),       # factor: June's data came out at the end of July
    ("FF_ME_LO10", "2024-05-31"),
])
def test_public_as_of_the_july_2024_surge(embedded, series, last):
    s = embedded.public(series, D)
    assert s.index[-1] == pd.Timestamp(last)
    assert embedded.published(series).loc[s.index[-1]] <= D
    later = embedded.series(series).loc[s.index[-1]:].iloc[1:2]
    assert later.empty or embedded.published(series).loc[later.index[0]] > D


def test_rules_travel_with_the_data(embedded, tmp_path):
    assert embedded.publication_rule("WRMFNS") == "h6_weekly"   # from the snapshot manifest
    path = tmp_path / "mine.csv"
    path.write_text("date,MYFUND\n2024-07-15,1.0\n2024-07-16,2.0\n")
    embedded.import_csv(path)
    assert embedded.publication_rule("MYFUND") == "close"       # from the cache's meta.json
    assert embedded.public("MYFUND", "2024-07-15").tolist() == [1.0]


@pytest.mark.parametrize("manifest", [{}, {"WRMFNS": {"source": "fred"}},
                                      {"WRMFNS": {"source": "fred", "publication": "h6_v9"}}],
                         ids=["series not listed", "listed without a rule", "an unknown rule"])
def test_a_cache_from_the_first_release_is_still_point_in_time(tmp_path, manifest):
    """The first release kept ``series/<id>.csv`` and a manifest without publication rules: the
    rule then comes from the catalog (the H.6 lag for money funds), never "same day". So does a
    rule this version does not know (a cache written by a newer one)."""
    cache = tmp_path / "old"
    (cache / "series").mkdir(parents=True)
    (cache / "series" / "WRMFNS.csv").write_text(
        "date,WRMFNS\n2024-06-03,1000.0\n2024-06-10,1001.0\n2024-06-17,1002.0\n")
    (cache / "meta.json").write_text(json.dumps(manifest))
    st = DataStore(cache_dir=cache)
    assert st.publication_rule("WRMFNS") == "h6_weekly"
    assert [d.strftime("%Y-%m-%d") for d in st.published("WRMFNS")] == \
        ["2024-06-25", "2024-06-25", "2024-07-23"]
    assert st.public("WRMFNS", D).tolist() == [1000.0, 1001.0]
    # where it came from: as the manifest says, else "cache" (a copy the user keeps)
    assert st.source("WRMFNS") == manifest.get("WRMFNS", {}).get("source", "cache")


def test_publication_dates_are_worked_out_once_per_stored_version(tmp_path):
    st = DataStore(cache_dir=tmp_path / "cache")
    first = st.published("IWM")
    assert st.published("iwm") is first          # the same data: nothing worked out again
    path = tmp_path / "iwm.csv"
    path.write_text("date,IWM\n2024-07-15,1.0\n2024-07-16,2.0\n")
    st.import_csv(path, replace=True)            # a new version: its own dates
    again = st.published("IWM")
    assert again is not first and again.index[-1] == pd.Timestamp("2024-07-16")


class _Poisoned(DataStore):
    """A store whose observations published after D are absurd: any figure as of D that
    reads one of them changes."""

    def series(self, name, start=None, end=None):
        s = super().series(name, start, end)
        late = self.published(name).reindex(s.index) > D
        return s.where(~late, s * 1000.0 + 1.0)


def _figures(store):
    c = api.cash(D, store=store)
    b = api.base(D, store=store)
    r = api.rate_sens(as_of=D, store=store)
    rep = api.report(D, store=store)
    e = rep.easing[-1]
    return [c.value, c.flow_bn, c.retained, b.share, b.similar_share, b.current_surge,
            b.unconditional, *(x.per_cut for x in r), *(x.se for x in r),
            rep.rotation.score, rep.rotation.funding, rep.rotation.p_value, rep.cash.value,
            rep.flows13[0], e.now_pct, e.percentile, rep.election.ratio, rep.election.p_value,
            *(f.slope for f in rep.claim.values()), *(f.se for f in rep.claim.values()),
            *(v for row in rep.rel.values() for v in row.values())]


def test_no_figure_as_of_d_reads_what_came_out_later(tmp_path):
    clean = _figures(DataStore(cache_dir=tmp_path / "a"))
    poisoned = _figures(_Poisoned(cache_dir=tmp_path / "b"))
    assert len(clean) == len(poisoned)
    for a, b in zip(clean, poisoned, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == b


def test_the_embedded_rule_is_read_from_the_snapshot_beside_the_data(tmp_path):
    """A snapshot carries each series' rule in its manifest; a snapshot built under another rule
    (an older package, a rebuilt one) is read with its own rule, not today's default."""
    import json
    import shutil

    from xlsmallcap.data.snapshot import MANIFEST, snapshot_dir
    from xlsmallcap.data.store import DataStore

    folder = tmp_path / "snapshot"
    shutil.copytree(snapshot_dir(), folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["FF_SMB"]["publication"] = "close"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    other = DataStore(cache_dir=tmp_path / "cache", snapshot_folder=folder)
    assert other.publication_rule("FF_SMB") == "close"
    assert DataStore(cache_dir=tmp_path / "cache").publication_rule("FF_SMB") == "french_monthly"
