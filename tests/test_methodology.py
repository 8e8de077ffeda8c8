"""docs/methodology.md shows the figures the code gives."""

from __future__ import annotations

from conftest import ROOT

from xlsmallcap.episodes import episode_table


def test_episode_table_in_the_doc_matches_the_code():
    doc = (ROOT / "docs" / "methodology.md").read_text()
    assert episode_table() in doc


def test_track_record_in_the_doc_matches_the_code():
    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data
    from xlsmallcap.track_view import markdown

    doc = (ROOT / "docs" / "methodology.md").read_text()
    table = doc.split("<!-- track-record:start -->\n")[1].split("<!-- track-record:end -->")[0]
    assert table == markdown(api.track_records(use_embedded_data()))


def test_the_doc_states_no_wrong_arithmetic():
    doc = (ROOT / "docs" / "methodology.md").read_text()
    assert "44 of 63" not in doc and "about 5/63" not in doc
    assert "45 of 63" in doc and 45 / 63 >= 0.70 > 44 / 63
