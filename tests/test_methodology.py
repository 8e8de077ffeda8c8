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


def test_easing_cycle_table_in_the_doc_matches_the_code():
    """The net flows after each first cut, as the doc's table gives them (the same rounding)."""
    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data

    use_embedded_data()
    doc = (ROOT / "docs" / "methodology.md").read_text()
    for e in api.easing():
        after = " | ".join(f"{e.after[h][1]:+.1%}" for h in (13, 26, 52))
        row = f"| {e.cycle.first_cut:%Y-%m-%d} | {e.hike_inflow_bn:+.1f} | {after} |"
        assert row in doc, row
