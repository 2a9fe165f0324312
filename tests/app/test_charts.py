"""The shared SVG charts (console results page and printed report)."""

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import scoring
from assessment.charts import heat_colour, heat_map, ranking_chart

SVG = "{http://www.w3.org/2000/svg}"


def _row(rank, name, composite, grade, leaves=None):
    return SimpleNamespace(rank=rank, unit_name=name, composite=composite, grade=grade, leaves=leaves or {})


def _texts(svg):
    root = ET.fromstring(str(svg))
    # A text's own words, without its <title> tooltip.
    return [(t.text or "") + "".join(child.tail or "" for child in t) for t in root.iter(f"{SVG}text")]


def test_ranking_chart_writes_every_unit_with_the_one_rounding():
    """Does the ranking chart name every unit with its composite rounded half up, and mark a unit without data?"""
    rows = [_row(1, "甲局", 54.125, "fair"), _row(2, "乙局", 41.0, "poor"), _row(None, "丙局", None, None)]
    texts = _texts(ranking_chart(rows, lines=(60, 80)))
    assert "1 甲局" in texts and "2 乙局" in texts and "丙局" in texts
    assert "54.13" in texts and "41.00" in texts
    assert "无数据" in texts
    assert "60" in texts and "80" in texts  # the grade lines are labelled
    moved = _texts(ranking_chart(rows, lines=(55, 85.5)))
    assert "55" in moved and "85.5" in moved and "60" not in moved  # the lines are the scheme's, not fixed


def test_ranking_chart_cuts_long_names_but_keeps_them_in_the_tooltip():
    """Does a long unit name fit its column with an ellipsis while its tooltip keeps the whole name?"""
    name = "诸城市某某某某某某某某某某某某某某管理局"
    svg = str(ranking_chart([_row(1, name, 90.0, "excellent")], label_width=100, lines=(60, 80)))
    texts = _texts(svg)
    assert any(t.endswith("…") and len(t) < len(name) for t in texts)
    assert f"<title>{name}</title>" in svg


def test_heat_map_never_prints_a_number_for_a_group_under_its_minimum():
    """Does a suppressed leaf show 不足 (never a score), a missing one a dash, and a deduction leaf no column?"""
    scheme = scoring.load_scheme(scoring.default_scheme_text())
    leaves = {leaf.id: {"value": 77.5} for leaf in scheme.leaves}
    leaves["deputy"] = {"value": None, "raw": 12.34, "n": 2, "suppressed": True}
    leaves["public"] = {"value": None}
    svg = heat_map([_row(1, "甲局", 80.0, "good", leaves)], scheme.leaves)
    texts = _texts(svg)
    weighted = [leaf for leaf in scheme.leaves if not leaf.is_deduction]
    assert texts.count("不足") == 1 and texts.count("—") == 1
    assert texts.count("78") == len(weighted) - 2  # 77.5 rounds half up to 78
    assert not any("问题扣分" in t for t in texts)
    assert "12" not in " ".join(texts)


def test_heat_colours_run_from_red_to_green():
    """Is a low score reddish, a high score greenish, and no score grey?"""
    low, high = heat_colour(45), heat_colour(95)
    assert int(low[1:3], 16) > int(low[3:5], 16)  # more red than green
    assert int(high[3:5], 16) > int(high[1:3], 16)
    assert heat_colour(None) == "#eef2f7"


def test_charts_have_nothing_to_draw_without_rows():
    """Do the charts return None (no empty drawing) when there are no rows?"""
    scheme = scoring.load_scheme(scoring.default_scheme_text())
    assert ranking_chart([], lines=(60, 80)) is None
    assert heat_map([], scheme.leaves) is None
