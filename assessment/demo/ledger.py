"""The demo city's supervision ledger: check points (问效点), problems (问题台账), informants' suggestions,
bonus items and the institutions' appraisal scores.

Weak units (low latent quality) miss more check points and have more problems, some still open past their
deadline on the period's as_of date. Every date lies in the days the city has had (`City.day`); a deadline
may lie later, as a deadline does.
"""

from datetime import timedelta

import numpy as np

from ..extensions import db
from ..models import (
    BonusItem,
    CheckPoint,
    CheckPointStatus,
    InstitutionScore,
    Problem,
    ProblemSource,
    ProblemState,
    Severity,
    Suggestion,
    SuggestionStatus,
    UnitKind,
)
from . import names
from .city import City

#: Sizes of the ledger.
N_CHECKPOINTS = 875
N_PROBLEMS = 120
N_SUGGESTIONS, N_VALID, N_PENDING, N_LINKED = 39, 21, 6, 8


def make_checkpoints(city: City) -> None:
    """The units' check points, due in the days so far, with their status by each unit's quality."""
    rnd = city.rnd
    n_units = len(city.units)
    per_unit = [N_CHECKPOINTS // n_units] * n_units
    for i in rnd.sample(range(n_units), N_CHECKPOINTS % n_units):
        per_unit[i] += 1
    # Spread a little: move items between units, keeping the total.
    for _ in range(n_units):
        a, b = rnd.randrange(n_units), rnd.randrange(n_units)
        if per_unit[a] > 10 and per_unit[b] < 18:
            per_unit[a] -= 1
            per_unit[b] += 1
    quarter_ends = [city.day(3, 31), city.day(6, 30), city.day(9, 30), city.day(12, 31)]
    rows = []
    for i, unit in enumerate(city.units):
        own = list(names.CHECKPOINTS_BY_UNIT[unit.name])
        items = own + rnd.sample(names.CHECKPOINTS_COMMON, per_unit[i] - len(own))
        q = float(city.quality[i])
        p_not_done = min(0.2, max(0.0, 0.04 - 0.035 * q))
        p_late = min(0.25, max(0.02, 0.09 - 0.05 * q))
        for item in items:
            due = rnd.choice(quarter_ends) if rnd.random() < 0.6 else city.day(rnd.randint(1, 12), rnd.randint(10, 28))
            r = rnd.random()
            if r < 0.03:
                status = CheckPointStatus.WAIVED
            elif r < 0.03 + p_not_done:
                status = CheckPointStatus.NOT_DONE
            elif r < 0.03 + p_not_done + p_late:
                status = CheckPointStatus.LATE
            else:
                status = CheckPointStatus.ON_TIME
            evidence = None
            if status in (CheckPointStatus.ON_TIME, CheckPointStatus.LATE):
                evidence = rnd.choice(names.CHECKPOINT_EVIDENCE)
            elif status is CheckPointStatus.WAIVED:
                evidence = "因上级政策调整，经市委编办审核同意免于考核"
            rows.append(
                CheckPoint(
                    period_id=city.period.id, unit_id=unit.id, item=item, due=due, status=status, evidence=evidence
                )
            )
    db.session.add_all(rows)
    city.counts["check_points"] = len(rows)


def make_problems_and_suggestions(city: City) -> None:
    """Informants' suggestions, and the problems found by every source (some of them from suggestions)."""
    rnd, rng = city.rnd, city.rng
    as_of = city.as_of
    n_units = len(city.units)

    # Suggestions first, in time order: the valid ones found about a unit may become problems.
    n_invalid = N_SUGGESTIONS - N_VALID - N_PENDING
    plan = ["valid"] * N_VALID + ["invalid"] * n_invalid + ["pending"] * N_PENDING
    rnd.shuffle(plan)
    days = sorted(city.workday_between(city.day(1, 20), city.day(11, 30)) for _ in range(N_SUGGESTIONS))
    # Pending ones are the most recent.
    pending_days = sorted(city.workday_between(city.day(12, 1), city.day(12, 24)) for _ in range(N_PENDING))
    suggestions = []
    for status in plan:
        day = pending_days.pop(0) if status == "pending" else days.pop(0)
        template = rnd.choice(names.SUGGESTIONS)
        unit_i = None
        if "{unit}" in template:
            weights = np.exp(-0.5 * city.quality) * (0.3 + city.relevance)
            unit_i = int(rng.choice(n_units, p=weights / weights.sum()))
        suggestions.append(
            {
                "status": status,
                "day": day,
                "template": template,
                "unit": unit_i,
                "informant": rnd.choice(city.informants),
            }
        )
    suggestions.sort(key=lambda s: s["day"])
    linkable = [s for s in suggestions if s["status"] == "valid" and s["unit"] is not None]
    linked = linkable[:N_LINKED]

    # Problems: weak units have more; sources as the office's ledger usually shows them.
    weights = np.exp(-0.7 * city.quality)
    per_unit = rng.multinomial(N_PROBLEMS - len(linked), weights / weights.sum())
    sources = {
        "linkage": 45,
        "supervision": 18,
        "audit": 14,
        "inspection": 10,
        "petition": 10,
        "expert": 6,
        "evaluation": 6,
        "other": 3,
    }
    specs = []
    for i in range(n_units):
        for _ in range(int(per_unit[i])):
            source = rnd.choices(list(sources), weights=list(sources.values()))[0]
            if source == "linkage":
                quarter = rnd.randint(1, 3)
                found = city.workday_between(city.day(3 * quarter + 1, 2), city.day(3 * quarter + 1, 16))
            else:
                found = city.workday_between(city.day(1, 15), city.day(12, 10))
            specs.append({"unit": i, "source": source, "found": found, "suggestion": None})
    for s in linked:
        found = min(s["day"] + timedelta(days=rnd.randint(3, 10)), city.day(12, 20))
        specs.append({"unit": s["unit"], "source": "informant", "found": found, "suggestion": s})
    specs.sort(key=lambda p: (p["found"], p["unit"]))

    problems = []
    used = set()
    for spec in specs:
        i, source, found = spec["unit"], spec["source"], spec["found"]
        titles = names.PROBLEM_TITLES[source]
        title = rnd.choice(titles)
        if (i, title, found) in used:
            title = rnd.choice([t for ts in names.PROBLEM_TITLES.values() for t in ts])
        if (i, title, found) in used:
            continue
        used.add((i, title, found))
        severity = rnd.choices(list(Severity), weights=(65, 28, 7))[0]
        deadline = found + timedelta(days=rnd.choice((15, 30, 30, 60, 90)))
        q = float(city.quality[i])
        r = rnd.random()
        p_stuck = min(0.3, max(0.02, 0.07 - 0.05 * q))
        p_late = 0.1
        closed_on = None
        if deadline < as_of and r < p_stuck:
            pass  # still open past its deadline: overdue, suspends establishment applications
        elif r < p_stuck + p_late and deadline < as_of:
            closed_on = min(deadline + timedelta(days=rnd.randint(3, 40)), as_of)
        else:
            done = found + timedelta(days=rnd.randint(1, (deadline - found).days))
            if done <= as_of:
                closed_on = done  # else still being rectified, not yet due
        state = (
            ProblemState.CLOSED if closed_on else ProblemState.RECTIFYING if rnd.random() < 0.6 else ProblemState.OPEN
        )
        unit = city.units[i]
        problems.append(
            Problem(
                period_id=city.period.id,
                unit_id=unit.id,
                title=title,
                source=ProblemSource(source),
                category=rnd.choice(names.PROBLEM_CATEGORIES),
                severity=severity,
                found_on=found,
                deadline=deadline,
                closed_on=closed_on,
                responsible=f"{city.person()}（{rnd.choice(names.RESPONSIBLE_TITLES)}）",
                state=state,
                pushed_at=city.capped(city.at(found + timedelta(days=1), 9, 30)),
                evidence="整改报告及佐证材料已上传，经核查予以销号" if closed_on else None,
                created_at=city.at(found, 16),
            )
        )
        if spec["suggestion"] is not None:
            spec["suggestion"]["problem"] = problems[-1]
    db.session.add_all(problems)
    db.session.flush()

    rows = []
    for s in suggestions:
        unit = city.units[s["unit"]] if s["unit"] is not None else None
        text = s["template"].format(unit=unit.name if unit else "")
        screened = s["status"] != "pending"
        note = None
        if s["status"] == "valid":
            note = rnd.choice(names.SCREEN_VALID)
        elif s["status"] == "invalid":
            note = rnd.choice(names.SCREEN_INVALID)
        problem = s.get("problem")
        screened_at = None
        if screened:
            screened_at = city.office_time(
                city.workday_between(s["day"] + timedelta(days=1), s["day"] + timedelta(days=3))
            )
        rows.append(
            Suggestion(
                period_id=city.period.id,
                participant_id=s["informant"].id,
                unit_id=unit.id if unit else None,
                text=text,
                submitted_at=city.office_time(s["day"]),
                status=SuggestionStatus(s["status"]),
                screened_by="监督检查科" if screened else None,
                screened_at=screened_at,
                screen_note=note,
                problem_id=problem.id if problem else None,
            )
        )
    db.session.add_all(rows)
    city.counts["problems"] = len(problems)
    city.counts["overdue_problems"] = sum(p.is_overdue(as_of) for p in problems)
    city.counts["suggestions"] = len(rows)
    city.counts["valid_suggestions"] = sum(r.status is SuggestionStatus.VALID for r in rows)


def make_bonuses_and_scores(city: City) -> None:
    """Bonus items for a few strong units, and an appraisal score (0-100) for every institution."""
    rnd, rng = city.rnd, city.rng
    weights = np.exp(1.2 * city.quality)
    chosen = rng.choice(len(city.units), size=8, replace=False, p=weights / weights.sum())
    reasons = rnd.sample(names.BONUS_REASONS, 8)
    bonuses = [
        BonusItem(period_id=city.period.id, unit_id=city.units[i].id, reason=reason, points=points)
        for i, (reason, points) in zip(sorted(chosen.tolist()), reasons, strict=False)
    ]
    scores = []
    for i, unit in enumerate(city.units):
        if unit.kind is UnitKind.INSTITUTION:
            value = float(np.clip(86 + 5 * city.quality[i] + rng.normal(0, 2.5), 60, 99))
            scores.append(InstitutionScore(period_id=city.period.id, unit_id=unit.id, score=round(value, 1)))
    db.session.add_all(bonuses + scores)
    city.counts["bonuses"] = len(bonuses)
    city.counts["institution_scores"] = len(scores)
