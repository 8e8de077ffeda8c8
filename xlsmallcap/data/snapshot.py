"""The embedded snapshot: built from ``shared/data/raw/`` and shipped inside the package.

``build_snapshot(raw_dir, out_dir)`` is the reproducible command behind
``xlsmallcap data build-snapshot``: same raw files in, same bytes out (no timestamps anywhere).
``load_group`` reads one group back; the data store is its only caller at run time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from xlsmallcap.data.atomic import write_bytes_atomic
from xlsmallcap.data.catalog import CATALOG, GROUPS, SeriesInfo
from xlsmallcap.data.csvio import csv_to_frame, frame_to_csv, gzip_bytes
from xlsmallcap.data.publication import RULE_TEXT
from xlsmallcap.data.raw import read_raw

MANIFEST = "manifest.json"
ATTRIBUTION = "ATTRIBUTION.md"


def snapshot_dir() -> Path:
    """The folder of the installed snapshot (package data)."""
    return Path(str(resources.files("xlsmallcap") / "_snapshot"))


def group_file(group: str) -> str:
    return f"{group}.csv.gz"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _coverage(s: pd.Series) -> dict[str, object]:
    return {"first": s.index[0].strftime("%Y-%m-%d"), "last": s.index[-1].strftime("%Y-%m-%d"),
            "rows": int(s.size)}


def build_frames(raw_dir: Path, catalog: Iterable[SeriesInfo] = CATALOG
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, object]]]:
    """Read every catalog series from ``raw_dir``; return frames per group and the manifest."""
    series: dict[str, list[pd.Series]] = {}
    manifest: dict[str, dict[str, object]] = {}
    for info in catalog:
        s = read_raw(raw_dir, info)
        if s.empty:
            raise ValueError(f"{info.raw}: no rows for {info.id}")
        series.setdefault(info.group, []).append(s)
        manifest[info.id] = {
            "description": info.description, "kind": info.kind, "units": info.units,
            "frequency": info.frequency, "group": info.group, "raw_file": info.raw,
            "raw_column": info.raw_column, "raw_sha256": _sha256(Path(raw_dir) / info.raw),
            "attribution": info.attribution, "publication": info.publication,
            **_coverage(s),
        }
    frames = {g: pd.concat(v, axis=1, sort=True) for g, v in series.items()}
    return frames, manifest


def _attribution_text(manifest: dict[str, dict[str, object]]) -> str:
    lines = [
        "# xlsmallcap embedded data: attribution and coverage",
        "",
        "Built by `xlsmallcap data build-snapshot` from byte-identical copies of public files",
        "(see shared/data/raw/*/PROVENANCE.md in the project). Values are unchanged; the only",
        "edit is dropping the intraday 2026-07-14 row of the `prices/extended/` download.",
        "",
        "Sources:",
        "- Prices and yields: Yahoo Finance, downloaded with yfinance (adjusted closes).",
        "  Yahoo's terms limit redistribution of its data.",
        "- Rates and money-market fund assets: FRED, Federal Reserve Bank of St. Louis;",
        "  H.6, H.15 and Z.1 data of the Board of Governors of the Federal Reserve System.",
        "- Fama-French factors and size portfolios: Kenneth R. French Data Library,",
        "  (c) Eugene F. Fama and Kenneth R. French.",
        "",
        "Each observation is used only from the day it was published (column 'published';",
        "the rules are in xlsmallcap/data/publication.py and docs/methodology.md).",
        "",
        "| series | description | units | frequency | first | last | rows | published | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for sid, m in manifest.items():
        lines.append(f"| {sid} | {m['description']} | {m['units']} | {m['frequency']} | "
                     f"{m['first']} | {m['last']} | {m['rows']} | "
                     f"{RULE_TEXT[str(m['publication'])]} | {m['attribution']} |")
    return "\n".join(lines) + "\n"


def snapshot_files(raw_dir: Path) -> dict[str, bytes]:
    """Every file of the snapshot, name -> bytes (deterministic)."""
    frames, manifest = build_frames(raw_dir)
    files = {group_file(g): gzip_bytes(frame_to_csv(df)) for g, df in frames.items()}
    files[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    files[ATTRIBUTION] = _attribution_text(manifest).encode()
    return files


def build_snapshot(raw_dir: Path, out_dir: Path | None = None) -> dict[str, int]:
    """Write the snapshot into ``out_dir`` (default: the package's own folder).

    Returns the size in bytes of each file written.
    """
    out = Path(out_dir) if out_dir is not None else snapshot_dir()
    sizes = {}
    for name, data in snapshot_files(Path(raw_dir)).items():
        write_bytes_atomic(out / name, data)
        sizes[name] = len(data)
    return sizes


def load_manifest(folder: Path | None = None) -> dict[str, dict[str, object]]:
    return json.loads(((folder or snapshot_dir()) / MANIFEST).read_text())


def load_group(group: str, folder: Path | None = None) -> pd.DataFrame:
    """One snapshot group as a date-indexed float frame (NaN where a series has no row)."""
    if group not in GROUPS:
        raise KeyError(group)
    path = (folder or snapshot_dir()) / group_file(group)
    import gzip

    return csv_to_frame(gzip.decompress(path.read_bytes()))
