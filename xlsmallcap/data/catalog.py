"""The catalog: every series the package knows offline, where it comes from and what it means.

This module only describes series; it reads nothing. The snapshot builder, the data store and the
CLI all take their list of series from here, so a series is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeriesInfo:
    """One series of the catalog.

    ``id`` is the name users type (a ticker such as ``IWM`` or ``^IRX``, or a FRED series id).
    ``group`` names the snapshot file that holds it. ``raw`` is the file under
    ``shared/data/raw/`` it is built from and ``raw_column`` the column there. ``live`` is the
    live source (``"yahoo"``, ``"fred"`` or ``None`` for snapshot-only data) and ``symbol`` the
    identifier that source uses.
    """

    id: str
    description: str
    kind: str
    units: str
    frequency: str
    group: str
    raw: str
    raw_column: str
    live: str | None
    symbol: str
    attribution: str
    #: When each observation became public (see :mod:`xlsmallcap.data.publication`).
    publication: str = "close"


YAHOO = "Yahoo Finance via yfinance (adjusted closes, auto_adjust=True)"
FRED = ("FRED, Federal Reserve Bank of St. Louis; underlying data Board of Governors of the "
        "Federal Reserve System")
FRB = "Board of Governors of the Federal Reserve System, H.6 release (Data Download Program)"
FRENCH = "Kenneth R. French Data Library (c) Eugene F. Fama and Kenneth R. French"

_TOP_LEVEL = {
    "IWM": "iShares Russell 2000 ETF (small caps)",
    "SPY": "SPDR S&P 500 ETF (large caps)",
    "QQQ": "Invesco QQQ, Nasdaq-100 (large-cap growth)",
    "DIA": "SPDR Dow Jones Industrial Average ETF",
    "RSP": "Invesco S&P 500 Equal Weight ETF",
}
_EXTENDED = {
    "IWB": "iShares Russell 1000 ETF",
    "IJR": "iShares Core S&P Small-Cap ETF",
    "MDY": "SPDR S&P MidCap 400 ETF",
    "IWN": "iShares Russell 2000 Value ETF",
    "IWO": "iShares Russell 2000 Growth ETF",
    "IWD": "iShares Russell 1000 Value ETF",
    "IWF": "iShares Russell 1000 Growth ETF",
}
_ME_COLUMNS = ["Lo 10", *(f"{i}-Dec" for i in range(2, 10)), "Hi 10"]


def _me_id(column: str) -> str:
    if column == "Lo 10":
        return "FF_ME_LO10"
    if column == "Hi 10":
        return "FF_ME_HI10"
    return f"FF_ME_D{int(column.split('-')[0]):02d}"


def _build() -> tuple[SeriesInfo, ...]:
    out: list[SeriesInfo] = []
    for t, d in _TOP_LEVEL.items():
        out.append(SeriesInfo(t, d, "price", "USD, adjusted close", "daily", "prices",
                              f"prices/{t}.csv", "c", "yahoo", t, YAHOO))
    for t, d in _EXTENDED.items():
        out.append(SeriesInfo(t, d, "price", "USD, adjusted close", "daily", "prices",
                              f"prices/extended/{t}.csv", "Close", "yahoo", t, YAHOO))
    out.append(SeriesInfo("^IRX", "13-week T-bill discount yield", "yield", "percent", "daily",
                          "rates", "prices/extended/IRX.csv", "Close", "yahoo", "^IRX", YAHOO))
    out.append(SeriesInfo("^TNX", "10-year Treasury yield", "yield", "percent", "daily",
                          "rates", "prices/extended/TNX.csv", "Close", "yahoo", "^TNX", YAHOO))
    for sid, d, f in [
        ("DFF", "Effective federal funds rate", "daily (calendar days)"),
        ("DGS2", "2-year Treasury constant-maturity yield", "daily"),
        ("DGS3MO", "3-month Treasury constant-maturity yield", "daily"),
    ]:
        out.append(SeriesInfo(sid, d, "rate", "percent p.a.", f, "rates",
                              f"macro/{sid}.csv", "value", "fred", sid, FRED,
                              "next_business_day"))
    out.append(SeriesInfo("WRMFNS", "Retail money market funds, weekly, NSA (H.6)", "mmf",
                          "billions of USD", "weekly (week ending Monday)", "mmf",
                          "macro/WRMFNS.csv", "WRMFNS", "fred", "WRMFNS", FRED, "h6_weekly"))
    out.append(SeriesInfo("RMFNS", "Retail money market funds, monthly, NSA (H.6 MMFGB_N.M)",
                          "mmf", "billions of USD", "monthly", "mmf",
                          "macro/FRB_H6.csv", "MMFGB_N.M", "fred", "RMFNS", FRB, "h6_monthly"))
    out.append(SeriesInfo("MMMFFAQ027S", "Money market funds, total financial assets (Z.1)",
                          "mmf", "millions of USD", "quarterly", "mmf",
                          "macro/MMMFFAQ027S.csv", "MMMFFAQ027S", "fred", "MMMFFAQ027S", FRED,
                          "z1_quarterly"))
    for col, sid, d in [
        ("Mkt-RF", "FF_MKT_RF", "Fama-French market excess return"),
        ("SMB", "FF_SMB", "Fama-French small-minus-big (3-factor)"),
        ("HML", "FF_HML", "Fama-French high-minus-low"),
        ("RF", "FF_RF", "Fama-French risk-free (1-month T-bill) return"),
    ]:
        out.append(SeriesInfo(sid, d, "factor", "percent per day", "daily", "french",
                              "macro/F-F_Research_Data_Factors_daily.csv", col, None, sid, FRENCH,
                              "french_monthly"))
    for col in _ME_COLUMNS:
        out.append(SeriesInfo(_me_id(col), f"Size decile portfolio '{col}', value-weighted",
                              "factor", "percent per day", "daily", "french",
                              "macro/Portfolios_Formed_on_ME_Daily.csv", col, None,
                              _me_id(col), FRENCH, "french_monthly"))
    return tuple(out)


def tables() -> dict[str, Any]:
    """The catalog, by id, and its groups in order: the module's ``CATALOG``, ``BY_ID`` and
    ``GROUPS``, built afresh (the tests rebuild them under mutmut)."""
    catalog = _build()
    return {"CATALOG": catalog, "BY_ID": {s.id: s for s in catalog},
            "GROUPS": tuple(dict.fromkeys(s.group for s in catalog))}


_TABLES = tables()
CATALOG: tuple[SeriesInfo, ...] = _TABLES["CATALOG"]
BY_ID: dict[str, SeriesInfo] = _TABLES["BY_ID"]
GROUPS: tuple[str, ...] = _TABLES["GROUPS"]


def normalize_id(name: str) -> str:
    """Upper-case, strip, and accept yields without their caret (``irx`` -> ``^IRX``)."""
    key = str(name).strip().upper()
    if key in BY_ID:
        return key
    if f"^{key}" in BY_ID:
        return f"^{key}"
    return key
