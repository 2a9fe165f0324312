"""The scheme: the packaged default and the validation messages."""

import pytest
import yaml

import scoring
from scoring.scheme import SchemeError
from scoring.scheme_loader import default_scheme, load_scheme

DEFAULT_IDS = [
    "checkpoints",
    "expert",
    "grassroots_territorial",
    "grassroots_response",
    "grassroots_burden",
    "grassroots_support",
    "public",
    "leader",
    "peer",
    "deputy",
    "self",
    "institution",
    "problems",
    "overdue",
]


def errors_of(text: str) -> list[str]:
    with pytest.raises(SchemeError) as info:
        load_scheme(text)
    return info.value.messages


def default_data():
    return yaml.safe_load(scoring.default_scheme_text())


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


def test_default_scheme_is_the_method_of_scoring_md():
    """Does the packaged default scheme hold the 14 leaves, weights and settings of scoring.md?"""
    s = default_scheme()
    assert [leaf.id for leaf in s.leaves] == DEFAULT_IDS
    weights = {leaf.id: leaf.weight for leaf in s.leaves}
    assert weights == {
        "checkpoints": 25,
        "expert": 10,
        "grassroots_territorial": 5,
        "grassroots_response": 5,
        "grassroots_burden": 5,
        "grassroots_support": 5,
        "public": 15,
        "leader": 10,
        "peer": 8,
        "deputy": 5,
        "self": 2,
        "institution": 5,
        "problems": 0,
        "overdue": 0,
    }
    assert sum(leaf.weight for leaf in s.leaves) == 100
    assert len({leaf.level1 for leaf in s.leaves}) == 3  # 核心业务 / 评价指标 / 负面指标
    assert len({(leaf.level1, leaf.level2) for leaf in s.leaves}) == 11
    burden = s.leaf("grassroots_burden")
    assert burden.theme == "burden" and burden.source == "grassroots"
    assert s.leaf("checkpoints").level1 == "核心业务"
    assert s.min_n == {"grassroots": 5, "leader": 1, "peer": 3, "self": 1, "deputy": 3, "expert": 3}
    assert s.answer_points == {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}
    assert (s.public.method, s.public.m, s.public.z, s.public.count_defaults) == ("bayes", 30, 1.96, False)
    assert s.deduction.points == {"general": 0.5, "serious": 1, "grave": 2}
    assert (s.deduction.cap, s.bonus_cap, s.coverage_min) == (10, 3, 0.65)
    assert (s.trimming.method, s.trimming.from_n) == ("one_each", 5)
    sens = s.sensitivity
    assert (sens.draws, sens.m_choices, sens.weight_spread) == (1000, (15, 30, 60), 0.25)
    assert (sens.trim_probability, sens.review_below) == (0.5, 0.8)
    assert s.rater_effect is False and all(leaf.rank_step is None for leaf in s.leaves)


def test_fingerprint_ignores_layout_but_not_content():
    """Is the fingerprint the same for a reformatted scheme and different for a changed weight?"""
    data = default_data()
    assert load_scheme(dump(data)).fingerprint == default_scheme().fingerprint
    data["leaves"][0]["weight"], data["leaves"][1]["weight"] = 24, 11
    assert load_scheme(dump(data)).fingerprint != default_scheme().fingerprint


def test_settings_left_out_take_the_defaults():
    """Does a scheme with only leaves get the default method's settings?"""
    s = load_scheme(dump({"leaves": default_data()["leaves"]}))
    assert s.min_n == default_scheme().min_n and s.public.m == 30 and s.deduction.cap == 10


def test_negative_weight_and_weight_sum_are_reported():
    """Are a negative weight and a wrong weight sum both reported, with the leaf's index?"""
    data = default_data()
    data["leaves"][3]["weight"] = -5  # positives now add up to 100 - 5 = 95
    assert errors_of(dump(data)) == ["leaves[3].weight: must be >= 0", "positive weights add up to 95, expected 100"]


def test_unknown_source_and_theme_are_reported():
    """Are an unknown source and an unknown theme reported with the expected values?"""
    data = default_data()
    data["leaves"][0]["source"] = "foo"
    data["leaves"][2]["theme"] = "xyz"
    messages = errors_of(dump(data))
    assert any("unknown leaf source 'foo'" in m and m.startswith("leaves[0].source: ") for m in messages)
    expected = "leaves[2].theme: unknown theme 'xyz' (expected territorial, response, burden, support)"
    assert expected in messages


def test_negative_cap_and_other_settings_are_reported_together():
    """Does one SchemeError list every bad setting?"""
    data = default_data()
    data["deduction"]["cap"] = -1
    data["min_n"]["panel"] = 2
    data["public"]["method"] = "median"
    data["trimming"]["proportion"] = 0.5
    data["sensitivity"]["draws"] = 1.5
    data["colour"] = "red"
    messages = errors_of(dump(data))
    assert "deduction.cap: must not be negative" in messages
    expected = "min_n: unknown instrument 'panel' (expected grassroots, leader, peer, self, deputy, expert)"
    assert expected in messages
    assert "public.method: unknown value 'median' (expected bayes, wilson)" in messages
    assert "trimming.proportion: must be < 0.5" in messages
    assert "sensitivity.draws: must be a whole number" in messages
    assert any(m.startswith("unknown key 'colour'") for m in messages)
    assert len(messages) == 6


def test_leaf_structure_errors():
    """Are duplicate ids, missing weights, weighted deductions and misplaced themes reported?"""
    data = default_data()
    data["leaves"][1]["id"] = "checkpoints"
    del data["leaves"][7]["weight"]  # leader: 10 points gone from the sum as well
    data["leaves"][12]["weight"] = 3
    data["leaves"][11]["theme"] = "burden"
    data["leaves"].append({"id": "overdue2", "source": "overdue"})
    messages = errors_of(dump(data))
    assert "leaves[1].id: duplicate id 'checkpoints'" in messages
    assert "leaves[7].weight: is required" in messages
    assert "leaves[12].weight: a deduction leaf takes no weight" in messages
    assert "leaves[11].theme: only questionnaire leaves have a theme" in messages
    assert "leaves[14].source: 'overdue' may appear only once" in messages
    assert "positive weights add up to 90, expected 100" in messages


def test_answer_point_table_must_cover_1_to_5_and_not_decrease():
    """Is an answer-point table that skips a level or decreases rejected?"""
    data = default_data()
    data["answer_points"] = {1: 0, 2: 30, 3: 60, 4: 80}
    assert errors_of(dump(data)) == ["answer_points: must give points for exactly 1, 2, 3, 4, 5"]
    data["answer_points"] = {1: 0, 2: 30, 3: 20, 4: 80, 5: 100}
    assert errors_of(dump(data)) == ["answer_points: points must not decrease as the answer rises"]


def test_not_yaml_and_not_a_mapping():
    """Are broken YAML and a non-mapping document rejected with a message?"""
    assert errors_of("leaves: [")[0].startswith("not valid YAML")
    assert errors_of("- 1\n- 2") == ["the scheme must be a YAML mapping"]
    assert errors_of("name: x") == ["leaves: must be a non-empty list"]


def test_scheme_error_is_a_value_error_with_all_messages_in_its_text():
    """Does str(SchemeError) show every message?"""
    error = SchemeError(["a: x", "b: y"])
    assert isinstance(error, ValueError)
    assert "- a: x" in str(error) and "- b: y" in str(error)
