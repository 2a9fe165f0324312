"""The demo city's questionnaires: who rates which unit with which instrument, and what they answered.

Answers are drawn around each unit's latent quality, a per-unit-and-theme effect and each rater's leniency,
with 不了解 now and then and a few raters who give one answer to everything. Only the answers are decided
here; what they are worth is the scoring engine's business.
"""

import numpy as np

from surveys.answers import ANSWER_TYPES

from ..models import (
    Answer,
    Assignment,
    AssignmentState,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
)
from ..services.bulk import bulk_insert, insert_new_ids
from .city import City

#: Share of assignments (submitted, in progress); the rest are not opened.
ASSIGNMENT_STATES = {
    "grassroots": (0.92, 0.03),
    "leader": (0.88, 0.04),
    "peer": (0.93, 0.03),
    "self": (0.97, 0.02),
    "deputy": (0.85, 0.05),
    "expert": (0.95, 0.02),
}

#: Answer model per instrument: mean on the 1-5 scale, and how strongly unit quality shows.
ANSWER_MODEL = {
    "grassroots": (3.85, 0.55),
    "leader": (4.0, 0.45),
    "peer": (4.1, 0.35),
    "self": (4.5, 0.2),
    "deputy": (4.0, 0.4),
    "expert": (3.8, 0.5),
}

LIKERT5 = ANSWER_TYPES["likert5"]


def _balanced_targets(city: City, counts, k, exclude=None):
    """k units for one rater, favouring the units fewest raters have so far (ties broken at random)."""
    keys = city.rng.random(len(city.units))
    candidates = (i for i in range(len(city.units)) if i != exclude)
    order = sorted(candidates, key=lambda i: (counts[i], keys[i]))
    chosen = sorted(order[:k])
    for i in chosen:
        counts[i] += 1
    return chosen


def _plan(city: City):
    """(rater index, unit index, instrument key) of every assignment, in a fixed order."""
    rng = city.rng
    n_units = len(city.units)
    plan = []
    index = {id(r): i for i, r in enumerate(city.raters)}
    # Towns mostly deal with units that work in the towns; each town somewhat differently.
    base = np.array([0.35, 0.8, 1.4, 2.0])[city.relevance]
    town_taste = rng.lognormal(0.0, 0.3, (len(city.towns), n_units))
    town_pos = {t.id: i for i, t in enumerate(city.towns)}
    for r in city.by_group[RaterGroup.GRASSROOTS]:
        p = base * town_taste[town_pos[r.town_id]]
        k = int(rng.integers(18, 23))
        for u in sorted(rng.choice(n_units, size=k, replace=False, p=p / p.sum()).tolist()):
            plan.append((index[id(r)], u, "grassroots"))
    for r in city.by_group[RaterGroup.LEADER]:
        plan.extend((index[id(r)], u, "leader") for u in range(n_units))
    counts = [0] * n_units
    for r in city.by_group[RaterGroup.DEPARTMENT]:
        own = city.unit_index[r.unit_id]
        k = int(rng.integers(8, 13))
        plan.extend((index[id(r)], u, "peer") for u in _balanced_targets(city, counts, k, exclude=own))
        plan.append((index[id(r)], own, "self"))
    counts = [0] * n_units
    for r in city.by_group[RaterGroup.DEPUTY]:
        k = int(rng.integers(13, 18))
        plan.extend((index[id(r)], u, "deputy") for u in _balanced_targets(city, counts, k))
    for r in city.by_group[RaterGroup.EXPERT]:
        plan.extend((index[id(r)], u, "expert") for u in range(n_units))
    return plan


def make_assignments(city: City) -> None:
    """Every rater's assignments, their states (submitted, in progress, not opened), responses and answers."""
    rng, rnd = city.rng, city.rnd
    plan = _plan(city)
    n = len(plan)
    rater_ix = np.array([p[0] for p in plan])
    unit_ix = np.array([p[1] for p in plan])
    keys = [p[2] for p in plan]

    # A few raters never open their link; the rest submit most of what they are given.
    idle = rng.random(len(city.raters)) < 0.03
    draw = rng.random(n)
    states = []
    for j in range(n):
        submitted, in_progress = ASSIGNMENT_STATES[keys[j]]
        if idle[rater_ix[j]]:
            states.append(AssignmentState.NOT_OPENED)
        elif draw[j] < submitted:
            states.append(AssignmentState.SUBMITTED)
        elif draw[j] < submitted + in_progress:
            states.append(AssignmentState.IN_PROGRESS)
        else:
            states.append(AssignmentState.NOT_OPENED)

    # The survey round of the year's end (compressed into the days so far in the current year).
    created = city.at(city.day(11, 10), 9)
    assignment_ids = insert_new_ids(
        Assignment,
        [
            {
                "period_id": city.period.id,
                "rater_id": city.raters[rater_ix[j]].id,
                "unit_id": city.units[unit_ix[j]].id,
                "instrument_id": city.instruments[keys[j]].id,
                "state": states[j],
                "created_at": created,
            }
            for j in range(n)
        ],
    )

    values = _answers(city, plan, rater_ix, unit_ix, keys)
    qids = {key: [q.qid for q in ins.questions] for key, ins in city.instruments.items()}

    # Responses: version 1 for those submitted, a server-side draft for those in progress.
    first, last = city.day(11, 16), city.day(12, 18)
    moment = {
        j: city.office_time(city.workday_between(first, last))
        for j in range(n)
        if states[j] is not AssignmentState.NOT_OPENED
    }
    done = [j for j in moment if states[j] is AssignmentState.SUBMITTED]
    drafts = [j for j in moment if states[j] is AssignmentState.IN_PROGRESS]
    response_ids = insert_new_ids(Response, [{"assignment_id": assignment_ids[j], "current_version": 1} for j in done])
    draft_rows = []
    for j in drafts:
        k = rnd.randint(1, len(qids[keys[j]]) - 1)
        draft_rows.append(
            {
                "assignment_id": assignment_ids[j],
                "current_version": 0,
                "draft": dict(zip(qids[keys[j]][:k], values[j][:k], strict=False)),
                "draft_saved_at": moment[j],
            }
        )
    if draft_rows:
        bulk_insert(Response, draft_rows)
    version_ids = insert_new_ids(
        ResponseVersion,
        [
            {"response_id": rid, "version": 1, "submitted_at": moment[j], "source": ResponseSource.WEB}
            for j, rid in zip(done, response_ids, strict=False)
        ],
    )

    answers = [
        {"version_id": vid, "question": q, "value": v}
        for j, vid in zip(done, version_ids, strict=False)
        for q, v in zip(qids[keys[j]], values[j], strict=False)
    ]
    for start in range(0, len(answers), 50_000):
        bulk_insert(Answer, answers[start : start + 50_000])
        city.progress(min(start + 50_000, len(answers)), len(answers), "answers")

    city.counts.update(
        {
            "assignments": n,
            "submitted": len(done),
            "in_progress": len(drafts),
            "not_opened": n - len(done) - len(drafts),
            "answers": len(answers),
        }
    )


def _answers(city: City, plan, rater_ix, unit_ix, keys):
    """Answers of every assignment (list of values per question; None = 不了解), drawn around unit quality,
    a per-unit-and-theme effect and the rater's leniency; a few raters give one answer to everything."""
    rng = city.rng
    n_units = len(city.units)
    themes = []
    for ins in city.instruments.values():
        for q in ins.questions:
            if q.theme not in themes:
                themes.append(q.theme)
    theme_effect = {t: rng.normal(0.0, 0.2, n_units) for t in themes}

    # Straight-liners (same answer everywhere): a handful of grassroots raters and one deputy.
    straight = {}
    grassroots = [i for i, r in enumerate(city.raters) if r.group is RaterGroup.GRASSROOTS]
    deputies = [i for i, r in enumerate(city.raters) if r.group is RaterGroup.DEPUTY]
    for i in city.rnd.sample(grassroots, 8) + city.rnd.sample(deputies, 1):
        straight[i] = city.rnd.choice((5, 5, 5, 4, 3))

    values = [None] * len(plan)
    for key, ins in city.instruments.items():
        rows = np.array([j for j in range(len(plan)) if keys[j] == key], dtype=np.int64)
        if not len(rows):
            continue
        mean, slope = ANSWER_MODEL.get(key, (4.0, 0.4))
        qs = ins.questions
        u, r = unit_ix[rows], rater_ix[rows]
        cont = (
            (mean + slope * city.quality[u] + city.leniency[r])[:, None]
            + np.stack([theme_effect[q.theme][u] for q in qs], axis=1)
            + rng.normal(0.0, 0.55, (len(rows), len(qs)))
        )
        likert = np.clip(np.rint(cont), 1, 5)
        # score100 questions: the same continuous 1-5 latent stretched onto 0-100 (data generation, not scoring:
        # a real rater's answers are turned into points only by the answer-type registry and the engine).
        score = np.clip(np.rint((cont - 1.0) * 25.0 + rng.normal(0.0, 4.0, cont.shape)), 0, 100)
        is_score = np.array([q.type == "score100" for q in qs])
        answer = np.where(is_score[None, :], score, likert)
        # 不了解: more often about units a town seldom deals with; now and then a whole form of it.
        p_na = np.full(len(rows), 0.06 if key != "self" else 0.0)
        if key == "grassroots":
            p_na = p_na + np.where(city.relevance[u] <= 1, 0.06, 0.0)
        na = rng.random(cont.shape) < p_na[:, None]
        if key in ("grassroots", "deputy"):
            na |= (rng.random(len(rows)) < 0.01)[:, None]
        out = answer.tolist()
        na_list = na.tolist()
        for pos, j in enumerate(rows.tolist()):
            if int(rater_ix[j]) in straight:
                v = float(straight[int(rater_ix[j])])
                values[j] = [v if q.type == "likert5" else LIKERT5.points(v) for q in qs]
            else:
                values[j] = [None if na_list[pos][k] else out[pos][k] for k in range(len(qs))]
    return values
