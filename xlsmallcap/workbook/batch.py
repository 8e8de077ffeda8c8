"""Batch generation: many refreshed workbooks (as_of dates x small/large pairs) in parallel.

A config (TOML)::

    out_dir = "out"
    workers = 2
    as_of = ["2016-11-18", "2024-07-16", "latest"]
    pairs = [["IWM", "SPY,QQQ,DIA"], ["IJR", "IWB"]]
    static = true      # the default: values and charts (.xlsx); false: live formulas (.xlsm)

People who receive batch books rarely have Python, so a batch writes static reports unless the
config asks for live workbooks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from xlsmallcap.data.catalog import normalize_id
from xlsmallcap.data.errors import DataError

#: Settings cells of the template (see template._settings): name -> cell.
SETTINGS_CELLS = {"Small": "B4", "Bench1": "B5", "Bench2": "B6", "Bench3": "B7",
                  "Benchmarks": "B8", "AsOf": "B9"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Job:
    small: str
    benchmarks: tuple[str, ...]
    as_of: dt.date | None
    #: A static report (values and charts, .xlsx) rather than a live workbook (.xlsm).
    static: bool = True

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


#: The keys a config may have, and what each must be.
CONFIG_KEYS = {"out_dir": "a folder name (text)", "workers": "a whole number >= 1",
               "as_of": "a list of dates like 2024-07-16 or 'latest'",
               "pairs": "a list of [small, benchmarks] pairs",
               "static": "true (values and charts, .xlsx) or false (live formulas, .xlsm)"}


def load_config(path: Path | str) -> tuple[Path, list[Job], int]:
    """(output folder, jobs, workers) from a TOML config; unknown keys and wrong types are
    refused with a message naming the key."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from exc
    unknown = sorted(set(cfg) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"{path.name}: unknown key {unknown[0]!r} (known: "
                          f"{', '.join(CONFIG_KEYS)})")
    as_of = cfg.get("as_of", ["latest"])
    if isinstance(as_of, (str, dt.date)):
        as_of = [as_of]
    if not isinstance(as_of, list) or not as_of:
        raise ConfigError(f"as_of must be {CONFIG_KEYS['as_of']}")
    dates = [_date(d) for d in as_of]
    pairs = cfg.get("pairs", [["IWM", "SPY,QQQ,DIA"]])
    if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
        raise ConfigError(f"pairs must be {CONFIG_KEYS['pairs']}, e.g. [[\"IWM\", \"SPY\"]]")
    static = cfg.get("static", True)
    if not isinstance(static, bool):
        raise ConfigError(f"static must be {CONFIG_KEYS['static']} (got {static!r})")
    jobs = [Job(normalize_id(small), _tickers(bench), d, static) for small, bench in pairs
            for d in dates]
    workers = cfg.get("workers", 2)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be {CONFIG_KEYS['workers']} (got {workers!r})")
    out = cfg.get("out_dir", "out")
    if not isinstance(out, str) or not out.strip():
        raise ConfigError(f"out_dir must be {CONFIG_KEYS['out_dir']} (got {out!r})")
    out_dir = (path.parent / out).resolve()
    return out_dir, jobs, workers


def output_path(out_dir: Path, job: Job) -> Path:
    """Where a job's workbook goes; never outside ``out_dir``."""
    out_dir = Path(out_dir).resolve()
    target = (out_dir / f"{job.name}{'.xlsx' if job.static else '.xlsm'}").resolve()
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
        try:
            get_store().series(ticker)
        except DataError:  # a plain error crosses the process boundary; the job names it
            raise JobError(f"unknown ticker or series '{ticker}'") from None
    # Created exclusively (O_EXCL) inside the output folder: a planted link is never followed.
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp.xlsm",
                                dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh, open(template, "rb") as src:
            shutil.copyfileobj(src, fh)
        pkg = Package(tmp)
        benches = list(job.benchmarks) + [None] * (3 - len(job.benchmarks))   # blank: none
        values = {"Small": job.small, "Bench1": benches[0], "Bench2": benches[1],
                  "Bench3": benches[2], "Benchmarks": ",".join(job.benchmarks),
                  "AsOf": dt.datetime.combine(job.as_of, dt.time()) if job.as_of else None}
        for name, ref in SETTINGS_CELLS.items():
            pkg.set_cached("Settings", ref, values[name], formula_result=False)
        pkg.save()
        # the labels that read the settings (names, headers) are recomputed with the figures
        refresh(tmp, target, changed=[("Settings", ref) for ref in SETTINGS_CELLS.values()],
                static=job.static)
    finally:
        tmp.unlink(missing_ok=True)
    return target


class JobError(RuntimeError):
    """A job's failure, as plain text so that it crosses process boundaries."""


#: Every temporary file of a batch starts with this (and is removed, even on interruption).
TEMP_PREFIX = ".xlsmallcap-batch-"


def _clean_temporaries(out_dir: Path) -> None:
    for p in out_dir.glob(f"{TEMP_PREFIX}*.tmp.xlsm"):
        with contextlib.suppress(OSError):
            p.unlink()


def run_batch(out_dir: Path, jobs: list[Job], workers: int = 2,
              progress: Callable[[str], None] | None = None) -> BatchResult:
    """Build every job's workbook, ``workers`` processes at a time."""
    from xlsmallcap.workbook.template import build_formulas

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = BatchResult()
    workers = max(1, min(workers, len(jobs)))  # no more processes than jobs
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}template-", suffix=".tmp.xlsm",
                                dir=out_dir)
    os.close(fd)
    template = Path(name)
    previous = signal.getsignal(signal.SIGTERM)
    pool = None
    try:
        # SIGTERM stops the batch like Ctrl-C: workers ended, temporary files removed.
        signal.signal(signal.SIGTERM, _interrupt)
        build_formulas(template)
        for job in jobs:
            output_path(out_dir, job)  # refuse unsafe names before any work
        _warm_up(jobs)
        if workers == 1:
            for job in jobs:
                _collect(result, job, lambda j=job: build_one(template, out_dir, j), progress)
        else:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                       initializer=_die_with_parent)
            futures = {pool.submit(build_one, template, out_dir, j): j for j in jobs}
            for fut in as_completed(futures):
                _collect(result, futures[fut], fut.result, progress)
            pool.shutdown()
            pool = None
    finally:
        if pool is not None:  # interrupted: end the workers now, not after their jobs
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)
        template.unlink(missing_ok=True)
        _clean_temporaries(out_dir)
    return result


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """A worker ends when the batch process dies, even by SIGKILL (Linux: PR_SET_PDEATHSIG),
    and leaves Ctrl-C to the parent, which ends the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


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
    except JobError as exc:
        result.failed[job.name] = str(exc)
    except Exception as exc:  # one bad job must not stop the batch
        result.failed[job.name] = f"{type(exc).__name__}: {exc}"
    if progress is not None:
        progress(job.name)
