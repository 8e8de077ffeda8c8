"""The data store: the one entry point through which the package reads market data.

Ask for a series by name (ticker or series id) and get a date-indexed float Series. Where the
data comes from, in order:

1. the user's cache folder (``platformdirs.user_cache_dir("xlsmallcap")``, or the folder in
   ``XLSMALLCAP_CACHE_DIR``), written by ``update`` (live Yahoo Finance / FRED data) and
   ``import_csv`` (a user's own files);
2. the embedded snapshot shipped inside the package.

Results are memoised in-process (Excel recalculates often) and re-read when another process
rewrites a cache file. Writes are atomic and serialised by a lock file, and a failed download
never touches stored data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd

from xlsmallcap.data.atomic import write_bytes_atomic
from xlsmallcap.data.catalog import BY_ID, CATALOG, normalize_id
from xlsmallcap.data.csvio import csv_to_frame, frame_to_csv
from xlsmallcap.data.errors import DataError, LiveDataError, UnknownSeriesError
from xlsmallcap.data.netfail import plain_reason
from xlsmallcap.data.publication import RULES, publication_dates
from xlsmallcap.data.snapshot import load_group, load_manifest, snapshot_dir
from xlsmallcap.data.splice import splice
from xlsmallcap.data.validate import (
    RefusedDownload,
    check_covers,
    check_series,
    check_splice,
)

CACHE_ENV = "XLSMALLCAP_CACHE_DIR"
#: Seconds to wait for another process holding the cache lock before saying so.
LOCK_WAIT = 30.0
#: A whole update gives up on the series it has not reached after this many seconds.
UPDATE_DEADLINE = 60.0
#: One series' download is abandoned after this many seconds, however the network behaves
#: (a host that accepts and never answers, an answer trickling in).
SERIES_TIMEOUT = 30.0


def _within(seconds: float, what: str, fn: Callable[[], object]) -> object:
    """``fn()`` in a daemon thread, waited for at most ``seconds``; Ctrl-C interrupts the wait
    at once (the main thread never blocks in a network call) and an abandoned download can
    never write anything (only this thread commits)."""
    import threading

    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name=f"xlsmallcap {what}")
    worker.start()
    deadline = time.monotonic() + seconds
    while worker.is_alive() and time.monotonic() < deadline:
        worker.join(0.1)
    if worker.is_alive():
        raise LiveDataError(f"{what}: no answer within {seconds:.0f} s (timed out)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]
#: Days of overlap asked for on an incremental Yahoo update, so the splice has a common date.
OVERLAP_DAYS = 10
_NAME_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=_]{0,19}$")
#: A versioned series file: ``<id>.<first 16 hex digits of its sha256>.csv``.
_VERSIONED = re.compile(r"^(\^?[A-Z0-9][A-Z0-9.\-=_]{0,19})\.([0-9a-f]{16})\.csv$")

Progress = Callable[[str], None]


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("xlsmallcap", appauthor=False))


def default_rule(sid: str) -> str:
    """The publication rule of a series the catalog knows; a user's own data is public on the
    dates it carries (``close``)."""
    return BY_ID[sid].publication if sid in BY_ID else "close"


def check_name(name: str) -> str:
    """Normalise a user-typed ticker/series id, rejecting anything that is not one."""
    key = normalize_id(name)
    if not _NAME_RE.fullmatch(key):
        raise DataError(f"'{name}' is not a ticker or series id (letters, digits, ^ . - = _)")
    return key


@dataclass(frozen=True)
class SeriesStatus:
    id: str
    description: str
    source: str
    first: date | None
    last: date | None
    rows: int
    stale_days: int | None
    note: str = ""


@dataclass
class UpdateResult:
    updated: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


class DataStore:
    """Series by name from the cache or the embedded snapshot; live updates into the cache."""

    def __init__(self, cache_dir: Path | str | None = None,
                 snapshot_folder: Path | str | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.snapshot_folder = Path(snapshot_folder) if snapshot_folder else snapshot_dir()
        self._groups: dict[str, pd.DataFrame] = {}
        self._memo: dict[str, tuple[int, pd.Series, str]] = {}
        self._published: dict[str, tuple[pd.Series, pd.Series]] = {}
        self._manifest: dict[str, dict[str, object]] | None = None
        self._meta_cache: tuple[int, dict] | None = None
        self.problems: dict[str, str] = {}
        self.meta_problem = ""
        self._generation = 0
        self._meta_path = str(self.cache_dir / "meta.json")  # a str: os.stat is on a hot path
        self._missing_until = 0.0
        #: Called once when the cache lock is busy and this process starts to wait for it.
        self.on_lock_wait: Callable[[], None] | None = None

    # ----------------------------------------------------------------- paths and metadata
    @property
    def _series_dir(self) -> Path:
        return self.cache_dir / "series"

    def _cache_file(self, sid: str) -> Path:
        """Where a series was stored before versioned files (still read)."""
        return self._series_dir / f"{sid}.csv"

    def _meta(self) -> dict[str, dict[str, str]]:
        """The manifest (meta.json): per series its current file, checksum, source and
        publication rule. Replaced atomically as the last step of every write, so a reader
        sees one whole generation. Parsed once per change (keyed on its mtime) and shared:
        callers read it and never change it. Unreadable: rebuilt in memory from the files
        themselves (see :meth:`_scan`)."""
        path = self.cache_dir / "meta.json"
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = -1
        if self._meta_cache is not None and self._meta_cache[0] == mtime:
            return self._meta_cache[1]
        try:
            meta = json.loads(path.read_text())
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
            self.meta_problem = ""
        except FileNotFoundError:
            meta = self._scan() if self._series_dir.is_dir() else {}
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.meta_problem = (f"{path} is unreadable ({exc}); rebuilt from the stored "
                                 "files")
            meta = self._scan()
        self._meta_cache = (mtime, meta)
        return meta

    def _scan(self) -> dict[str, dict[str, str]]:
        """A manifest rebuilt from the files: for each series its newest versioned file whose
        content matches the checksum in its name (a legacy ``<id>.csv`` otherwise)."""
        # a versioned file beats the legacy one; among versions the newest wins
        found: dict[str, tuple[tuple[bool, float], dict[str, str]]] = {}
        for p in sorted(self._series_dir.glob("*.csv")):   # the same manifest on any disk
            m = _VERSIONED.fullmatch(p.name)
            sid = m.group(1) if m else p.stem
            if not _NAME_RE.fullmatch(sid):
                continue
            try:
                data = p.read_bytes()
                mtime = p.stat().st_mtime
            except OSError:
                continue
            digest = hashlib.sha256(data).hexdigest()
            if m and not digest.startswith(m.group(2)):
                continue  # a damaged version: never chosen
            entry = {"file": p.name, "sha256": digest, "source": "cache",
                     "publication": default_rule(sid)}
            rank = (m is not None, mtime)
            if sid not in found or rank > found[sid][0]:
                found[sid] = (rank, entry)
        return {sid: e for sid, (_, e) in found.items()}

    def _file_of(self, sid: str, meta: dict | None = None) -> Path | None:
        """The current stored file of ``sid``, or None."""
        entry = (self._meta() if meta is None else meta).get(sid)
        if entry and entry.get("file"):
            return self._series_dir / entry["file"]
        legacy = self._cache_file(sid)
        return legacy if legacy.exists() else None

    def _lock(self):
        from filelock import FileLock

        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot use the cache folder {self.cache_dir} ({exc.strerror}); "
                            f"set {CACHE_ENV} to a writable folder") from None
        return FileLock(str(self.cache_dir / ".lock"), timeout=LOCK_WAIT)

    @contextlib.contextmanager
    def _locked(self):
        """Hold the cache lock; a clear error when another process keeps it past LOCK_WAIT."""
        from filelock import Timeout

        lock = self._lock()
        try:
            try:
                lock.acquire(timeout=0.5)
            except Timeout:
                if self.on_lock_wait is not None:
                    self.on_lock_wait()   # say so: another process is writing the data
                lock.acquire()
        except Timeout:
            raise DataError(f"another xlsmallcap process has been writing the data for "
                            f"{LOCK_WAIT:.0f} s ({self.cache_dir / '.lock'}); try again when "
                            "it has finished") from None
        try:
            yield lock
        finally:
            lock.release()

    # ----------------------------------------------------------------- reading
    def version(self) -> tuple[int, int]:
        """Changes whenever stored data may have changed, in this process or another one
        (every write also rewrites meta.json). Cheap: one stat."""
        now = time.monotonic()
        if self._missing_until > now:  # no cache yet: look again at most once a second
            return self._generation, -1
        try:
            mtime = os.stat(self._meta_path).st_mtime_ns
        except OSError:
            self._missing_until = now + 1.0
            mtime = -1
        return self._generation, mtime

    def cached_ids(self) -> list[str]:
        if not self._series_dir.is_dir():
            return []
        meta = self._meta()
        legacy = {p.stem for p in self._series_dir.glob("*.csv") if _NAME_RE.fullmatch(p.stem)}
        return sorted({sid for sid in meta if _NAME_RE.fullmatch(sid)} | legacy)

    def available(self) -> list[str]:
        """Every name that works offline: the catalog, then anything added to the cache."""
        extra = [s for s in self.cached_ids() if s not in BY_ID]
        return [s.id for s in CATALOG] + extra

    def _snapshot_series(self, sid: str) -> pd.Series:
        info = BY_ID[sid]
        if info.group not in self._groups:
            self._groups[info.group] = load_group(info.group, self.snapshot_folder)
        return self._groups[info.group][sid].dropna()

    def _load(self, sid: str, retries: int = 5) -> tuple[pd.Series, str]:
        meta = self._meta()
        path = self._file_of(sid, meta)
        try:
            mtime = path.stat().st_mtime_ns if path is not None else -1
        except OSError:
            mtime = -1
        key = (path.name if path is not None else "", mtime)
        hit = self._memo.get(sid)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        if path is not None and mtime < 0 and retries:
            # another process committed a newer generation and removed this file: look again
            self._meta_cache = None
            return self._load(sid, retries - 1)
        s: pd.Series | None = None
        source = "snapshot"
        if mtime >= 0:
            try:
                data = path.read_bytes()
                entry = meta.get(sid, {})
                if entry.get("sha256") and hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    raise ValueError("its checksum does not match: truncated or changed "
                                     "outside xlsmallcap")
                df = csv_to_frame(data)
                s = df.iloc[:, 0].dropna()
                if s.empty:
                    raise ValueError("no rows")
                if sid in BY_ID and BY_ID[sid].kind == "price" and (s <= 0).any():
                    raise ValueError("non-positive prices")
                source = entry.get("source", "cache")
                self.problems.pop(sid, None)
            except FileNotFoundError:
                if retries:   # removed by a newer generation after the stat: look again
                    self._meta_cache = None
                    return self._load(sid, retries - 1)
                raise DataError(f"the stored data for {sid} keeps changing while it is read; "
                                "try again") from None
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                fix = ("using the snapshot; `xlsmallcap data update` rebuilds it" if sid in BY_ID
                       else "no other copy; import its file again (`xlsmallcap data import`)")
                self.problems[sid] = f"cache file {path} is corrupt ({exc}); {fix}"
                s = None
        if s is None:
            if sid not in BY_ID:
                if mtime >= 0:
                    # the file and what is wrong with it: in ``problems`` (data status)
                    raise DataError(f"the stored data for {sid} is corrupt; import its file "
                                    "again (xlsmallcap data import)")
                raise UnknownSeriesError(sid, self.available())
            s = self._snapshot_series(sid)
            source = "snapshot"
        s = s.copy()
        s.name = sid
        self._memo[sid] = (key, s, source)
        return s, source

    def series(self, name: str, start: object = None, end: object = None) -> pd.Series:
        """The series ``name`` (ticker or id, case-insensitive) between ``start`` and ``end``.

        The name is checked (letters, digits, ``^ . - = _``, at most 20) before any file path is
        formed from it, so no name can reach outside the cache folder.
        """
        sid = normalize_id(name)
        if sid not in BY_ID and not _NAME_RE.fullmatch(sid):
            raise UnknownSeriesError(str(name).strip()[:20], self.available())
        if sid not in BY_ID and self._file_of(sid) is None:
            raise UnknownSeriesError(str(name).strip(), self.available())
        s, _ = self._load(sid)
        if start is not None or end is not None:
            s = s.loc[pd.Timestamp(start) if start is not None else None:
                      pd.Timestamp(end) if end is not None else None]
        return s

    # ----------------------------------------------------------------- point in time
    def publication_rule(self, name: str) -> str:
        """The series' publication rule, kept beside its data: the cache's meta.json for a
        cached copy, the snapshot manifest for the embedded one. Where neither names a rule this
        version knows (a first-release cache, a newer one), the catalog's rule for the series:
        never "same day" for data published weeks later; ``close`` for a user's own series."""
        sid = normalize_id(name)
        _, source = self._load(sid)
        if source != "snapshot":
            rule = self._meta().get(sid, {}).get("publication")
        else:
            if self._manifest is None:
                self._manifest = load_manifest(self.snapshot_folder)
            rule = self._manifest.get(sid, {}).get("publication")
        return str(rule) if str(rule) in RULES else default_rule(sid)

    def published(self, name: str) -> pd.Series:
        """Per observation (indexed by its date), the date it became public."""
        sid = normalize_id(name)
        s, _ = self._load(sid)
        hit = self._published.get(sid)
        if hit is not None and hit[0] is s:   # the same stored data: the same dates
            return hit[1]
        pub = pd.Series(publication_dates(self.publication_rule(sid), s.index), index=s.index)
        self._published[sid] = (s, pub)
        return pub

    def public(self, name: str, as_of: object = None) -> pd.Series:
        """The series as it was public on ``as_of``: only observations published by then
        (all of them when ``as_of`` is None). Publication dates are monotonic, so this is the
        prefix of the series up to the last observation published on or before ``as_of``."""
        s = self.series(name)
        if as_of is None:
            return s
        pub = self.published(name)
        n = int(pub.to_numpy().searchsorted(pd.Timestamp(as_of).to_datetime64(), side="right"))
        return s.iloc[:n]

    def frame(self, names: Sequence[str], start: object = None, end: object = None
              ) -> pd.DataFrame:
        """Several series side by side (outer join on dates; NaN where one has no row)."""
        return pd.concat([self.series(n, start, end) for n in names], axis=1, sort=True)

    def source(self, name: str) -> str:
        return self._load(normalize_id(name))[1]

    def describe(self, name: str) -> str:
        """What the series is: the catalog's words, the description stored with a user's
        series, or else its name (a series stored without one, or a name nobody stored)."""
        sid = normalize_id(name)
        info = BY_ID.get(sid)
        if info is not None:
            return info.description
        return self._meta().get(sid, {}).get("description", sid)

    def status(self, today: date | None = None) -> list[SeriesStatus]:
        """Per series: source, coverage, rows and days since the last observation."""
        today = today or date.today()
        out = []
        for sid in self.available():
            try:
                s, source = self._load(sid)
            except DataError as exc:  # a user's series whose only copy is corrupt or that
                # another process keeps replacing: what is wrong with it
                out.append(SeriesStatus(sid, self.describe(sid), "cache", None, None, 0, None,
                                        self.problems.get(sid, str(exc))))
                continue
            last = s.index[-1].date()
            note = self.problems.get(sid, "")
            if not note and source != "snapshot" and self.meta_problem:
                note = self.meta_problem
            out.append(SeriesStatus(sid, self.describe(sid), source, s.index[0].date(), last,
                                    int(s.size), (today - last).days, note))
        return out

    # ----------------------------------------------------------------- writing
    def _stage(self, sid: str, s: pd.Series, source: str, description: str | None = None
               ) -> tuple[str, dict[str, str]]:
        """Write one series as a new versioned file (never over the current one) and return
        its manifest entry; nothing is visible until :meth:`_commit` (caller holds the lock)."""
        data = frame_to_csv(s.rename(sid).to_frame())
        digest = hashlib.sha256(data).hexdigest()
        name = f"{sid}.{digest[:16]}.csv"
        path = self._series_dir / name
        if not (path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == digest):
            write_bytes_atomic(path, data)
        entry = {"file": name, "source": source, "sha256": digest,
                 "updated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "publication": default_rule(sid)}
        if description:
            entry["description"] = description
        return sid, entry

    def _commit(self, entries: dict[str, dict[str, str] | None]) -> None:
        """One atomic step for a whole update: the manifest is replaced last, so readers in any
        process see the old generation or the new one, never a mix; a kill before it leaves
        the old generation whole. ``None`` removes a series. Then files no generation needs
        and temporary files of killed writers are removed (caller holds the lock)."""
        meta = dict(self._meta())   # a copy: readers share the cached one; a damaged manifest
        #                             comes back rebuilt from the files, checksums verified
        for sid, entry in entries.items():
            if entry is None:
                meta.pop(sid, None)
            else:
                meta[sid] = entry
        write_bytes_atomic(self.cache_dir / "meta.json",
                           (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
        self._meta_cache = None
        for sid in entries:
            self._memo.pop(sid, None)
        self._generation += 1
        self._missing_until = 0.0
        self._sweep(meta)

    def _sweep(self, meta: dict[str, dict[str, str]]) -> None:
        keep = {e.get("file") or f"{sid}.csv" for sid, e in meta.items()}
        for folder in (self._series_dir, self.cache_dir):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                stale = p.name.startswith(".tmp.") or (
                    folder == self._series_dir and p.suffix == ".csv" and p.name not in keep)
                if stale:
                    with contextlib.suppress(OSError):
                        p.unlink()

    def _write(self, sid: str, s: pd.Series, source: str, description: str | None = None
               ) -> None:
        """Store one series: a new versioned file, then the manifest (caller holds the lock)."""
        sid, entry = self._stage(sid, s, source, description)
        self._commit({sid: entry})

    def _kind(self, sid: str) -> str:
        return BY_ID[sid].kind if sid in BY_ID else "price"

    def kind(self, name: str) -> str:
        """price, yield, rate, mmf (fund assets) or factor (daily returns in percent); a
        user's imported series counts as a price."""
        return self._kind(normalize_id(name))

    def _stored(self, sid: str) -> pd.Series | None:
        known = sid in BY_ID or self._file_of(sid) is not None
        return self._load(sid)[0] if known else None

    def _fetch_yahoo(self, sid: str, full: bool, accept_jumps: bool) -> tuple[pd.Series, str]:
        """Download, validate (:mod:`xlsmallcap.data.validate`) and splice one Yahoo series;
        a refused answer raises before anything is written."""
        from xlsmallcap.data.yahoo import download_close

        symbol = BY_ID[sid].symbol if sid in BY_ID else sid
        kind = self._kind(sid)
        old = self._stored(sid)
        if full or old is None:
            new = download_close(symbol, None)
            check_series(sid, kind, new, accept_jumps)
            check_covers(sid, new, old)
            return new, "full history"
        start = (old.index[-1] - pd.Timedelta(days=OVERLAP_DAYS)).date()
        new = download_close(symbol, start)
        check_series(sid, kind, new, accept_jumps)
        try:
            check_splice(sid, old, new, accept_jumps)
            joined = splice(old, new)
        except ValueError:
            new = download_close(symbol, None)
            check_series(sid, kind, new, accept_jumps)
            check_covers(sid, new, old)
            return new, "full history (no overlap)"
        check_series(sid, kind, joined.loc[old.index[-1] - pd.Timedelta(days=OVERLAP_DAYS):],
                     accept_jumps)
        added = int((new.index > old.index[-1]).sum())
        seam = old.index.intersection(new.index).max()
        return joined, f"{added} new rows, spliced on {seam:%Y-%m-%d}"

    def update(self, tickers: Iterable[str] | None = None, series: Iterable[str] | None = None,
               *, full: bool = False, progress: Progress | None = None,
               accept_jumps: bool = False) -> UpdateResult:
        """Download live data into the cache.

        ``tickers`` go to Yahoo Finance, ``series`` to FRED; with neither, every catalog series
        that has a live source is updated. Each answer is validated before it is written (dates,
        values, moves within what the series' kind allows unless ``accept_jumps``, and never
        less history than is stored); a refused answer or a failure leaves that series' stored
        data untouched and is reported in the result.
        """
        from xlsmallcap.data.fred import download_series

        if tickers is None and series is None:
            tickers = [s.id for s in CATALOG if s.live == "yahoo"]
            series = [s.id for s in CATALOG if s.live == "fred"]
        jobs: list[tuple[str, str]] = []
        for kind, names in (("yahoo", tickers or []), ("fred", series or [])):
            for name in names:
                jobs.append((kind, check_name(name)))
        result = UpdateResult()
        down: dict[str, str] = {}           # source -> why it cannot be reached this run
        started = time.monotonic()
        staged: dict[str, dict[str, str]] = {}
        with self._locked():
            for kind, sid in jobs:
                info = BY_ID.get(sid)
                try:
                    if kind in down:
                        raise LiveDataError(f"{sid}: skipped ({down[kind]})")
                    if time.monotonic() - started > UPDATE_DEADLINE:
                        raise LiveDataError(f"{sid}: skipped (the update ran past "
                                            f"{UPDATE_DEADLINE:.0f} s)")
                    if info is not None and info.live is None:
                        raise LiveDataError(f"{sid}: no live source (Fama-French data is "
                                            "updated by rebuilding the snapshot)")
                    if kind == "yahoo":
                        s, how = _within(SERIES_TIMEOUT, sid, lambda sid=sid: self._fetch_yahoo(
                            sid, full, accept_jumps))
                    else:
                        symbol = info.symbol if info is not None else sid
                        s = _within(SERIES_TIMEOUT, sid, lambda symbol=symbol: download_series(
                            symbol))
                        how = "full history"
                        stored = self._stored(sid)
                        check_series(sid, self._kind(sid), s, accept_jumps, known=stored)
                        check_covers(sid, s, stored)
                    sid, staged[sid] = self._stage(sid, s, kind)
                    result.updated[sid] = f"{how}; last {s.index[-1]:%Y-%m-%d}"
                except RefusedDownload as exc:
                    result.failed[sid] = str(exc)
                except DataError as exc:
                    reason, unreachable = plain_reason(str(exc))
                    if unreachable:
                        down[kind] = reason
                    result.failed[sid] = reason if reason.startswith(sid) else f"{sid}: {reason}"
                except OSError as exc:
                    result.failed[sid] = f"{sid}: could not write the cache ({exc.strerror})"
                if progress is not None:
                    progress(sid)
            if staged:
                try:
                    self._commit(staged)       # every good answer becomes visible at once
                except OSError as exc:
                    for sid in staged:
                        result.updated.pop(sid, None)
                        result.failed[sid] = (f"{sid}: could not write the cache "
                                              f"({exc.strerror})")
        return result

    def import_csv(self, path: Path | str, replace: bool = False,
                   day_first: bool | None = None) -> list[str]:
        """Add a user's CSV (a date column, then one column per series) to the cache.

        The file is read strictly (:func:`xlsmallcap.data.importer.read_user_csv`). A column
        named like a built-in series (IWM, DFF, ...) is refused unless ``replace``: your data
        would silently stand in for the embedded one. Nothing is written unless every column
        passes. Returns the names imported.
        """
        from xlsmallcap.data.importer import read_user_csv

        path = Path(path)
        columns = read_user_csv(path, day_first)
        names = {check_name(c): c for c in columns}
        shadow = [n for n in names if n in BY_ID]
        if shadow and not replace:
            raise DataError(f"{path.name}: {', '.join(shadow)} would replace the built-in "
                            "series; rename the column or pass --replace "
                            "(`xlsmallcap data remove NAME` restores it)")
        with self._locked():
            staged = dict(self._stage(sid, columns[col], "csv",
                                      description=f"imported from {path.name}")
                          for sid, col in names.items())
            self._commit(staged)
        return list(names)

    def remove(self, name: str) -> str:
        """Remove a stored copy: a user's series goes; a built-in one falls back to the
        embedded snapshot. Returns what happened, in words."""
        sid = check_name(name)
        with self._locked():
            if self._file_of(sid) is None:
                raise DataError(f"{sid}: nothing stored to remove"
                                + (" (the built-in series is in use)" if sid in BY_ID else ""))
            self._commit({sid: None})
            with contextlib.suppress(OSError):
                self._cache_file(sid).unlink()
        return (f"removed your {sid}; the built-in {sid} (embedded snapshot) is used again"
                if sid in BY_ID else f"removed {sid}")

    def export(self, path: Path | str, names: Sequence[str] | None = None,
               progress: Callable[[int, int], None] | None = None) -> Path:
        """Write series side by side to ``path`` (.csv, or .xlsx for Excel), atomically;
        ``progress(rows_done, rows)`` follows an .xlsx export."""
        from xlsmallcap.data.xlsx import write_table

        path = Path(path)
        df = self.frame(list(names) if names else self.available())
        if path.suffix.lower() == ".xlsx":
            write_table(path, [str(c) for c in df.columns], df.index.to_numpy(),
                        df.to_numpy(dtype="float64"), progress=progress)
        else:
            write_bytes_atomic(path, frame_to_csv(df))
        return path


_DEFAULT: DataStore | None = None


def get_store() -> DataStore:
    """The process-wide store (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DataStore()
    return _DEFAULT


def use_embedded_data() -> DataStore:
    """Make the process-wide store read only the embedded snapshot (an empty cache folder)."""
    import tempfile

    global _DEFAULT
    _DEFAULT = DataStore(cache_dir=Path(tempfile.mkdtemp(prefix="xlsmallcap-embedded-")))
    return _DEFAULT
