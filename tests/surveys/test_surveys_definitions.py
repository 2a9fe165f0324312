"""The shipped questionnaire definitions, the instruments CSV and dump/load round trips."""

import csv
import io

import pytest

from surveys import (
    CSV_COLUMNS,
    GRASSROOTS_THEMES,
    INSTRUMENT_ORDER,
    KNOWN_INSTRUMENTS,
    InstrumentDefinition,
    default_directory,
    dump_definition,
    instrument_rows,
    load_all,
    load_definition,
    load_file,
    write_instruments_csv,
)


@pytest.fixture(scope="module")
def defs():
    return load_all()


def test_all_six_shipped_definitions_load(defs):
    """Do the six shipped files load, in the standard order, with the expected question counts?"""
    assert list(defs) == list(INSTRUMENT_ORDER)
    counts = {key: len(d.questions) for key, d in defs.items()}
    assert counts == {"grassroots": 16, "leader": 6, "peer": 6, "self": 6, "deputy": 6, "expert": 8}


def test_shipped_definitions_match_the_scoring_spec(defs):
    """Does each instrument have the rater group, targets and version the scoring spec expects?"""
    for key, d in defs.items():
        assert (d.rater_group, d.targets) == KNOWN_INSTRUMENTS[key]
        assert d.version == 1
        assert d.allow_na and d.na_label == "不了解"
        assert "汇总" in d.intro and ("不记名" in d.intro or "匿名" in d.intro)
        assert dict(d.scales["likert5"].labels) == {
            5: "非常满意",
            4: "满意",
            3: "基本满意",
            2: "不满意",
            1: "非常不满意",
        }


def test_grassroots_has_four_questions_per_theme(defs):
    """Does the grassroots questionnaire cover each of the four scored themes with four questions?"""
    g = defs["grassroots"]
    assert dict(g.themes) == dict(GRASSROOTS_THEMES)
    for theme in GRASSROOTS_THEMES:
        assert len(g.questions_for_theme(theme)) == 4


def test_some_weights_and_score100_questions_exist(defs):
    """Is at least one weight not 1, and does the expert form use score100?"""
    assert any(q.weight != 1 for d in defs.values() for q in d.questions)
    assert {q.type for q in defs["expert"].questions} == {"likert5", "score100"}


def test_question_lookup(defs):
    """Does question(id) find a question and refuse an unknown id?"""
    g = defs["grassroots"]
    assert g.question("g05").theme == "response"
    with pytest.raises(KeyError):
        g.question("g99")


def test_accepts_target():
    """Does peer review refuse a department rating itself, and self review refuse other units?"""
    defs = load_all()
    assert defs["peer"].accepts_target("U01", "U02")
    assert not defs["peer"].accepts_target("U01", "U01")
    assert defs["self"].accepts_target("U01", "U01")
    assert not defs["self"].accepts_target("U01", "U02")
    assert defs["grassroots"].accepts_target(None, "U02")


def test_instrument_rows(defs):
    """Are the CSV rows ordered by instrument then file order, with the known first row?"""
    rows = instrument_rows(defs)
    assert len(rows) == 48
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == {
        "instrument": "grassroots",
        "question": "g01",
        "theme": "territorial",
        "type": "likert5",
        "weight": 1,
        "text": "该单位严格按照属地管理责任清单履行主体责任，不把应由本部门承担的工作推给镇街",
    }
    order = [r["instrument"] for r in rows]
    assert sorted(set(order), key=order.index) == list(INSTRUMENT_ORDER)
    # The order does not depend on how the definitions were passed in.
    assert instrument_rows(reversed(list(defs.values()))) == rows


def test_write_instruments_csv(defs):
    """Does the CSV have exactly the contract's header and one line per question?"""
    buf = io.StringIO()
    write_instruments_csv(defs, buf)
    text = buf.getvalue()
    assert text.splitlines()[0] == "instrument,question,theme,type,weight,text"
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 48
    expert_row = next(r for r in parsed if r["question"] == "e02")
    assert expert_row == {
        "instrument": "expert",
        "question": "e02",
        "theme": "duty",
        "type": "score100",
        "weight": "2",
        "text": "请对该单位年度核心业务和问效点的完成质量打分（0-100分）",
    }


def test_csv_neutralises_formula_text(minimal):
    """Is question text starting with = written so that Excel does not run it?"""
    minimal["questions"][0]["text"] = '=HYPERLINK("x")'
    buf = io.StringIO()
    write_instruments_csv([load_definition(minimal)], buf)
    assert "'=HYPERLINK" in buf.getvalue()


@pytest.mark.parametrize("key", INSTRUMENT_ORDER)
def test_round_trip_shipped(defs, key):
    """Does dumping a shipped definition and loading it back give the same definition?"""
    d = defs[key]
    text = dump_definition(d)
    assert load_definition(text, source=f"{key}.yaml") == d
    assert load_definition(d.to_dict()) == d


def test_round_trip_keeps_help_and_fractional_weight(minimal):
    """Do help texts and a 1.5 weight survive dump/load?"""
    d = load_definition(minimal)
    again = load_definition(dump_definition(d))
    assert again == d
    assert again.question("l03").help == "说明"
    assert again.question("l04").weight == 1.5
    assert "weight: 1.5" in dump_definition(d)


def test_definition_is_immutable(minimal):
    """Can a loaded definition be changed in place? (It must not.)"""
    d = load_definition(minimal)
    with pytest.raises(AttributeError):
        d.title = "x"
    with pytest.raises(TypeError):
        d.themes["x"] = "y"
    assert isinstance(hash(d), int)


def test_load_all_from_a_directory(tmp_path, minimal):
    """Does load_all read a given directory and load_file check the key against the file name?"""
    (tmp_path / "leader.yaml").write_text(dump_definition(load_definition(minimal)), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    loaded = load_all(tmp_path)
    assert list(loaded) == ["leader"]
    assert isinstance(loaded["leader"], InstrumentDefinition)
    assert load_file(str(tmp_path / "leader.yaml")) == loaded["leader"]
    assert default_directory().joinpath("grassroots.yaml").is_file()
