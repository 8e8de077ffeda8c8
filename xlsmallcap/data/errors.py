"""Errors of the data layer, worded for the person who will read them."""

from __future__ import annotations


class DataError(Exception):
    """Base class: anything the data layer reports to a user."""


class UnknownSeriesError(DataError, KeyError):
    """A ticker or series id that is neither in the snapshot nor in the cache."""

    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        super().__init__(name)

    def __str__(self) -> str:
        return (f"unknown ticker or series '{self.name}'; available offline: "
                f"{', '.join(self.available)}")

    def __reduce__(self):
        """Picklable, so that it crosses a process boundary (batch workers)."""
        return (UnknownSeriesError, (self.name, self.available))


class LiveDataError(DataError):
    """A live download failed or returned something unusable; nothing was written."""
