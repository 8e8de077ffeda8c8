"""Batch generation: many refreshed workbooks (as_of dates x small/large pairs) in parallel.

A config (TOML)::

    out_dir = "out"
    workers = 2
    as_of = ["2016-11-18", "2024-07-16", "latest"]
    pairs = [["IWM", "SPY,QQQ,DIA"], ["IJR", "IWB"]]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from xlsmallcap.data.catalog import normalize_id

#: Settings cells of the template (see template._settings): name -> cell.
SETTINGS_CELLS = {"Small": "B4", "Bench1": "B5", "Bench2": "B6", "Bench3": "B7",
                  "Benchmarks": "B8", "AsOf": "B9"}
HEADER_CELLS = ("E7", "F7", "G7")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Job:
    small: str
    benchmarks: tuple[str, ...]
    as_of: dt.date | None

    @property
    def name(self) -> str:
        when = self.as_of.isoformat() if self.as_of else "latest"
        raw = f"{self.small}_vs_{'-'.join(self.benchmarks)}_{when}"
        return re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-.") or "workbook"


@dataclass
class BatchResult:
    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def _date(value: object) -> dt.date | None:
    from xlsmallcap.dates import DateError, parse_date

    if value in (None, "") or (isinstance(value, str) and value.strip().lower() == "latest"):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value), "as_of")
    except DateError as exc:
        raise ConfigError(f"{exc} (or 'latest')") from None


def _tickers(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    out = tuple(normalize_id(str(t)) for t in items if str(t).strip())
    if not out or len(out) > 3:
        raise ConfigError(f"each pair needs 1 to 3 benchmarks (got {value!r})")
    return out


def load_config(path: Path | str) -> tuple[Path, list[Job], int]:
    """(output folder, jobs, workers) from a TOML config."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from exc
    dates = [_date(d) for d in cfg.get("as_of", ["latest"])]
    pairs = cfg.get("pairs", [["IWM", "SPY,QQQ,DIA"]])
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2
                                              for p in pairs):
        raise ConfigError("pairs must be a list of [small, benchmarks] pairs")
    jobs = [Job(normalize_id(small), _tickers(bench), d) for small, bench in pairs
            for d in dates]
    workers = int(cfg.get("workers", 2))
    if workers < 1:
        raise ConfigError(f"workers must be >= 1 (got {workers})")
    out_dir = (path.parent / cfg.get("out_dir", "out")).resolve()
    return out_dir, jobs, workers


def output_path(out_dir: Path, job: Job) -> Path:
    """Where a job's workbook goes; never outside ``out_dir``."""
    out_dir = Path(out_dir).resolve()
    target = (out_dir / f"{job.name}.xlsm").resolve()
    if target.parent != out_dir:
        raise ConfigError(f"{job.name!r} would leave the output folder")
    return target


def build_one(template: Path, out_dir: Path, job: Job) -> Path:
    """Copy the formula template, write the job's settings, refresh."""
    from xlsmallcap.data.store import get_store
    from xlsmallcap.workbook.ooxml import Package
    from xlsmallcap.workbook.refresh import refresh

    target = output_path(out_dir, job)
    for ticker in (job.small, *job.benchmarks):
        get_store().series(ticker)  # an unknown ticker fails the job, naming it
    tmp = target.with_suffix(".tmp.xlsm")
    shutil.copyfile(template, tmp)
    try:
        pkg = Package(tmp)
        benches = list(job.benchmarks) + [job.benchmarks[0]] * (3 - len(job.benchmarks))
        values = {"Small": job.small, "Bench1": benches[0], "Bench2": benches[1],
                  "Bench3": benches[2], "Benchmarks": ",".join(job.benchmarks),
                  "AsOf": dt.datetime.combine(job.as_of, dt.time()) if job.as_of else None}
        for name, ref in SETTINGS_CELLS.items():
            pkg.set_cached("Settings", ref, values[name], formula_result=False)
        for ref, ticker in zip(HEADER_CELLS, benches, strict=True):
            pkg.set_cached("Dashboard", ref, f"vs {ticker}", formula_result=False)
        pkg.save()
        refresh(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def run_batch(out_dir: Path, jobs: list[Job], workers: int = 2,
              progress: Callable[[str], None] | None = None) -> BatchResult:
    """Build every job's workbook, ``workers`` processes at a time."""
    from xlsmallcap.workbook.template import build_formulas

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = BatchResult()
    template = out_dir / ".xlsmallcap-template.xlsm"
    build_formulas(template)
    try:
        for job in jobs:
            output_path(out_dir, job)  # refuse unsafe names before any work
        _warm_up(jobs)
        if workers == 1:
            for job in jobs:
                _collect(result, job, lambda j=job: build_one(template, out_dir, j), progress)
        else:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
                futures = {pool.submit(build_one, template, out_dir, j): j for j in jobs}
                for fut in as_completed(futures):
                    _collect(result, futures[fut], fut.result, progress)
    finally:
        template.unlink(missing_ok=True)
    return result


def _warm_up(jobs: list[Job]) -> None:
    """Engine and data loaded once in this process; forked workers inherit them."""
    from xlsmallcap import api
    from xlsmallcap.data.errors import DataError
    from xlsmallcap.data.store import get_store
    from xlsmallcap.workbook.refresh import warm_up

    warm_up()
    names = {api.GROWTH, api.MMF_WEEKLY, api.MMF_MONTHLY, api.POLICY_RATE, api.TWO_YEAR,
             api.SMB, *(t for j in jobs for t in (j.small, *j.benchmarks))}
    for name in names:
        with contextlib.suppress(DataError):  # an unknown ticker is reported by its job
            get_store().series(name)


def _context():
    """Fork on Linux, so workers start with the warm engine and data (Python 3.14 changes the
    default start method); the platform default elsewhere."""
    import multiprocessing

    return multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def _collect(result: BatchResult, job: Job, get: Callable[[], Path],
             progress: Callable[[str], None] | None) -> None:
    try:
        result.written.append(get())
    except Exception as exc:  # one bad job must not stop the batch
        result.failed[job.name] = f"{type(exc).__name__}: {exc}"
    if progress is not None:
        progress(job.name)
