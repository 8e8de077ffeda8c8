"""docs/methodology.md shows the figures the code gives."""

from __future__ import annotations

from conftest import ROOT

from xlsmallcap.episodes import episode_table


def test_episode_table_in_the_doc_matches_the_code():
    doc = (ROOT / "docs" / "methodology.md").read_text()
    assert episode_table() in doc
