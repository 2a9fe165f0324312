"""Independent cross-check of the engine against spec/scoring.md (the default method).

The reference below is written from scoring.md alone, row by row with plain Python loops and exact
``Fraction`` arithmetic; it does not use the engine's code or the scheme object (the default scheme's numbers
are restated from the spec). Random small cities (seeded) are scored by both and every per-unit number the
spec defines is compared: leaf values and n, base, deduction, bonus, composite, coverage, rank, grade,
assessment points, establishment action, suggested reduction, approval linkage and contributions; the
sensitivity analysis is redone with the reference. The tests at the end reproduce the discrepancies the
cross-check once found (engine floats vs the exact arithmetic of the spec), fixed since, so they stay fixed.

Assumptions where scoring.md is silent (see the report of the cross-check):
- ``round(x, 2)`` is applied to the exact value, ties away from zero (四舍五入, the engine's documented
  choice; Python's half-even would differ on e.g. 4 x 49.125 / 100 = 1.965). Inputs are read as the decimals
  the office typed (``D``), not as the binary floats that carry them.
- Percentiles of the sensitivity ranks: numpy's default linear interpolation.
- A unit with no leaf value has no composite, no rank and no grade; ``N`` of its category counts the units
  that have a composite.
- "Still open past its deadline on as_of": ``deadline < as_of`` and (``closed_on`` empty or after as_of).
- Unknown establishment or actual staff: suggested reduction 0.
- "Mean of S_l over the category" (contribution): over the category's units that have a value for the leaf.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import defaultdict
from fractions import Fraction as F

import numpy as np
import pandas as pd

import scoring

SCHEME_TEXT = scoring.default_scheme_text().replace("draws: 1000", "draws: 10")
assert SCHEME_TEXT != scoring.default_scheme_text()
SCHEME = scoring.load_scheme(SCHEME_TEXT)

# ---------------------------------------------------------------- the default method, restated from the spec
THEMES = ("territorial", "response", "burden", "support")
#: (leaf id, source, theme, weight); deduction leaves are handled apart.
POSITIVE = [
    ("checkpoints", "checkpoints", None, 25),
    ("expert", "expert", None, 10),
    ("grassroots_territorial", "grassroots", "territorial", 5),
    ("grassroots_response", "grassroots", "response", 5),
    ("grassroots_burden", "grassroots", "burden", 5),
    ("grassroots_support", "grassroots", "support", 5),
    ("public", "public", None, 15),
    ("leader", "leader", None, 10),
    ("peer", "peer", None, 8),
    ("deputy", "deputy", None, 5),
    ("self", "self", None, 2),
    ("institution", "institution", None, 5),
]
INSTRUMENTS = ("grassroots", "leader", "peer", "self", "deputy", "expert")
GROUP = {
    "grassroots": "grassroots",
    "leader": "leader",
    "peer": "department",
    "self": "department",
    "deputy": "deputy",
    "expert": "expert",
}
MIN_N = {"grassroots": 5, "peer": 3, "deputy": 3, "expert": 3, "leader": 1, "self": 1}
SEVERITY = {"general": F(1, 2), "serious": F(1), "grave": F(2)}
M = 30


#: How ``round(x, 2)`` breaks exact ties; scoring.md does not say. The engine rounds 四舍五入 ("half_up", what
#: an establishment office does; see scoring/rounding.py); "half_even" is Python's ``round``.
ROUNDING = "half_up"


def D(x) -> F:
    """A number as the office typed it (a decimal), not the binary float that carries it: D(80.005) is 80.005."""
    return F(repr(float(x)))


def round2(x: F) -> F:
    """round(x, 2) on the exact value."""
    hundred = x * 100
    floor = math.floor(hundred)
    rest = hundred - floor
    if rest > F(1, 2) or (rest == F(1, 2) and (ROUNDING == "half_up" or floor % 2 == 1)):
        floor += 1
    return F(floor, 100)


def is_nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def reference(city: dict, weights: dict | None = None, trim: bool = True, m=M) -> dict:
    """Score a city by the letter of scoring.md. Returns {unit code: {...}}.

    ``weights`` (leaf id -> weight), ``trim`` and ``m`` are what the sensitivity draws vary."""
    weights = weights or {leaf_id: F(w) for leaf_id, _s, _t, w in POSITIVE}
    units = city["units"]
    as_of = city["as_of"]
    qinfo = {(q["instrument"], q["question"]): q for q in city["questions"]}
    out = {u["code"]: {"leaf": {}, "n": {}} for u in units}

    # Questionnaire leaves: only the latest response of a rater for a target counts.
    latest = {}
    for a in city["answers"]:
        key = (a["rater"], a["instrument"], a["unit"])
        latest[key] = max(latest.get(key, -math.inf), a["version"])
    kept = [a for a in city["answers"] if a["version"] == latest[(a["rater"], a["instrument"], a["unit"])]]
    for leaf_id, source, theme, _w in POSITIVE:
        if source not in INSTRUMENTS:
            continue
        num = defaultdict(F)
        den = defaultdict(F)
        answered = defaultdict(int)
        for a in kept:
            if a["instrument"] != source or is_nan(a["answer"]):
                continue
            q = qinfo[(a["instrument"], a["question"])]
            if theme is not None and q["theme"] != theme:
                continue
            pts = (D(a["answer"]) - 1) * 25 if q["type"] == "likert5" else D(a["answer"])
            key = (a["unit"], a["rater"])
            num[key] += D(q["weight"]) * pts
            den[key] += D(q["weight"])
            answered[key] += 1
        per_unit = defaultdict(list)
        for key, count in answered.items():
            if count:
                per_unit[key[0]].append(num[key] / den[key])
        for u in units:
            scores = sorted(per_unit.get(u["code"], []))
            n = len(scores)
            out[u["code"]]["n"][leaf_id] = n
            if n < MIN_N[source]:
                value = None
            elif trim and n >= 5:
                value = sum(scores[1:-1], F(0)) / (n - 2)
            else:
                value = sum(scores, F(0)) / n
            out[u["code"]]["leaf"][leaf_id] = value

    # Public ratings: Bayesian average towards the city mean C of all non-default ratings.
    tot_n, tot_pts = 0, F(0)
    per = defaultdict(lambda: [0, F(0)])
    for r in city["ratings"]:
        if r["is_default"]:
            continue
        pts = F(r["level"] - 1) * 25
        tot_n += r["n"]
        tot_pts += r["n"] * pts
        per[r["unit"]][0] += r["n"]
        per[r["unit"]][1] += r["n"] * pts
    for u in units:
        n, s = per.get(u["code"], (0, F(0)))
        out[u["code"]]["n"]["public"] = n
        if n == 0:
            out[u["code"]]["leaf"]["public"] = None
        else:
            c = tot_pts / tot_n
            xbar = s / n
            out[u["code"]]["leaf"]["public"] = (n * xbar + m * c) / (n + m)

    # Checkpoints.
    for u in units:
        on_time = late = not_done = 0
        for cp in city["checkpoints"]:
            if cp["unit"] != u["code"]:
                continue
            if cp["status"] == "on_time":
                on_time += 1
            elif cp["status"] == "late":
                late += 1
            elif cp["status"] == "not_done":
                not_done += 1
        d = on_time + late + not_done
        out[u["code"]]["leaf"]["checkpoints"] = None if d == 0 else 100 * (on_time + F(late, 2)) / d

    # Institution.
    for u in units:
        out[u["code"]]["leaf"]["institution"] = None
    for row in city["institution"]:
        out[row["unit"]]["leaf"]["institution"] = D(row["score"])

    # Deductions, bonus, approval linkage.
    for u in units:
        code = u["code"]
        problems = overdue = F(0)
        suspended = False
        for p in city["problems"]:
            if p["unit"] != code:
                continue
            pts = SEVERITY[p["severity"]]
            problems += pts
            closed, deadline = p["closed_on"], p["deadline"]
            if (closed is None and deadline < as_of) or (closed is not None and closed > deadline):
                overdue += pts
            if deadline < as_of and (closed is None or closed > as_of):
                suspended = True
        bonus = sum((D(b["points"]) for b in city["bonuses"] if b["unit"] == code), F(0))
        o = out[code]
        o["problems_points"], o["overdue_points"] = problems, overdue
        o["deduction"] = min(F(10), problems + overdue)
        o["bonus"] = min(F(3), bonus)
        o["suspended"] = suspended

    # Composite and coverage.
    for u in units:
        o = out[u["code"]]
        wsum = F(0)
        acc = F(0)
        for leaf_id, _s, _t, _w in POSITIVE:
            w = weights[leaf_id]
            v = o["leaf"][leaf_id]
            if v is not None:
                wsum += w
                acc += w * v
        o["wsum"] = wsum
        o["coverage"] = wsum / 100
        if wsum == 0:
            o["base"] = o["composite"] = None
        else:
            o["base"] = acc / wsum
            o["composite"] = min(F(100), max(F(0), o["base"] - o["deduction"] + o["bonus"]))

    # Ranks, grades, points, actions: within each category.
    categories = defaultdict(list)
    for u in units:
        categories[u["category"]].append(u)
    for members in categories.values():
        ranked = [u for u in members if out[u["code"]]["composite"] is not None]
        ranked.sort(key=lambda u: (-round2(out[u["code"]]["composite"]), -round2(out[u["code"]]["base"]), u["code"]))
        n_cat = len(ranked)
        for i, u in enumerate(ranked, start=1):
            o = out[u["code"]]
            o["rank"] = i
            comp = o["composite"]
            if i <= (2 * n_cat) // 10:
                grade = "excellent"
            elif comp < 60 or i > n_cat - n_cat // 10:
                grade = "poor"
            elif comp >= 80:
                grade = "good"
            else:
                grade = "fair"
            o["grade"] = grade
        for u in members:
            o = out[u["code"]]
            o.setdefault("rank", None)
            o.setdefault("grade", None)
            o["points"] = None if o["composite"] is None else round2(4 * o["composite"] / 100)
            o["action"] = (
                None
                if o["grade"] is None
                else {"excellent": "priority", "poor": "restrict"}.get(o["grade"], "maintain")
            )
            reduction = 0
            if o["action"] == "restrict":
                est, staff = u["establishment"], u["actual_staff"]
                if not (is_nan(est) or is_nan(staff)):
                    vac = max(F(0), F(est) - F(staff))
                    reduction = min(vac, math.ceil(F(5, 100) * F(est)))
            o["reduction"] = reduction
        # Contributions: w_l / Σ_A w · (S_l − mean of S_l over the category).
        for leaf_id, _s, _t, _w in POSITIVE:
            w = weights[leaf_id]
            vals = [out[u["code"]]["leaf"][leaf_id] for u in members if out[u["code"]]["leaf"][leaf_id] is not None]
            mean = sum(vals, F(0)) / len(vals) if vals else None
            for u in members:
                o = out[u["code"]]
                v = o["leaf"][leaf_id]
                o.setdefault("contribution", {})[leaf_id] = None if v is None else F(w) / o["wsum"] * (v - mean)
    return out


# ---------------------------------------------------------------- random cities
def _questions(rng: random.Random) -> list[dict]:
    qs = []
    for instrument in INSTRUMENTS:
        themes = THEMES if instrument == "grassroots" else (None,)
        for theme in themes:
            k = rng.choice([0, 1, 1, 2, 2, 3]) if instrument == "grassroots" else rng.choice([1, 1, 2, 3])
            for j in range(k):
                qs.append(
                    {
                        "instrument": instrument,
                        "question": f"{instrument[:2]}{theme or ''}{j}",
                        "theme": theme,
                        "type": "score100" if rng.random() < (0.7 if instrument == "expert" else 0.2) else "likert5",
                        "weight": rng.choice([1.0, 1.0, 1.0, 2.0, 0.5, 3.0]),
                    }
                )
    return qs


def _answer(rng: random.Random, qtype: str, bias: int) -> float:
    if qtype == "likert5":
        return float(min(5, max(1, bias + rng.choice([-2, -1, 0, 0, 1]))))
    return float(rng.choice([rng.randint(0, 100), rng.randint(50, 100), 87.5, 72.25, 100, 0]))


def _respond(rng, city, qs, rater, instrument, unit, bias, version):
    """One response: answers, 不了解 (NaN) or unanswered (no row)."""
    dont_know_all = rng.random() < 0.1
    for q in qs:
        if q["instrument"] != instrument:
            continue
        r = rng.random()
        if r < 0.1:
            continue  # unanswered
        answer = math.nan if dont_know_all or r < 0.25 else _answer(rng, q["type"], bias)
        city["answers"].append(
            {
                "rater": rater,
                "group": GROUP[instrument],
                "instrument": instrument,
                "unit": unit,
                "question": q["question"],
                "answer": answer,
                "version": version,
            }
        )


def _unit_data(rng, city, code, qs, profile):
    as_of = city["as_of"]
    bias = rng.randint(2, 5)
    if profile == "empty":
        return
    if profile == "tie":
        score = rng.choice([80, 80.001, 80.004, 80.006, 79.996, 81, 60, 59.999, 100, 5, 80.005, 80.015])
        city["institution"].append({"unit": code, "score": score})
        for _ in range(rng.choice([0, 0, 1, 2])):
            city["problems"].append(
                {
                    "unit": code,
                    "severity": "general",
                    "deadline": as_of - dt.timedelta(30),
                    "closed_on": as_of - dt.timedelta(40),
                }
            )
        if rng.random() < 0.4:
            city["bonuses"].append({"unit": code, "points": rng.choice([0.5, 1.0, 3.5])})
        return
    pools = {
        "grassroots": [f"g{i}" for i in range(14)],
        "leader": [f"L{i}" for i in range(5)],
        "peer": [f"P{i}" for i in range(10)],
        "deputy": [f"Dp{i}" for i in range(10)],
        "expert": [f"E{i}" for i in range(8)],
        "self": [f"self-{code}-{i}" for i in range(3)],
    }
    counts = {
        "grassroots": [0, 2, 4, 5, 5, 6, 7, 9],
        "leader": [0, 1, 2, 3],
        "peer": [0, 1, 2, 3, 4, 5, 6],
        "deputy": [0, 2, 3, 4, 5, 6],
        "expert": [0, 2, 3, 5, 6],
        "self": [0, 1, 1, 2],
    }
    sparse = profile == "sparse"
    for instrument in INSTRUMENTS:
        if sparse and rng.random() < 0.6:
            continue
        k = rng.choice(counts[instrument])
        for rater in rng.sample(pools[instrument], min(k, len(pools[instrument]))):
            versions = [1]
            if rng.random() < 0.15:
                versions = rng.choice([[1, 2], [2, 5], [1, 3]])
            for v in versions:
                _respond(rng, city, qs, rater, instrument, code, bias, v)
    if not (sparse and rng.random() < 0.5):
        for _ in range(rng.choice([0, 1, 2, 3])):
            city["ratings"].append(
                {"unit": code, "level": rng.randint(1, 5), "is_default": False, "n": rng.choice([1, 2, 3, 7, 20, 45])}
            )
        if rng.random() < 0.3:
            city["ratings"].append({"unit": code, "level": 5, "is_default": True, "n": rng.randint(1, 30)})
    if not (sparse and rng.random() < 0.5):
        for _ in range(rng.choice([0, 1, 2, 3, 5])):
            city["checkpoints"].append(
                {"unit": code, "status": rng.choice(["on_time", "on_time", "late", "not_done", "waived"])}
            )
    for _ in range(rng.choice([0, 0, 1, 2, 4, 8])):
        deadline = as_of + dt.timedelta(rng.choice([-90, -10, -1, 0, 1, 20]))
        r = rng.random()
        if r < 0.4:
            closed = None
        else:
            closed = deadline + dt.timedelta(rng.choice([-5, 0, 1, 15]))
            closed = min(closed, as_of)
        city["problems"].append(
            {"unit": code, "severity": rng.choice(list(SEVERITY)), "deadline": deadline, "closed_on": closed}
        )
    for _ in range(rng.choice([0, 0, 1, 2])):
        city["bonuses"].append({"unit": code, "points": rng.choice([0.5, 1.0, 1.5, 2.0, 3.0])})
    if rng.random() < 0.5:
        city["institution"].append({"unit": code, "score": rng.choice([rng.randint(0, 100), 88.75, 91.3, 59.5])})


def _clone(city, src, dst):
    """Copy every row of unit ``src`` to unit ``dst`` (self raters renamed): an exact tie."""
    for name in ("ratings", "checkpoints", "problems", "bonuses", "institution"):
        city[name] += [dict(r, unit=dst) for r in city[name] if r["unit"] == src]
    city["answers"] += [
        dict(a, unit=dst, rater=a["rater"].replace(f"self-{src}-", f"self-{dst}-"))
        for a in city["answers"]
        if a["unit"] == src
    ]


def random_city(seed: int, extra_categories=(2, 5)) -> dict:
    rng = random.Random(seed)
    as_of = dt.date(2026, 12, 31) if rng.random() < 0.7 else dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
    city = {
        "as_of": as_of,
        "units": [],
        "answers": [],
        "ratings": [],
        "checkpoints": [],
        "problems": [],
        "bonuses": [],
        "institution": [],
    }
    qs = _questions(rng)
    city["questions"] = qs
    sizes = [seed % 12 + 1] + [rng.randint(1, 12) for _ in range(rng.randint(*extra_categories))]
    numbers = rng.sample(range(1000), sum(sizes))
    i = 0
    for c, size in enumerate(sizes):
        tie_heavy = rng.random() < 0.3
        members = []
        for _ in range(size):
            code = f"D{numbers[i]:03d}"
            i += 1
            est = math.nan if rng.random() < 0.2 else float(rng.choice([rng.randint(1, 300), 60, 140, 20]))
            staff = (
                math.nan
                if rng.random() < 0.1
                else (float(max(0, (est if not math.isnan(est) else 50) + rng.randint(-20, 5))))
            )
            city["units"].append(
                {
                    "code": code,
                    "name": f"unit {code}",
                    "kind": "government",
                    "category": f"cat{c}",
                    "establishment": est,
                    "actual_staff": staff,
                }
            )
            if members and rng.random() < 0.15:
                _clone(city, rng.choice(members), code)
            else:
                profile = (
                    "tie"
                    if tie_heavy and rng.random() < 0.7
                    else rng.choices(["full", "sparse", "empty", "tie"], [6, 3, 0.3, 1])[0]
                )
                _unit_data(rng, city, code, qs, profile)
            members.append(code)
    rng.shuffle(city["units"])
    return city


def to_inputs(city: dict) -> scoring.Inputs:
    def frame(name, rows):
        return pd.DataFrame(rows) if rows else scoring.empty_frame(name)

    answers = (
        pd.DataFrame(city["answers"])
        if city["answers"]
        else scoring.empty_frame("answers").assign(version=pd.Series(dtype=float))
    )
    return scoring.Inputs(
        units=pd.DataFrame(city["units"], columns=list(scoring.COLUMNS["units"])),
        as_of=city["as_of"],
        questions=pd.DataFrame(city["questions"], columns=["instrument", "question", "theme", "type", "weight"]),
        answers=answers,
        ratings=frame("ratings", city["ratings"]),
        checkpoints=frame("checkpoints", city["checkpoints"]),
        problems=frame("problems", city["problems"]),
        bonuses=frame("bonuses", city["bonuses"]),
        institution=frame("institution", city["institution"]),
    )


# ---------------------------------------------------------------- comparison
def _close(engine_value, ref) -> bool:
    if ref is None:
        return engine_value is None or pd.isna(engine_value)
    if engine_value is None or pd.isna(engine_value):
        return False
    return math.isclose(float(engine_value), float(ref), rel_tol=1e-9, abs_tol=1e-9)


@functools.cache
def run(seed: int):
    """(city, reference, engine result) of one random city; cached for the tests of this module."""
    city = random_city(seed)
    return city, reference(city), scoring.compute(to_inputs(city), SCHEME)


def compare(seed: int) -> list[str]:
    _city, ref, result = run(seed)
    problems = []

    def check(what, code, got, want, exact=False):
        ok = (got == want) if exact else _close(got, want)
        if not ok:
            shown = want if exact or want is None else float(want)
            problems.append(f"seed {seed} unit {code} {what}: engine {got!r}, spec {shown!r}")

    leaves = {(r.unit, r.leaf): r for r in result.leaves.itertuples(index=False)}
    for row in result.units.itertuples(index=False):
        code = row.unit
        o = ref[code]
        for leaf_id, _s, _t, _w in POSITIVE:
            lr = leaves[(code, leaf_id)]
            check(f"leaf {leaf_id}", code, lr.value, o["leaf"][leaf_id])
            if leaf_id in o["n"]:
                check(f"n {leaf_id}", code, int(lr.n), o["n"][leaf_id], exact=True)
            if o["contribution"][leaf_id] is not None or not pd.isna(lr.contribution):
                check(f"contribution {leaf_id}", code, lr.contribution, o["contribution"][leaf_id])
        check("leaf problems", code, leaves[(code, "problems")].value, o["problems_points"])
        check("leaf overdue", code, leaves[(code, "overdue")].value, o["overdue_points"])
        check("base", code, row.base, o["base"])
        check("composite", code, row.composite, o["composite"])
        check("deduction", code, row.deduction, o["deduction"])
        check("problems_points", code, row.problems_points, o["problems_points"])
        check("overdue_points", code, row.overdue_points, o["overdue_points"])
        check("bonus", code, row.bonus, o["bonus"])
        check("coverage", code, row.coverage, o["coverage"])
        check("low_coverage", code, bool(row.low_coverage), o["coverage"] < F(65, 100), exact=True)
        check("rank", code, None if pd.isna(row.rank) else int(row.rank), o["rank"], exact=True)
        check("grade", code, None if pd.isna(row.grade) else row.grade, o["grade"], exact=True)
        check("assessment_points", code, row.assessment_points, o["points"])
        check(
            "action",
            code,
            None if pd.isna(row.establishment_action) else row.establishment_action,
            o["action"],
            exact=True,
        )
        check("reduction", code, int(row.suggested_reduction), int(o["reduction"]), exact=True)
        check("suspended", code, bool(row.approvals_suspended), o["suspended"], exact=True)
    order = [(r.category, r.rank) for r in result.units.itertuples(index=False) if not pd.isna(r.rank)]
    if order != sorted(order):
        problems.append(f"seed {seed}: units not ordered by category, rank")
    return problems


SEEDS = range(36)


def test_engine_matches_spec_on_random_cities():
    """Does the engine agree with a line-by-line implementation of scoring.md on random cities?"""
    problems = []
    for seed in SEEDS:
        problems += compare(seed)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def test_generator_covers_the_cases():
    """The random cities do exercise what the cross-check is meant to cover."""
    seen = defaultdict(int)
    for seed in SEEDS:
        city, ref, _ = run(seed)
        sizes = defaultdict(int)
        for u in city["units"]:
            sizes[u["category"]] += 1
        for size in sizes.values():
            seen[f"size{size}"] += 1
        seen["na answers"] += any(is_nan(a["answer"]) for a in city["answers"])
        seen["resubmitted"] += any(a["version"] > 1 for a in city["answers"])
        seen["default ratings"] += any(r["is_default"] for r in city["ratings"])
        seen["overdue"] += any(o["overdue_points"] > 0 for o in ref.values())
        seen["closed late"] += any(
            p["closed_on"] is not None and p["closed_on"] > p["deadline"] for p in city["problems"]
        )
        seen["suspended"] += any(o["suspended"] for o in ref.values())
        seen["capped deduction"] += any(o["problems_points"] + o["overdue_points"] > 10 for o in ref.values())
        seen["capped bonus"] += any(o["bonus"] == 3 for o in ref.values())
        seen["restrict"] += any(o["reduction"] > 0 for o in ref.values())
        seen["est unknown"] += any(is_nan(u["establishment"]) for u in city["units"])
        seen["trimmed"] += any(n >= 5 for o in ref.values() for n in o["n"].values())
        seen["few raters"] += any(0 < o["n"]["grassroots_territorial"] < 5 for o in ref.values())
        seen["no composite"] += any(o["composite"] is None for o in ref.values())
        seen["clipped"] += any(o["composite"] in (0, 100) for o in ref.values())
        by_cat = defaultdict(list)
        for u in city["units"]:
            o = ref[u["code"]]
            if o["composite"] is not None:
                by_cat[u["category"]].append((round2(o["composite"]), round2(o["base"]), o["composite"]))
        for vals in by_cat.values():
            rounded = [v[0] for v in vals]
            seen["tie rounded composite"] += len(rounded) != len(set(rounded))
            seen["tie composite and base"] += len({(a, b) for a, b, _ in vals}) != len(vals)
            seen["tie rounded, different exact"] += len({v[2] for v in vals}) > len(set(rounded))
    for size in range(1, 13):
        assert seen[f"size{size}"], size
    for key in (
        "na answers",
        "resubmitted",
        "default ratings",
        "overdue",
        "closed late",
        "suspended",
        "capped deduction",
        "capped bonus",
        "restrict",
        "est unknown",
        "trimmed",
        "few raters",
        "no composite",
        "clipped",
        "tie rounded composite",
        "tie composite and base",
        "tie rounded, different exact",
    ):
        assert seen[key] >= 3, (key, dict(seen))


# ---------------------------------------------------------------- sensitivity (scoring.md "Robustness")
def test_default_scheme_sensitivity_settings():
    """Does the default scheme carry the sensitivity settings scoring.md gives?"""
    sens = scoring.default_scheme().sensitivity
    assert sens.draws == 1000
    assert sens.weight_spread == 0.25 and sens.trim_probability == 0.5
    assert list(sens.m_choices) == [15, 30, 60] and sens.review_below == 0.8


def test_sensitivity_matches_spec():
    """Redo the Monte Carlo with the reference: the engine's random numbers (documented order: weight factors
    (draws x positive leaves), trimming flags, m indices from numpy's default_rng(seed)), everything else from
    scoring.md; percentiles by numpy's default (linear) interpolation."""
    draws = 12
    scheme = scoring.load_scheme(SCHEME_TEXT.replace("draws: 10", f"draws: {draws}"))
    sens = scheme.sensitivity
    for seed in (3, 8):
        city = random_city(seed, extra_categories=(1, 1))
        main = reference(city)
        result = scoring.compute(to_inputs(city), scheme)
        rng = np.random.default_rng(sens.seed)
        factors = rng.uniform(0.75, 1.25, size=(draws, len(POSITIVE)))
        trim_on = rng.random(draws) < 0.5
        m_index = rng.integers(0, 3, size=draws)
        ranks, kept, boundary = defaultdict(list), defaultdict(int), set()
        for d in range(draws):
            weights = {leaf_id: F(w) * F(float(factors[d, i])) for i, (leaf_id, _s, _t, w) in enumerate(POSITIVE)}
            ref = reference(city, weights, bool(trim_on[d]), (15, 30, 60)[m_index[d]])
            for code, o in ref.items():
                if o["composite"] in (60, 80):
                    boundary.add(code)  # grade on a threshold: see test_sensitivity_grade_on_a_threshold
                if o["rank"] is not None:
                    ranks[code].append(o["rank"])
                    kept[code] += o["grade"] == main[code]["grade"]
        for row in result.units.itertuples(index=False):
            if not ranks[row.unit]:
                assert pd.isna(row.rank_median) and pd.isna(row.grade_keep_prob) and not row.review_flag
                continue
            p05, med, p95 = np.percentile(ranks[row.unit], [5, 50, 95])
            keep = kept[row.unit] / draws
            assert (row.rank_median, row.rank_p05, row.rank_p95) == (med, p05, p95), (seed, row.unit)
            if row.unit in boundary:
                continue
            assert row.grade_keep_prob == keep and row.review_flag == (keep < 0.8), (seed, row.unit)


# ---------------------------------------------------------------- minimal reproductions of discrepancies
def _one_category(units, **frames):
    rows = [
        {
            "code": c,
            "name": c,
            "kind": "government",
            "category": "dept",
            "establishment": np.nan,
            "actual_staff": np.nan,
        }
        for c in units
    ]
    return scoring.Inputs(
        units=pd.DataFrame(rows), as_of=dt.date(2026, 12, 31), **{k: pd.DataFrame(v) for k, v in frames.items()}
    )


def test_assessment_points_of_an_exact_half():
    """composite 54.375 (institution only): 4 x 54.375 / 100 = 2.175 exactly -> 2.18 (half up or half even)."""
    result = scoring.compute(_one_category("A", institution=[{"unit": "A", "score": 54.375}]), SCHEME)
    assert result.units["composite"].iloc[0] == 54.375
    assert result.units["assessment_points"].iloc[0] == 2.18


def test_rank_uses_round_of_the_exact_composite():
    """A: checkpoints on_time, on_time, late (250/3), one leader rating 2,2,1 on three equal questions (50/3),
    institution 33: base = (25*250/3 + 10*50/3 + 5*33)/40 = 2415/40 = 60.375 exactly -> round 60.38.
    B: institution 60.38. round(composite) and round(base) tie at 60.38, so code order: A first."""
    city = inputs_city_ab()
    assert {code: o["rank"] for code, o in reference(city).items()} == {"A": 1, "B": 2}
    inputs = to_inputs(city)
    units = scoring.compute(inputs, SCHEME).units.set_index("unit")
    assert units.loc["A", "rank"] == 1 and units.loc["B", "rank"] == 2


def test_sensitivity_grade_on_a_threshold():
    """One unit, institution 60 only: in every draw base = w*60/w = 60 exactly, composite 60 is not < 60, so
    the grade (fair) is kept in all draws: probability 1."""
    result = scoring.compute(_one_category("A", institution=[{"unit": "A", "score": 60.0}]), scoring.default_scheme())
    assert result.units["grade"].iloc[0] == "fair"
    assert result.units["grade_keep_prob"].iloc[0] == 1.0


def inputs_city_ab() -> dict:
    """The city of test_rank_uses_round_of_the_exact_composite, for the reference."""
    return {
        "as_of": dt.date(2026, 12, 31),
        "units": [
            {
                "code": c,
                "name": c,
                "kind": "government",
                "category": "dept",
                "establishment": math.nan,
                "actual_staff": math.nan,
            }
            for c in "AB"
        ],
        "questions": [
            {"instrument": "leader", "question": f"l{i}", "theme": None, "type": "likert5", "weight": 1.0}
            for i in (1, 2, 3)
        ],
        "answers": [
            {
                "rater": "r1",
                "group": "leader",
                "instrument": "leader",
                "unit": "A",
                "question": f"l{i}",
                "answer": float(a),
                "version": 1,
            }
            for i, a in zip((1, 2, 3), (2, 2, 1), strict=False)
        ],
        "ratings": [],
        "problems": [],
        "bonuses": [],
        "checkpoints": [{"unit": "A", "status": s} for s in ("on_time", "on_time", "late")],
        "institution": [{"unit": "A", "score": 33.0}, {"unit": "B", "score": 60.38}],
    }
