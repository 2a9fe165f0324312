"""The vectorised engine against a literal, row-by-row reading of scoring.md on a random small city."""

import math

import numpy as np
import pandas as pd

import scoring

MIN_N = {"grassroots": 5, "leader": 1, "peer": 3, "self": 1, "deputy": 3, "expert": 3}


def random_city(make_inputs, base_questions, seed=11):
    rng = np.random.default_rng(seed)
    codes = [f"U{i:02d}" for i in range(12)]
    units = [
        {"code": c, "category": "abc"[i % 3], "establishment": 40.0, "actual_staff": 30.0} for i, c in enumerate(codes)
    ]
    questions = base_questions.assign(weight=rng.choice([0.5, 1.0, 2.0], len(base_questions)))
    groups = {
        "grassroots": "grassroots",
        "leader": "leader",
        "peer": "department",
        "self": "department",
        "deputy": "deputy",
        "expert": "expert",
    }
    rows = []
    for q in questions.itertuples():
        for rater in range(8):
            for unit in codes:
                if rng.random() < 0.45:
                    continue
                answer = float(rng.integers(0, 101) if q.type == "score100" else rng.integers(1, 6))
                rows.append(
                    {
                        "rater": f"{q.instrument}{rater}",
                        "group": groups[q.instrument],
                        "instrument": q.instrument,
                        "unit": unit,
                        "question": q.question,
                        "answer": np.nan if rng.random() < 0.15 else answer,
                        "version": int(rng.integers(1, 3)),
                    }
                )
    institution = [{"unit": c, "score": float(rng.uniform(40, 100))} for c in codes if rng.random() < 0.7]
    inputs = make_inputs(units=units, questions=questions, answers=rows, institution=institution)
    return inputs, pd.DataFrame(rows)


def literal_leaf(inputs, answers, leaf, unit):
    """One questionnaire leaf of one unit from the raw answer rows, as the steps of scoring.md read."""
    a = answers[(answers["instrument"] == leaf.source) & (answers["unit"] == unit)]
    questions = inputs.questions.set_index(["instrument", "question"])
    scores = []
    for _, response in a.groupby("rater"):
        response = response[response["version"] == response["version"].max()]  # latest response only
        total = weight = 0.0
        for row in response.itertuples():
            q = questions.loc[(row.instrument, row.question)]
            if (leaf.theme is not None and q["theme"] != leaf.theme) or math.isnan(row.answer):
                continue
            points = (row.answer - 1) * 25 if q["type"] == "likert5" else row.answer
            total += q["weight"] * points
            weight += q["weight"]
        if weight > 0:
            scores.append(total / weight)
    if len(scores) == 0 or len(scores) < MIN_N[leaf.source]:
        return np.nan
    kept = sorted(scores)[1:-1] if len(scores) >= 5 else scores
    return sum(kept) / len(kept)


def test_engine_matches_a_literal_reading(make_inputs, base_questions, only_leaves):
    """Do leaf values, composite, ranks and grades equal a row-by-row implementation of scoring.md?"""
    weights = {
        "expert": 20,
        "grassroots_territorial": 10,
        "grassroots_response": 10,
        "leader": 20,
        "peer": 15,
        "deputy": 10,
        "self": 5,
        "institution": 10,
    }
    scheme = only_leaves(weights, sensitivity={"draws": 0})
    inputs, answers = random_city(make_inputs, base_questions)
    result = scoring.compute(inputs, scheme)
    wide = scoring.wide_leaves(result)
    codes = list(inputs.units["code"])
    expected = pd.DataFrame(index=codes, columns=list(weights), dtype=float)
    institution = inputs.institution.set_index("unit")["score"]
    for leaf in scheme.leaves:
        if leaf.id in weights:
            for unit in codes:
                expected.loc[unit, leaf.id] = (
                    literal_leaf(inputs, answers, leaf, unit)
                    if leaf.is_questionnaire
                    else institution.get(unit, np.nan)
                )
    pd.testing.assert_frame_equal(wide.loc[codes, list(weights)], expected, check_names=False)
    assert expected.isna().any().any() and expected.notna().sum().sum() > 40  # both cases occur

    have = expected.notna()
    w = pd.Series(weights)
    base = (expected.fillna(0) * w).sum(axis=1) / have.mul(w).sum(axis=1)
    units = result.units.set_index("unit").loc[codes]
    np.testing.assert_allclose(units["composite"].to_numpy(dtype=float), base.clip(0, 100).to_numpy(dtype=float))
    for _category, members in inputs.units.groupby("category"):
        order = sorted(members["code"], key=lambda c: (-round(base[c], 2), c))
        n = len(order)
        for rank, code in enumerate(order, start=1):
            grade = (
                "excellent"
                if rank <= math.floor(0.2 * n)
                else "poor"
                if base[code] < 60 or rank > n - math.floor(0.1 * n)
                else "good"
                if base[code] >= 80
                else "fair"
            )
            assert (units.loc[code, "rank"], units.loc[code, "grade"]) == (rank, grade), code
