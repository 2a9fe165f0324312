"""Does load_definition refuse bad definitions with precise messages naming the path?"""

import pytest

from surveys import DefinitionError, load_all, load_definition


def problems_of(data, source="leader.yaml", **kw):
    with pytest.raises(DefinitionError) as info:
        load_definition(data, source=source, **kw)
    return info.value.problems


def _set(path, value):
    def change(d):
        *parents, last = path
        for p in parents:
            d = d[p]
        d[last] = value

    return change


def _delete(path):
    def change(d):
        *parents, last = path
        for p in parents:
            d = d[p]
        del d[last]

    return change


CASES = [
    (
        _set(("questions", 3, "type"), "likert7"),
        "leader.yaml: questions[3].type: unknown type 'likert7' (expected likert5, score100)",
    ),
    (
        _set(("questions", 1, "id"), "l01"),
        "leader.yaml: questions[1].id: duplicate id 'l01' (first used at questions[0])",
    ),
    (
        _set(("questions", 1, "id"), "L 1"),
        "leader.yaml: questions[1].id: invalid id 'L 1' (lowercase ascii letters, digits and _, "
        "starting with a letter, at most 32 characters)",
    ),
    (_delete(("questions", 2, "text")), "leader.yaml: questions[2].text: missing"),
    (_set(("questions", 2, "text"), "  "), "leader.yaml: questions[2].text: empty"),
    (_set(("questions", 0, "weight"), 0), "leader.yaml: questions[0].weight: expected a positive number, got number 0"),
    (
        _set(("questions", 0, "weight"), -1),
        "leader.yaml: questions[0].weight: expected a positive number, got number -1",
    ),
    (_set(("questions", 0, "weight"), "2"), "leader.yaml: questions[0].weight: expected a positive number, got '2'"),
    (
        _set(("questions", 0, "weight"), True),
        "leader.yaml: questions[0].weight: expected a positive number, got boolean True",
    ),
    (
        _set(("questions", 0, "theme"), "dutty"),
        "leader.yaml: questions[0].theme: unknown theme 'dutty' (expected one of duty, integrity); "
        "did you mean 'duty'?",
    ),
    (
        _set(("questions", 0, "wieght"), 2),
        "leader.yaml: questions[0].wieght: unknown key 'wieght' (expected one of id, theme, type, weight, "
        "text, help); did you mean 'weight'?",
    ),
    (
        _set(("rater_group",), "leaders"),
        "leader.yaml: rater_group: unknown rater_group 'leaders' (expected grassroots, leader, department, "
        "deputy, expert); did you mean 'leader'?",
    ),
    (
        _set(("rater_group",), "expert"),
        "leader.yaml: rater_group: 'expert' is inconsistent with key 'leader' "
        "(leader is answered by rater group leader)",
    ),
    (
        _set(("targets",), "own_unit"),
        "leader.yaml: targets: 'own_unit' is inconsistent with key 'leader' "
        "(leader must be all_units: its raters rate every unit)",
    ),
    (
        _set(("targets",), "everyone"),
        "leader.yaml: targets: unknown targets 'everyone' (expected all_units, other_units, own_unit)",
    ),
    (_set(("version",), 0), "leader.yaml: version: expected a whole number of at least 1, got number 0"),
    (_set(("version",), "1"), "leader.yaml: version: expected a whole number of at least 1, got '1'"),
    (_set(("version",), 1.5), "leader.yaml: version: expected a whole number of at least 1, got number 1.5"),
    (_delete(("version",)), "leader.yaml: version: missing"),
    (
        _set(("titel",), "x"),
        "leader.yaml: titel: unknown top-level key 'titel' (expected one of key, version, title, "
        "rater_group, targets, intro, allow_na, na_label, themes, scales, questions); did you mean 'title'?",
    ),
    (_delete(("title",)), "leader.yaml: title: missing"),
    (_delete(("intro",)), "leader.yaml: intro: missing"),
    (
        _set(("key",), "Leader!"),
        "leader.yaml: key: invalid instrument key 'Leader!' (lowercase ascii letters, digits and _, "
        "starting with a letter, at most 32 characters)",
    ),
    (_set(("allow_na",), "yes please"), "leader.yaml: allow_na: expected true or false, got 'yes please'"),
    (_set(("themes", "spare"), "备用"), "leader.yaml: themes.spare: not used by any question"),
    (_set(("themes",), ["duty"]), "leader.yaml: themes: expected a mapping, got list"),
    (_set(("questions",), []), "leader.yaml: questions: empty (at least one question is needed)"),
    (_set(("questions", 0), "l01"), "leader.yaml: questions[0]: expected a mapping, got 'l01'"),
    (_delete(("scales", "score100")), "leader.yaml: questions[1].type: type 'score100' has no scale under scales"),
    (_delete(("scales", "likert5", "labels", 3)), "leader.yaml: scales.likert5.labels: missing label for 3"),
    (
        _set(("scales", "likert5", "labels", 6), "超级满意"),
        "leader.yaml: scales.likert5.labels.6: not a choice of likert5 (expected 1-5)",
    ),
    (
        _set(("scales", "score100", "max"), 10),
        "leader.yaml: scales.score100.max: must be 100 for score100, got number 10",
    ),
    (
        _set(("scales", "likert7"), {"labels": {}}),
        "leader.yaml: scales.likert7: unknown type 'likert7' (expected likert5, score100); did you mean 'likert5'?",
    ),
]


def test_minimal_definition_is_valid(minimal):
    """Does the fixture the other cases break load cleanly, defaults filled in?"""
    d = load_definition(minimal)
    assert d.question("l03").weight == 1.0
    assert [q.id for q in d.questions] == ["l01", "l02", "l03", "l04"]


@pytest.mark.parametrize(("change", "message"), CASES, ids=[m.split(": ", 1)[1] for _, m in CASES])
def test_bad_definition_message(minimal, change, message):
    """Is each kind of mistake reported with its exact path and reason?"""
    change(minimal)
    assert message in problems_of(minimal)


def test_peer_must_target_other_units(minimal):
    """Is a peer instrument that could let a department rate itself refused?"""
    minimal.update(key="peer", rater_group="department", targets="all_units")
    assert problems_of(minimal, source="peer.yaml") == [
        "peer.yaml: targets: 'all_units' is inconsistent with key 'peer' "
        "(peer must be other_units: a department never rates its own unit)"
    ]


def test_self_must_target_own_unit(minimal):
    """Is a self-review instrument aimed at other units refused?"""
    minimal.update(key="self", rater_group="department", targets="other_units")
    assert problems_of(minimal, source="self.yaml") == [
        "self.yaml: targets: 'other_units' is inconsistent with key 'self' "
        "(self must be own_unit: a department rates only its own unit)"
    ]


def test_unit_targets_need_department_raters(minimal):
    """May a new instrument target the rater's own unit for raters who have no unit? (No.)"""
    minimal.update(key="pilot", targets="own_unit")
    assert problems_of(minimal, source="pilot.yaml") == [
        "pilot.yaml: targets: 'own_unit' needs rater_group department (only department raters belong "
        "to a unit), got 'leader'"
    ]


def test_grassroots_themes_are_exactly_the_four(minimal):
    """Must the grassroots instrument use exactly the four scored themes?"""
    minimal.update(key="grassroots", rater_group="grassroots")
    problems = problems_of(minimal, source="grassroots.yaml")
    assert (
        "grassroots.yaml: themes.duty: not a grassroots theme (grassroots themes are exactly "
        "territorial, response, burden, support)" in problems
    )
    assert "grassroots.yaml: themes: missing grassroots theme 'burden' (为镇街减负)" in problems


def test_every_problem_is_reported_at_once(minimal):
    """Are all problems of a file listed together, not just the first?"""
    minimal["version"] = 0
    minimal["questions"][0]["type"] = "likert7"
    minimal["questions"][2]["text"] = ""
    problems = problems_of(minimal)
    assert len(problems) == 3
    assert str(DefinitionError(problems)).count("\n") == 2


def test_key_must_match_file_name(minimal):
    """Is a definition whose key differs from its file name refused?"""
    assert problems_of(minimal, source="expert.yaml", expected_key="expert") == [
        "expert.yaml: key: 'leader' does not match the file name (expected 'expert')"
    ]


def test_yaml_duplicate_key_is_an_error():
    """Is a key written twice in the YAML refused rather than silently overwritten?"""
    text = "key: leader\nversion: 1\ntitle: a\ntitle: b\n"
    assert problems_of(text) == ["leader.yaml: line 4: duplicate key 'title' (only one is allowed)"]


def test_yaml_syntax_error_names_the_line():
    """Does a YAML syntax error give the line and column?"""
    problems = problems_of("key: leader\nquestions: [\n  - id: a\n")
    assert len(problems) == 1
    assert problems[0].startswith("leader.yaml: line ")
    assert "YAML syntax error" in problems[0]


def test_top_level_must_be_a_mapping():
    """Is a file that is a list, not a mapping, refused?"""
    assert problems_of("- a\n- b\n")[0].startswith("leader.yaml: expected a mapping of key, version")


def test_load_all_gathers_problems_of_every_file(tmp_path, minimal):
    """Does load_all report the problems of all bad files together?"""
    (tmp_path / "leader.yaml").write_text("key: leader\nversion: 0\n", encoding="utf-8")
    (tmp_path / "deputy.yaml").write_text("- nope\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_all(tmp_path)
    sources = {p.split(":", 1)[0] for p in info.value.problems}
    assert sources == {"leader.yaml", "deputy.yaml"}
