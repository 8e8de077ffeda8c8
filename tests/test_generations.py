"""One atomic commit per update: versioned files, then the manifest, then the clean-up.

Faults are injected deterministically at each write step (not by timed kills): the store a
fresh process opens afterwards holds the old generation or the new one, whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import xlsmallcap.data.store as store_mod
from xlsmallcap.data.store import DataStore

IDX = pd.bdate_range("2024-01-01", periods=50)


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs, no handler catches it."""


def _frame(tag: float) -> pd.Series:
    return pd.Series([tag + i for i in range(50)], index=IDX, dtype=float)


@pytest.fixture
def seeded(tmp_path):
    st = DataStore(cache_dir=tmp_path / "cache")
    with st._locked():
        st._commit(dict(st._stage(sid, _frame(100.0), "csv") for sid in ("A1", "B1", "C1")))
    return st


@pytest.mark.parametrize("step", [1, 2, 3, 4])   # 3 staged files, then the manifest
def test_a_kill_at_any_write_step_leaves_the_old_generation(seeded, monkeypatch, step):
    real = store_mod.write_bytes_atomic
    calls = []

    def dying(path, data):
        calls.append(path.name)
        if len(calls) == step:
            raise Killed
        return real(path, data)

    monkeypatch.setattr(store_mod, "write_bytes_atomic", dying)
    with pytest.raises(Killed), seeded._locked():
        staged = dict(seeded._stage(sid, _frame(200.0), "csv") for sid in ("A1", "B1", "C1"))
        seeded._commit(staged)
    fresh = DataStore(cache_dir=seeded.cache_dir)
    for sid in ("A1", "B1", "C1"):
        assert fresh.series(sid).iloc[0] == 100.0 and sid not in fresh.problems
    monkeypatch.setattr(store_mod, "write_bytes_atomic", real)
    with seeded._locked():   # the next good write commits and sweeps the leftovers
        seeded._commit(dict(seeded._stage(sid, _frame(300.0), "csv")
                            for sid in ("A1", "B1", "C1")))
    fresh = DataStore(cache_dir=seeded.cache_dir)
    assert [fresh.series(s).iloc[0] for s in ("A1", "B1", "C1")] == [300.0] * 3
    names = sorted(p.name for p in (seeded.cache_dir / "series").iterdir())
    assert len(names) == 3 and not [n for n in names if n.startswith(".tmp")]


def test_a_kill_after_the_manifest_leaves_the_new_generation(seeded, monkeypatch):
    monkeypatch.setattr(DataStore, "_sweep", lambda self, meta: (_ for _ in ()).throw(Killed))
    with pytest.raises(Killed), seeded._locked():
        seeded._commit(dict(seeded._stage(sid, _frame(200.0), "csv")
                            for sid in ("A1", "B1", "C1")))
    fresh = DataStore(cache_dir=seeded.cache_dir)
    assert [fresh.series(s).iloc[0] for s in ("A1", "B1", "C1")] == [200.0] * 3


def test_a_damaged_manifest_is_rebuilt_without_dropping_checksums(seeded):
    (seeded.cache_dir / "meta.json").write_bytes(b"{garbage")
    fresh = DataStore(cache_dir=seeded.cache_dir)
    assert fresh.series("B1").iloc[0] == 100.0          # read back from the files
    with fresh._locked():
        fresh._commit(dict([fresh._stage("A1", _frame(500.0), "csv")]))
    meta = json.loads((seeded.cache_dir / "meta.json").read_text())
    assert sorted(meta) == ["A1", "B1", "C1"]
    assert all(len(meta[s]["sha256"]) == 64 for s in meta)
    assert DataStore(cache_dir=seeded.cache_dir).series("A1").iloc[0] == 500.0


def test_a_damaged_version_is_passed_over_and_the_scan_goes_on(seeded):
    """The manifest is unreadable and A1's file (the first in name order) does not match the
    checksum in its name: it is never chosen, and B1 and C1 are still read from theirs."""
    (seeded.cache_dir / "meta.json").write_bytes(b"{garbage")
    a1 = next((seeded.cache_dir / "series").glob("A1.*.csv"))
    a1.write_bytes(a1.read_bytes().replace(b"100.0", b"999.0", 1))
    fresh = DataStore(cache_dir=seeded.cache_dir)
    assert sorted(fresh._meta()) == ["B1", "C1"]
    assert fresh.series("C1").iloc[0] == 100.0 and "A1" not in fresh.available()


def test_an_imported_series_keeps_its_copy_until_the_new_one_is_committed(tmp_path,
                                                                          monkeypatch):
    st = DataStore(cache_dir=tmp_path / "cache")
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    st.import_csv(f)
    f.write_text("Date,MINE\n2024-01-02,5\n2024-01-03,6\n")
    real = store_mod.write_bytes_atomic
    monkeypatch.setattr(store_mod, "write_bytes_atomic", lambda p, d: (
        (_ for _ in ()).throw(Killed) if p.name == "meta.json" else real(p, d)))
    with pytest.raises(Killed):
        st.import_csv(f)
    assert DataStore(cache_dir=tmp_path / "cache").series("MINE").tolist() == [1.0, 2.0]


READER = """
import sys, time
from xlsmallcap.data.store import DataStore
st = DataStore(cache_dir=sys.argv[1])
seen, bad, t = set(), 0, time.monotonic()
while time.monotonic() - t < 6:
    for sid in ("A1", "B1", "C1"):
        s = st.series(sid)
        first = s.iloc[0]
        if not (s.diff().dropna() == 1.0).all() or sid in st.problems:
            bad += 1          # a torn or unverified read
        seen.add(first)
print(len(seen), bad)
"""

WRITER = """
import sys, pandas as pd
from xlsmallcap.data.store import DataStore
st = DataStore(cache_dir=sys.argv[1])
idx = pd.bdate_range("2024-01-01", periods=50)
for g in range(40):
    with st._locked():
        st._commit(dict(st._stage(sid, pd.Series([1000.0 * g + i for i in range(50)],
                                                  index=idx), "csv")
                        for sid in ("A1", "B1", "C1")))
"""


@pytest.mark.another_process
def test_a_reader_in_another_process_sees_whole_series_and_new_generations(seeded):
    cache = str(seeded.cache_dir)
    reader = subprocess.Popen([sys.executable, "-c", READER, cache], stdout=subprocess.PIPE,
                              text=True)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, cache])
    assert writer.wait(timeout=120) == 0
    out, _ = reader.communicate(timeout=120)
    generations, bad = map(int, out.split())
    assert bad == 0 and generations >= 2     # never torn, and newer generations picked up


def test_a_file_removed_between_the_look_and_the_read_is_looked_for_again(seeded, monkeypatch):
    """The reader has found A1's file; before it reads the bytes, another process commits a
    new generation and removes that file. The reader looks again and returns the new data: no
    "corrupt" note, no error (under load the reader in another process once hit this)."""
    reader = DataStore(cache_dir=seeded.cache_dir)
    reader._meta()                                   # the manifest of the first generation
    old = reader._file_of("A1")
    real = Path.read_bytes
    done = []

    def commit_first(path: Path) -> bytes:
        if path == old and not done:
            done.append(True)
            writer = DataStore(cache_dir=seeded.cache_dir)
            with writer._locked():
                writer._commit(dict([writer._stage("A1", _frame(300.0), "csv")]))
            assert not old.exists()
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", commit_first)
    assert reader.series("A1").iloc[0] == 300.0 and done
    assert reader.problems == {}


def test_a_generation_committed_just_after_the_manifest_is_read_is_read_whole(seeded):
    """The reader has read the manifest; before it looks for A1's file, another process
    commits a new generation. The file it looks for and the checksum it checks come from the
    same manifest, so it finds the old file gone, looks again and returns the new data (a
    file from the new manifest checked against the old checksum would be called corrupt)."""
    reader = DataStore(cache_dir=seeded.cache_dir)
    calls = []

    def read_then_commit() -> dict:
        meta = DataStore._meta(reader)
        # the call from _load (under mutmut its name is the mutant's, which holds "_load")
        if not calls and "_load" in sys._getframe(1).f_code.co_name:
            writer = DataStore(cache_dir=seeded.cache_dir)
            with writer._locked():
                writer._commit(dict([writer._stage("A1", _frame(500.0), "csv")]))
            calls.append(meta)
            manifest = seeded.cache_dir / "meta.json"   # a second later, past any clock tick
            t = manifest.stat().st_mtime_ns + 1_000_000_000
            os.utime(manifest, ns=(t, t))
        return meta

    reader._meta = read_then_commit
    assert reader.series("A1").iloc[0] == 500.0
    assert reader.problems == {} and len(calls) == 1


def test_a_file_replaced_at_every_read_ends_in_a_message_not_a_corrupt_note(seeded, monkeypatch):
    """A writer that replaces A1 between every look and read (six times running): the reader
    gives up with a message to try again, and does not call good data corrupt."""
    reader = DataStore(cache_dir=seeded.cache_dir)
    real = Path.read_bytes
    commits = []

    def commit_each_time(path: Path) -> bytes:
        if path.name.startswith("A1"):
            writer = DataStore(cache_dir=seeded.cache_dir)
            with writer._locked():
                writer._commit(dict([writer._stage("A1", _frame(400.0 + len(commits)),
                                                   "csv")]))
            commits.append(path)
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", commit_each_time)
    with pytest.raises(store_mod.DataError) as info:
        reader.series("A1")
    assert str(info.value) == ("the stored data for A1 keeps changing while it is read; "
                               "try again")
    assert len(commits) == 6 and "A1" not in reader.problems
    # the status says the same, not "corrupt"
    commits.clear()
    row = next(r for r in reader.status() if r.id == "A1")
    assert row.note == "the stored data for A1 keeps changing while it is read; try again"


def test_every_commit_changes_the_version_even_within_one_clock_tick(seeded):
    """The memo keys on the version: two commits whose manifest keeps one mtime (a coarse
    file-system clock) must still give three different versions."""
    import os

    meta = seeded.cache_dir / "meta.json"
    versions = [seeded.version()]
    stamp = meta.stat().st_mtime_ns
    for tag in (200.0, 300.0):
        with seeded._locked():
            seeded._commit(dict([seeded._stage("A1", _frame(tag), "csv")]))
        os.utime(meta, ns=(stamp, stamp))
        versions.append(seeded.version())
    assert len(set(versions)) == 3


def test_a_new_generation_committed_within_the_same_clock_tick_is_found(seeded):
    """Another process commits a new generation of A1 and the manifest keeps its mtime (a
    coarse file-system clock): this reader's parsed manifest is stale and names a file that is
    gone; the reader looks again and finds the new data."""
    import os

    reader = DataStore(cache_dir=seeded.cache_dir)
    assert reader.series("A1").iloc[0] == 100.0
    meta = seeded.cache_dir / "meta.json"
    stamp = meta.stat().st_mtime_ns
    writer = DataStore(cache_dir=seeded.cache_dir)
    with writer._locked():
        writer._commit(dict([writer._stage("A1", _frame(200.0), "csv")]))
    os.utime(meta, ns=(stamp, stamp))
    assert reader.series("A1").iloc[0] == 200.0 and reader.problems == {}
