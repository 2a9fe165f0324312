"""Benchmark of the scoring engine on a synthetic city; prints the time of each stage and peak memory.

    python bench/score.py                      # 80 units, 400 raters x 25 questions x every unit, 1M ratings
    python bench/score.py --ratings 10000000   # 10 million ratings

Stages: gather (aggregate the raw ratings with a pandas groupby, as the database's GROUP BY would), inputs
(contract checks), leaves, composite (with ranks and grades), sensitivity (the scheme's 1000 draws), then the
whole ``scoring.compute`` (which repeats the stages and adds explanation and data quality).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring  # noqa: E402
from scoring import composite as comp  # noqa: E402
from scoring.leaves import leaf_arrays, prepare  # noqa: E402
from scoring.sensitivity import sensitivity  # noqa: E402

THEMES = ("territorial", "response", "burden", "support")
#: Raters per group: 400 in all; each department rater belongs to one unit (peer about the others, self).
RATERS = {"grassroots": 230, "leader": 12, "department": 80, "deputy": 64, "expert": 14}


def make_city(rng: np.random.Generator, n_units: int, n_ratings: int):
    """Synthetic city: units, questions, raw answers, raw ratings (one row per rating) and ledgers."""
    categories = np.array(["party", "government_a", "government_b", "institution"])
    codes = np.array([f"U{i:03d}" for i in range(n_units)])
    quality = rng.normal(0, 1, n_units)
    establishment = rng.integers(8, 120, n_units).astype(float)
    units = pd.DataFrame(
        {
            "code": codes,
            "name": [f"单位{i}" for i in range(n_units)],
            "kind": "government",
            "category": categories[np.arange(n_units) % len(categories)],
            "establishment": establishment,
            "actual_staff": establishment - rng.integers(0, 10, n_units),
        }
    )
    questions = []
    for instrument in ("grassroots", "leader", "peer", "self", "deputy", "expert"):
        for q in range(25):
            questions.append(
                {
                    "instrument": instrument,
                    "question": f"{instrument}{q:02d}",
                    "theme": THEMES[q % 4] if instrument == "grassroots" else None,
                    "type": "score100" if instrument == "expert" else "likert5",
                    "weight": 1.0 + (q % 3 == 0),
                }
            )
    questions = pd.DataFrame(questions)

    frames = []
    rater_no = 0
    for group, count in RATERS.items():
        for r in range(count):
            rater = f"R{rater_no:04d}"
            rater_no += 1
            if group == "department":
                own = r % n_units
                plan = [("peer", np.delete(np.arange(n_units), own)), ("self", np.array([own]))]
            else:
                plan = [(group, np.arange(n_units))]
            severity = rng.normal(0, 0.4)
            for instrument, targets in plan:
                qs = questions.loc[questions["instrument"] == instrument, "question"].to_numpy()
                t = np.repeat(targets, len(qs))
                latent = 3.6 + 0.6 * quality[t] + severity + rng.normal(0, 0.8, len(t))
                if instrument == "expert":
                    answer = np.clip(np.round(75 + 10 * (latent - 3.6)), 0, 100)
                else:
                    answer = np.clip(np.round(latent), 1, 5)
                answer[rng.random(len(t)) < 0.05] = np.nan  # 不了解
                frames.append(
                    pd.DataFrame(
                        {
                            "rater": rater,
                            "group": group,
                            "instrument": instrument,
                            "unit": codes[t],
                            "question": np.tile(qs, len(targets)),
                            "answer": answer,
                        }
                    )
                )
    answers = pd.concat(frames, ignore_index=True)
    answers["version"] = 1

    unit_of = rng.integers(0, n_units, n_ratings).astype(np.int16)
    p_good = 1 / (1 + np.exp(-(1.5 + quality[unit_of])))
    level = np.where(
        rng.random(n_ratings) < p_good, rng.integers(4, 6, n_ratings), rng.integers(1, 4, n_ratings)
    ).astype(np.int8)
    raw_ratings = pd.DataFrame({"unit": unit_of, "level": level, "is_default": rng.random(n_ratings) < 0.1})

    checkpoints = pd.DataFrame(
        {
            "unit": codes[rng.integers(0, n_units, 875)],
            "status": rng.choice(["on_time", "late", "not_done", "waived"], 875, p=[0.8, 0.1, 0.05, 0.05]),
        }
    )
    deadline = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 300, 120), unit="D")
    closed = deadline + pd.to_timedelta(rng.integers(-40, 60, 120), unit="D")
    problems = pd.DataFrame(
        {
            "unit": codes[rng.integers(0, n_units, 120)],
            "severity": rng.choice(["general", "serious", "grave"], 120, p=[0.6, 0.3, 0.1]),
            "deadline": deadline,
            "closed_on": closed.where(rng.random(120) < 0.8),
        }
    )
    bonuses = pd.DataFrame({"unit": codes[rng.integers(0, n_units, 20)], "points": rng.choice([0.5, 1, 2], 20)})
    half = n_units // 2  # public institutions: the second half of the units
    institution = pd.DataFrame({"unit": codes[half:], "score": rng.uniform(70, 98, n_units - half)})
    return units, codes, questions, answers, raw_ratings, checkpoints, problems, bonuses, institution


def gather_ratings(raw: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """What the database's GROUP BY unit, level, is_default returns."""
    g = raw.groupby(["unit", "level", "is_default"], sort=False).size().rename("n").reset_index()
    g["unit"] = codes[g["unit"].to_numpy()]
    return g


def timed(label: str, fn, timings: dict):
    start = time.perf_counter()
    out = fn()
    timings[label] = time.perf_counter() - start
    print(f"{label:<12} {timings[label]:8.3f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=80)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    units, codes, questions, answers, raw, checkpoints, problems, bonuses, institution = make_city(
        rng, args.units, args.ratings
    )
    print(
        f"city: {len(units)} units, {answers['rater'].nunique()} raters, {len(answers):,} answer rows, "
        f"{len(raw):,} ratings (generated in {time.perf_counter() - start:.1f} s)"
    )
    scheme = scoring.default_scheme()
    t: dict[str, float] = {}
    ratings = timed("gather", lambda: gather_ratings(raw, codes), t)
    raw = None  # free the generated rows before the engine runs
    frames = dict(
        units=units,
        as_of=dt.date(2026, 12, 31),
        questions=questions,
        answers=answers,
        ratings=ratings,
        checkpoints=checkpoints,
        problems=problems,
        bonuses=bonuses,
        institution=institution,
    )
    inputs = timed("inputs", lambda: scoring.Inputs(**frames), t)

    def leaves():
        prep = prepare(inputs, scheme)
        return prep, leaf_arrays(prep, scheme)

    prep, arrays = timed("leaves", leaves, t)
    positive = np.array([not leaf.is_deduction for leaf in scheme.leaves])
    weights = np.array([leaf.weight for leaf in scheme.leaves])[positive]
    deduction = np.zeros(len(codes))
    bonus = np.zeros(len(codes))

    def composite():
        base, _ = comp.base_scores(arrays.value[positive], weights)
        c = comp.composite_scores(base, deduction, bonus)
        rank, n_cat = comp.rank_within(c, base, prep.categories, prep.codes)
        return comp.grade_codes(rank[0], c, n_cat[0], scheme)

    grades = timed("composite", composite, t)
    timed("sensitivity", lambda: sensitivity(prep, scheme, deduction, bonus, grades), t)
    result = timed("compute", lambda: scoring.compute(inputs, scheme), t)
    stages = t["gather"] + t["inputs"] + t["compute"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':<12} {stages:8.3f} s   (gather + inputs + compute)")
    print(f"peak memory  {peak_mib:8.0f} MiB (max RSS of the process, generation included)")
    tracemalloc.start()  # after the timings: tracing slows allocation down
    scoring.compute(scoring.Inputs(**frames), scheme)
    scoring_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"scoring peak {scoring_peak:8.0f} MiB (tracemalloc, Inputs + compute, above the loaded frames)")
    print(f"review flags: {int(result.units['review_flag'].sum())} of {len(result.units)} units")


if __name__ == "__main__":
    main()
