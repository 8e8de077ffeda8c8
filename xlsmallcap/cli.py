"""The ``xlsmallcap`` command line (typer + rich)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Is the small-cap rally a true rotation or just diversification?",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="The market data: status, live updates, export, snapshot build.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")
# Piped output (CI logs, files) gets a wide page instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=True)


def _store():
    from xlsmallcap.data.store import get_store

    st = get_store()
    st.on_lock_wait = lambda: err.print("waiting for another xlsmallcap process to finish "
                                        "writing the data...")
    return st


def _file_target(path: Path, name: str) -> None:
    """A file to write must not be a folder, and its folder must exist: exit 2 otherwise."""
    if path.is_dir():
        err.print(f"[red]error[/]: {name} {path} is a folder: give a file name inside it")
        raise typer.Exit(2)
    if not path.parent.is_dir():
        err.print(f"[red]error[/]: {name}: the folder {path.parent} does not exist")
        raise typer.Exit(2)


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@data_app.command("status")
def data_status() -> None:
    """Per series: source, first and last date, rows and how stale it is."""
    rows = _store().status()
    cells = [[r.id, r.source, f"{r.first or '-'}", f"{r.last or '-'}", f"{r.rows:,}",
              "-" if r.stale_days is None else f"{r.stale_days} d", r.description]
             for r in rows]
    table = Table(title="xlsmallcap data", header_style="bold")
    names = ("series", "source", "first", "last", "rows", "stale", "description")
    for i, col in enumerate(names):
        fixed = col != "description"
        width = max(len(col), *(len(c[i]) for c in cells)) if fixed else 12
        table.add_column(col, justify="right" if col in ("rows", "stale") else "left",
                         no_wrap=True, overflow="ellipsis", min_width=width)
    for c in cells:
        table.add_row(*c)
    console.print(table)
    for r in rows:
        if r.note:
            err.print(f"[yellow]warning[/]: {r.id}: {r.note}")
    console.print(f"cache folder: {_store().cache_dir}")


@data_app.command("update")
def data_update(
    tickers: list[str] | None = typer.Option(None, "--tickers", "-t",
                                             help="Yahoo tickers (repeat or comma-separate)."),
    series: list[str] | None = typer.Option(None, "--series", "-s",
                                            help="FRED series ids (repeat or comma-separate)."),
    full: bool = typer.Option(False, "--full", help="Replace whole histories."),
    accept_jumps: bool = typer.Option(False, "--accept-jumps",
                                      help="Store moves larger than the series' kind allows "
                                           "(e.g. a split Yahoo did not adjust)."),
) -> None:
    """Download live data (Yahoo Finance, FRED) into the cache. Needs the network."""
    from rich.progress import Progress

    from xlsmallcap.data.catalog import CATALOG
    from xlsmallcap.data.errors import DataError

    t, s = _split(tickers), _split(series)
    if t is None and s is None:
        n = sum(1 for i in CATALOG if i.live)
    else:
        n = len(t or []) + len(s or [])
    try:
        with Progress(console=err, transient=False) as bar:
            task = bar.add_task("updating", total=n)
            result = _store().update(t, s, full=full, accept_jumps=accept_jumps,
                                     progress=lambda sid: bar.update(task, advance=1,
                                                                     description=sid))
    except DataError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    for sid, msg in result.updated.items():
        console.print(f"[green]updated[/] {sid}: {msg}")
    for sid, msg in result.failed.items():
        err.print(f"[red]failed[/] {msg}; still using the stored {sid} data "
                  f"({_store().source(sid) if sid in _store().available() else 'none'})")
    total = len(result.updated) + len(result.failed)
    (console if result.ok else err).print(
        f"updated {len(result.updated)} of {total} series"
        + (f"; {len(result.failed)} failed, their stored data unchanged" if result.failed
           else ""))
    if not result.ok:
        raise typer.Exit(1)


@data_app.command("export")
def data_export(
    out: Path = typer.Option(Path("xlsmallcap-data.csv"), "--out", "-o",
                             help="Output file (.csv or .xlsx)."),
    series: list[str] | None = typer.Option(None, "--series", "-s", help="Series to export."),
) -> None:
    """Write series side by side to a CSV or Excel file."""
    from rich.progress import Progress

    from xlsmallcap.data.errors import DataError

    _file_target(out, "--out")
    try:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"writing {out.name}", total=None)
            path = _store().export(out, _split(series), progress=lambda done, total:
                                   bar.update(task, completed=done, total=total))
    except DataError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    console.print(f"wrote {path}")


@data_app.command("import")
def data_import(
    path: Path,
    replace: bool = typer.Option(False, "--replace",
                                 help="Let a column replace the built-in series of that name."),
    day_first: bool | None = typer.Option(None, "--day-first/--month-first",
                                          help="How to read dates like 03/04/2024 (ISO dates "
                                               "need neither)."),
) -> None:
    """Add your own CSV (a header line; a date column, then one column per series)."""
    from xlsmallcap.data.errors import DataError

    try:
        names = _store().import_csv(path, replace=replace, day_first=day_first)
    except DataError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    for n in names:
        s = _store().series(n)
        console.print(f"imported {n}: {s.size} rows, {s.index[0]:%Y-%m-%d} to "
                      f"{s.index[-1]:%Y-%m-%d}")


@data_app.command("remove")
def data_remove(name: str) -> None:
    """Remove a series you imported (a built-in one goes back to the embedded data)."""
    from xlsmallcap.data.errors import DataError

    try:
        console.print(_store().remove(name))
    except DataError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc


@data_app.command("build-snapshot")
def data_build_snapshot(
    raw: Path = typer.Option(..., "--raw", help="The shared/data/raw folder."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the package)."),
) -> None:
    """Rebuild the embedded snapshot from the raw files (reproducible byte for byte)."""
    from xlsmallcap.data.snapshot import build_snapshot

    if not (raw / "prices").is_dir() or not (raw / "macro").is_dir():
        err.print(f"[red]error[/]: --raw {raw} is not the shared/data/raw folder (it needs "
                  "prices/ and macro/)")
        raise typer.Exit(2)
    sizes = build_snapshot(raw, out)
    for name, size in sizes.items():
        console.print(f"{name}: {size:,} bytes")


@app.command("report")
def report(
    as_of: str | None = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default latest."),
    small: str = typer.Option("IWM", "--small", help="Small-cap ticker."),
    benchmarks: str = typer.Option("SPY,QQQ,DIA", "--benchmarks",
                                   help="Large-cap tickers, comma-separated."),
) -> None:
    """The answer in the terminal: verdict, score, components and the figures around them."""
    from xlsmallcap import api
    from xlsmallcap.core.frame import AnalysisError
    from xlsmallcap.data.errors import DataError
    from xlsmallcap.report_view import render

    try:
        when = _parse_date(as_of)
        bench = _split([benchmarks])
        if not bench:
            raise ValueError("--benchmarks must name at least one ticker, e.g. SPY,QQQ,DIA")
        rep = api.report(when, small, bench, store=_store())
    except (AnalysisError, DataError, ValueError) as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    console.print(render(rep), soft_wrap=False)


@app.command("track-record")
def track_record_cmd() -> None:
    """The verdict's forward record: IWM since 2004, the French size pair since 1929."""
    from xlsmallcap import api
    from xlsmallcap.track_view import HEADER, in_words, table_rows

    for rec in api.track_records(_store()):
        t = Table(title=f"{rec.pair}, {rec.start:%Y-%m-%d} to {rec.end:%Y-%m-%d} ({rec.role}): "
                        f"{rec.changes_per_year:.1f} changes a year, median run "
                        f"{rec.median_run:.0f} days", header_style="bold")
        for i, h in enumerate(HEADER):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in table_rows(rec):
            t.add_row(*row)
        console.print(t)
        console.print(in_words(rec) + "\n")


@app.command("lite")
def lite_cmd(
    folder: Path = typer.Argument(Path("xlsmallcap-lite"),
                                  help="Folder for main.py and requirements.txt."),
    requirement: str = typer.Option(None, "--requirement",
                                    help="How Lite installs the package: a wheel URL you host "
                                         "(CORS allowed). Default: xlsmallcap on PyPI."),
    force: bool = typer.Option(False, "--force", help="Replace files already there."),
) -> None:
    """Write the main.py and requirements.txt to paste into xlwings Lite (Mac, the web)."""
    from xlsmallcap.lite import lite_files, write_lite

    if folder.exists() and not folder.is_dir():
        err.print(f"[red]error[/]: FOLDER {folder} is a file: give a folder")
        raise typer.Exit(2)
    there = [n for n in lite_files() if (folder / n).exists()]
    if there and not force:
        err.print(f"[red]error[/]: {folder} already has {', '.join(there)}; "
                  "use --force to replace them")
        raise typer.Exit(2)
    for path in write_lite(folder, requirement):
        console.print(f"wrote {path}")
    console.print("In Excel: xlwings Lite > Editor: paste main.py, then requirements.txt; "
                  "the functions use the embedded data (no live download in the browser).")


workbook_app = typer.Typer(help="The template workbook.", no_args_is_help=True)
app.add_typer(workbook_app, name="workbook")


@workbook_app.command("build")
def workbook_build(
    path: Path = typer.Argument(Path("xlsmallcap.xlsm"), help="Where to write the workbook."),
    embedded: bool = typer.Option(False, "--embedded",
                                  help="Use only the embedded snapshot, not your cache."),
) -> None:
    """Build the template workbook and fill it with current values."""
    from xlsmallcap.workbook.template import build

    _file_target(path, "PATH")
    if embedded:
        from xlsmallcap.data.store import use_embedded_data

        use_embedded_data()
    build(path)
    console.print(f"wrote {path}")


@app.command("refresh")
def refresh_cmd(
    book: Path = typer.Argument(..., help="The .xlsx/.xlsm workbook to refresh."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of in place "
                                    "(with --static: instead of BOOK-static.xlsx)."),
    static: bool = typer.Option(False, "--static", help="Write a static report: values and "
                                "charts only, an .xlsx for people without Python."),
) -> None:
    """Compute every xlsmallcap formula without Excel and store the results in the file."""
    from xlsmallcap.workbook.ooxml import WorkbookError
    from xlsmallcap.workbook.refresh import refresh

    if not book.is_file():
        err.print(f"[red]error[/]: {book} does not exist")
        raise typer.Exit(2)
    if static:
        out = out if out is not None else book.with_name(f"{book.stem}-static.xlsx")
        if out.suffix.lower() != ".xlsx":
            err.print(f"[red]error[/]: --out: a static report is an .xlsx file (got {out.name})")
            raise typer.Exit(2)
        if out.resolve() == book.resolve():
            err.print("[red]error[/]: --out: a static report never replaces its live workbook")
            raise typer.Exit(2)
    try:
        report = refresh(book, out, static=static)
    except WorkbookError as exc:
        err.print(f"[red]error[/]: {exc}; {book} was not changed")
        raise typer.Exit(2) from exc
    except OSError as exc:
        err.print(f"[red]error[/]: {_os_message(exc)}; {book} was not changed")
        raise typer.Exit(1) from exc
    console.print(report.summary())
    if static:
        console.print(f"static report written to {out}")
    for (sheet, ref), name in sorted(report.unknown.items()):
        err.print(f"[yellow]left alone[/] {sheet}!{ref}: {name}")
    for (sheet, ref), why in sorted(report.unreadable.items()):
        err.print(f"[yellow]left alone[/] {sheet}!{ref}: {why}")
    for (sheet, ref), msg in sorted(report.errors.items()):
        err.print(f"[yellow]error value[/] {sheet}!{ref}: {msg}")
    for (sheet, ref), msg in sorted(report.circular.items()):
        err.print(f"[yellow]circular[/] {sheet}!{ref}: {msg}; its old value was kept")


@app.command("batch")
def batch_cmd(
    config: Path = typer.Argument(..., help="TOML config: out_dir, workers, as_of, pairs."),
    workers: int | None = typer.Option(None, "--workers", "-w", help="Processes (default: "
                                       "the config's, else 2)."),
) -> None:
    """Generate many refreshed workbooks (as_of dates x small/large pairs) in parallel."""
    from rich.progress import Progress

    from xlsmallcap.workbook.batch import ConfigError, load_config, run_batch

    try:
        out_dir, jobs, cfg_workers = load_config(config)
    except ConfigError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    try:
        with Progress(console=err) as bar:
            task = bar.add_task("workbooks", total=len(jobs))
            result = run_batch(out_dir, jobs, workers or cfg_workers,
                               progress=lambda name: bar.update(task, advance=1,
                                                                description=name))
    except ConfigError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(2) from exc
    console.print(f"{len(result.written)} of {len(jobs)} workbooks written to {out_dir}")
    for name, msg in sorted(result.failed.items()):
        err.print(f"[red]failed[/] {name}: {msg}")
    if not result.ok:
        raise typer.Exit(1)


def _parse_date(text: str | None):
    """``--as-of``: the one date parser (:mod:`xlsmallcap.dates`); ambiguous days are refused."""
    import pandas as pd

    from xlsmallcap.dates import parse_date

    if text is None or text.strip().lower() == "latest":
        return None
    return pd.Timestamp(parse_date(text, "--as-of"))


def _os_message(exc: OSError) -> str:
    target = exc.filename2 or exc.filename
    return f"{exc.strerror or exc}: {target}" if target else str(exc.strerror or exc)


INTERRUPTED = b"interrupted: stopped; stored data unchanged\n"


def main() -> None:
    """Every failure is one or two lines: 2 for bad usage or input, 1 for failed work."""
    from typer._click.exceptions import ClickException  # typer's own click

    try:
        rv = app(standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        # straight to stderr: an interrupted progress display may leave rich's buffer open
        os.write(2, INTERRUPTED)
        sys.exit(130)
    except ClickException as exc:  # bad usage: click's own one-liner and exit 2
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:
        err.print(f"[red]error[/]: {_os_message(exc)}")
        sys.exit(1)
    except Exception as exc:  # anything unforeseen: one line, never a traceback
        err.print(f"[red]error[/]: {type(exc).__name__}: {str(exc)[:200]}")
        sys.exit(1)
    if rv == 130:  # typer turns Ctrl-C into exit code 130, without a word
        os.write(2, INTERRUPTED)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
