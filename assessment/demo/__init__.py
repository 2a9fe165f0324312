"""The demo city (演示数据): a realistic county-level city, loaded into an empty database.

`load_demo` builds one evaluation year of a Zhucheng-like city: 13 towns, 62 units in five ranking
categories, the rater pool (grassroots, leaders, departments, deputies, experts), informants and linkage
departments, every instrument's assignments and answers, service-window devices with a year of public ratings
(好差评) and their bad-rating cases, check points, problems, suggestions, bonuses and institution scores.

Each unit has a latent quality and each rater a leniency, so results differ between units the way real ones
do. Everything is drawn from `random.Random(seed)` and `numpy.random.default_rng(seed)`, and every date
derives from the period's year (and the office's working-day calendar), so the same seed gives the same city,
row for row. The only exceptions: the secret part of the device keys (never shown, so nobody who knows the
seed can post as a demo device), and the audit entries' and stored instruments' timestamps (the real load).

Everything is written in one transaction: a failure leaves the database as it was.
"""

import hashlib
import random
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from sqlalchemy import Enum, func, update

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    AssignmentState,
    BadRatingCase,
    BonusItem,
    CaseClass,
    CaseState,
    Channel,
    CheckPoint,
    CheckPointStatus,
    CodeSystem,
    Device,
    InstitutionScore,
    Participant,
    ParticipantKind,
    Period,
    PeriodState,
    Problem,
    ProblemSource,
    ProblemState,
    PublicRating,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Severity,
    Suggestion,
    SuggestionStatus,
    Town,
    Unit,
    UnitKind,
)
from ..services import audit
from ..services.bulk import bulk_insert
from ..services.bulk import insert_new_ids as _insert_ids
from ..services.instruments import current_instruments, sync_instruments
from ..services.ratings import content_hash
from ..services.workdays import CST, case_working_days, load_calendar
from . import names

#: Rows per bulk insert of public ratings.
RATING_CHUNK = 20_000

#: Sizes of the city.
N_GRASSROOTS = 320
N_LEADERS = 12
N_DEPUTIES = 40
N_EXPERTS = 14
N_INFORMANTS = 84
N_CHECKPOINTS = 875
N_PROBLEMS = 120
N_SUGGESTIONS, N_VALID, N_PENDING, N_LINKED = 39, 21, 6, 8

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

#: Every column a bad-rating case row sets (None where the case has not got that far).
_CASE_COLUMNS = (
    "rating_id", "unit_id", "state", "assignee", "due_on", "opened_at", "assigned_at", "called_back_at",
    "callback_reached", "callback_note", "classified_at", "classification", "rectified_at", "rectification",
    "fed_back_at", "feedback_note", "appealed_at", "appeal", "reviewed_at", "review_upheld", "reviewed_by",
    "review_result", "closed_at",
)


class DemoRefused(Exception):
    """The database already holds data, so the demo city is not loaded over it."""


def load_demo(seed: int = 2026, n_ratings: int = 100_000, period_name: str = "2026", progress=None) -> dict:
    """Load the demo city into an empty database and commit; returns the counts of what was made, by kind.

    Refuses (DemoRefused) when any unit, rater or period exists. `n_ratings` public ratings are spread over
    the period's year; `progress(done, total, label)` is called as the work goes on.
    """
    _refuse_unless_empty()
    try:
        city = _DemoCity(seed, str(period_name), progress)
        counts = city.build(n_ratings)
        audit.record("demo", "demo.load", "period", city.period.id, seed=seed, counts=counts)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return counts


def _refuse_unless_empty():
    found = []
    for model, label in ((Unit, "unit(s)"), (Rater, "rater(s)"), (Period, "period(s)")):
        n = db.session.scalar(db.select(func.count()).select_from(model))
        if n:
            found.append(f"{n} {label}")
    if found:
        raise DemoRefused("database is not empty: " + ", ".join(found))


def _year_of(period_name: str) -> int:
    match = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", period_name)
    if match:
        return int(match.group(1))
    from ..services.periods import default_dates

    return default_dates(period_name)[0].year


class _DemoCity:
    """The builder: holds the two seeded generators and what has been made so far."""

    def __init__(self, seed, period_name, progress):
        self.rnd = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.period_name = period_name
        self.year = _year_of(period_name)
        self.start = date(self.year, 1, 1)
        self.end = date(self.year, 12, 31)
        self.progress = progress or (lambda done, total, label="": None)
        self.counts = {}
        self._names = set()
        self._phones = set()
        self.workdays = self._workdays()

    # --- helpers -----------------------------------------------------------------------------------------
    def _workdays(self):
        """Working days of the year by the office's calendar (holidays and adjusted working days)."""
        calendar = load_calendar(self.start, self.end)
        days = [self.start + timedelta(days=d) for d in range((self.end - self.start).days + 1)]
        return [d for d in days if calendar.is_workday(d)]

    def at(self, day: date, hour=9, minute=0, second=0) -> datetime:
        """A local (CST) time on `day`, timezone-aware."""
        return datetime.combine(day, time(hour, minute, second), tzinfo=CST)

    def office_time(self, day: date) -> datetime:
        """A random moment of office hours (8:30-12:00, 13:30-17:30) on `day`."""
        s = self.rnd.randrange(27000)
        base = 8 * 3600 + 1800 + s if s < 12600 else 13 * 3600 + 1800 + s - 12600
        return datetime.combine(day, time(0), tzinfo=CST) + timedelta(seconds=base)

    def workday_between(self, first: date, last: date) -> date:
        days = [d for d in self.workdays if first <= d <= last]
        return self.rnd.choice(days) if days else first

    def person(self) -> str:
        """A realistic, not yet used Chinese name (surname + one- or two-character given name)."""
        while True:
            given = (self.rnd.choice(names.GIVEN_NAMES) if self.rnd.random() < 0.75
                     else self.rnd.choice(names.GIVEN_SINGLE))
            name = self.rnd.choice(names.SURNAMES) + given
            if name not in self._names:
                self._names.add(name)
                return name

    def phone(self) -> str:
        while True:
            number = self.rnd.choice(names.PHONE_PREFIXES) + f"{self.rnd.randrange(10 ** 8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    # --- the whole city ----------------------------------------------------------------------------------
    def build(self, n_ratings):
        self.make_period()
        self.make_towns_and_units()
        self.make_people()
        self.make_assignments()
        self.make_devices()
        self.make_ledger()
        self.make_bonuses_and_scores()
        self.make_ratings(n_ratings)
        self.make_cases()
        db.session.flush()
        first = ("towns", "units", "grassroots", "leaders", "department_raters", "deputies", "experts",
                 "informants", "linkage", "instruments")
        return {k: self.counts[k] for k in first} | {k: v for k, v in self.counts.items() if k not in first}

    def make_period(self):
        self.period = Period(
            name=self.period_name, state=PeriodState.OPEN, starts_on=self.start, ends_on=self.end,
            as_of=self.end, created_at=self.at(self.start, 9),
        )
        db.session.add(self.period)
        db.session.flush()
        sync_instruments(actor="demo")
        self.instruments = current_instruments()
        self.counts["instruments"] = len(self.instruments)

    def make_towns_and_units(self):
        self.towns = [Town(code=f"T{i + 1:02d}", name=name) for i, name in enumerate(names.TOWNS)]
        db.session.add_all(self.towns)

        rnd = self.rnd
        n = len(names.UNITS)
        over_staffed = set(rnd.sample(range(n), 4))
        over_leaders = set(rnd.sample(range(n), 2))
        self.units = []
        for i, (name, kind, category, (lo, hi), _windows, _relevance, _items) in enumerate(names.UNITS):
            establishment = rnd.randint(lo, hi)
            if i in over_staffed:
                actual = establishment + rnd.randint(1, 2 + establishment // 25)
            else:
                actual = establishment - rnd.randint(0, max(1, establishment // 8))
            posts = min(7, (2 if kind != "government" else 3) + establishment // 40)
            in_post = posts + 1 if i in over_leaders else posts - rnd.choice((0, 0, 0, 1))
            self.units.append(Unit(
                code=f"U{i + 1:03d}", name=name, kind=UnitKind(kind), category=category,
                establishment=establishment, actual_staff=actual, leader_posts=posts, leaders_in_post=in_post,
            ))
        db.session.add_all(self.units)
        db.session.flush()
        self.windows = np.array([u[4] for u in names.UNITS])
        self.relevance = np.array([u[5] for u in names.UNITS])
        self.kinds = [u[1] for u in names.UNITS]
        #: Latent quality of each unit (standard normal): the thread that runs through all of its results.
        self.quality = self.rng.normal(0.0, 1.0, n)
        self.counts["towns"] = len(self.towns)
        self.counts["units"] = n

    def make_people(self):
        rnd = self.rnd
        raters = []
        per_town = [N_GRASSROOTS // len(self.towns)] * len(self.towns)
        for t in rnd.sample(range(len(self.towns)), N_GRASSROOTS % len(self.towns)):
            per_town[t] += 1
        code = 0
        for town, k in zip(self.towns, per_town):
            for _ in range(k):
                code += 1
                raters.append(Rater(code=f"G{code:04d}", name=self.person(), group=RaterGroup.GRASSROOTS,
                                    town_id=town.id, phone=self.phone()))
        for i in range(N_LEADERS):
            raters.append(Rater(code=f"L{i + 1:02d}", name=self.person(), group=RaterGroup.LEADER,
                                phone=self.phone()))
        code = 0
        for unit in self.units:
            for _ in range(2 if rnd.random() < 0.4 else 1):
                code += 1
                raters.append(Rater(code=f"D{code:03d}", name=self.person(), group=RaterGroup.DEPARTMENT,
                                    unit_id=unit.id, phone=self.phone()))
        for i in range(N_DEPUTIES):
            raters.append(Rater(code=f"P{i + 1:03d}", name=self.person(), group=RaterGroup.DEPUTY,
                                phone=self.phone()))
        for i in range(N_EXPERTS):
            raters.append(Rater(code=f"E{i + 1:02d}", name=self.person(), group=RaterGroup.EXPERT,
                                phone=self.phone()))
        db.session.add_all(raters)

        informants = []
        for i in range(N_INFORMANTS):
            town = self.towns[i % len(self.towns)]
            informants.append(Participant(code=f"I{i + 1:03d}", name=self.person(), town_id=town.id,
                                          kind=ParticipantKind.INFORMANT, phone=self.phone()))
        linkage = [
            Participant(code=f"K{i + 1:02d}", name=short, organisation=full, kind=ParticipantKind.LINKAGE,
                        phone=self.phone())
            for i, (short, full) in enumerate(names.LINKAGE)
        ]
        db.session.add_all(informants + linkage)
        db.session.flush()
        self.raters = raters
        self.informants = informants
        self.unit_index = {u.id: i for i, u in enumerate(self.units)}
        #: Leniency of each rater (points on the 1-5 scale added to everything they answer).
        self.leniency = self.rng.normal(0.0, 0.3, len(raters))
        by_group = {}
        for r in raters:
            by_group.setdefault(r.group, []).append(r)
        self.by_group = by_group
        self.counts.update({
            "grassroots": len(by_group[RaterGroup.GRASSROOTS]),
            "leaders": len(by_group[RaterGroup.LEADER]),
            "department_raters": len(by_group[RaterGroup.DEPARTMENT]),
            "deputies": len(by_group[RaterGroup.DEPUTY]),
            "experts": len(by_group[RaterGroup.EXPERT]),
            "informants": len(informants),
            "linkage": len(linkage),
        })

    # --- questionnaires ----------------------------------------------------------------------------------
    def _balanced_targets(self, counts, k, exclude=None):
        """k units for one rater, favouring the units fewest raters have so far (ties broken at random)."""
        keys = self.rng.random(len(self.units))
        candidates = (i for i in range(len(self.units)) if i != exclude)
        order = sorted(candidates, key=lambda i: (counts[i], keys[i]))
        chosen = sorted(order[:k])
        for i in chosen:
            counts[i] += 1
        return chosen

    def _plan(self):
        """(rater index, unit index, instrument key) of every assignment, in a fixed order."""
        rng = self.rng
        n_units = len(self.units)
        plan = []
        index = {id(r): i for i, r in enumerate(self.raters)}
        # Towns mostly deal with units that work in the towns; each town somewhat differently.
        base = np.array([0.35, 0.8, 1.4, 2.0])[self.relevance]
        town_taste = rng.lognormal(0.0, 0.3, (len(self.towns), n_units))
        town_pos = {t.id: i for i, t in enumerate(self.towns)}
        for r in self.by_group[RaterGroup.GRASSROOTS]:
            p = base * town_taste[town_pos[r.town_id]]
            k = int(rng.integers(18, 23))
            for u in sorted(rng.choice(n_units, size=k, replace=False, p=p / p.sum()).tolist()):
                plan.append((index[id(r)], u, "grassroots"))
        for r in self.by_group[RaterGroup.LEADER]:
            plan.extend((index[id(r)], u, "leader") for u in range(n_units))
        counts = [0] * n_units
        for r in self.by_group[RaterGroup.DEPARTMENT]:
            own = self.unit_index[r.unit_id]
            k = int(rng.integers(8, 13))
            plan.extend((index[id(r)], u, "peer") for u in self._balanced_targets(counts, k, exclude=own))
            plan.append((index[id(r)], own, "self"))
        counts = [0] * n_units
        for r in self.by_group[RaterGroup.DEPUTY]:
            k = int(rng.integers(13, 18))
            plan.extend((index[id(r)], u, "deputy") for u in self._balanced_targets(counts, k))
        for r in self.by_group[RaterGroup.EXPERT]:
            plan.extend((index[id(r)], u, "expert") for u in range(n_units))
        return plan

    def make_assignments(self):
        rng, rnd = self.rng, self.rnd
        plan = self._plan()
        n = len(plan)
        rater_ix = np.array([p[0] for p in plan])
        unit_ix = np.array([p[1] for p in plan])
        keys = [p[2] for p in plan]

        # A few raters never open their link; the rest submit most of what they are given.
        idle = rng.random(len(self.raters)) < 0.03
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

        created = self.at(date(self.year, 11, 10), 9)
        assignment_ids = _insert_ids(Assignment, [
            {"period_id": self.period.id, "rater_id": self.raters[rater_ix[j]].id,
             "unit_id": self.units[unit_ix[j]].id, "instrument_id": self.instruments[keys[j]].id,
             "state": states[j], "created_at": created}
            for j in range(n)
        ])

        values = self._answers(plan, rater_ix, unit_ix, keys)
        qids = {key: [q.qid for q in ins.questions] for key, ins in self.instruments.items()}

        # Responses: version 1 for those submitted, a server-side draft for those in progress.
        first, last = date(self.year, 11, 16), date(self.year, 12, 18)
        moment = {j: self.office_time(self.workday_between(first, last))
                  for j in range(n) if states[j] is not AssignmentState.NOT_OPENED}
        done = [j for j in moment if states[j] is AssignmentState.SUBMITTED]
        drafts = [j for j in moment if states[j] is AssignmentState.IN_PROGRESS]
        response_ids = _insert_ids(Response, [
            {"assignment_id": assignment_ids[j], "current_version": 1} for j in done
        ])
        draft_rows = []
        for j in drafts:
            k = rnd.randint(1, len(qids[keys[j]]) - 1)
            draft_rows.append({"assignment_id": assignment_ids[j], "current_version": 0,
                               "draft": dict(zip(qids[keys[j]][:k], values[j][:k])),
                               "draft_saved_at": moment[j]})
        if draft_rows:
            bulk_insert(Response, draft_rows)
        version_ids = _insert_ids(ResponseVersion, [
            {"response_id": rid, "version": 1, "submitted_at": moment[j], "source": ResponseSource.WEB}
            for j, rid in zip(done, response_ids)
        ])

        answers = [
            {"version_id": vid, "question": q, "value": v}
            for j, vid in zip(done, version_ids)
            for q, v in zip(qids[keys[j]], values[j])
        ]
        for start in range(0, len(answers), 50_000):
            bulk_insert(Answer, answers[start:start + 50_000])
            self.progress(min(start + 50_000, len(answers)), len(answers), "answers")

        self.counts.update({
            "assignments": n,
            "submitted": len(done),
            "in_progress": len(drafts),
            "not_opened": n - len(done) - len(drafts),
            "answers": len(answers),
        })

    def _answers(self, plan, rater_ix, unit_ix, keys):
        """Answers of every assignment (list of values per question; None = 不了解), drawn around unit quality,
        a per-unit-and-theme effect and the rater's leniency; a few raters give one answer to everything."""
        rng = self.rng
        n_units = len(self.units)
        themes = []
        for ins in self.instruments.values():
            for q in ins.questions:
                if q.theme not in themes:
                    themes.append(q.theme)
        theme_effect = {t: rng.normal(0.0, 0.2, n_units) for t in themes}

        # Straight-liners (same answer everywhere): a handful of grassroots raters and one deputy.
        straight = {}
        grassroots = [i for i, r in enumerate(self.raters) if r.group is RaterGroup.GRASSROOTS]
        deputies = [i for i, r in enumerate(self.raters) if r.group is RaterGroup.DEPUTY]
        for i in self.rnd.sample(grassroots, 8) + self.rnd.sample(deputies, 1):
            straight[i] = self.rnd.choice((5, 5, 5, 4, 3))

        values = [None] * len(plan)
        for key, ins in self.instruments.items():
            rows = np.array([j for j in range(len(plan)) if keys[j] == key], dtype=np.int64)
            if not len(rows):
                continue
            mean, slope = ANSWER_MODEL.get(key, (4.0, 0.4))
            qs = ins.questions
            u, r = unit_ix[rows], rater_ix[rows]
            cont = (mean + slope * self.quality[u] + self.leniency[r])[:, None] + np.stack(
                [theme_effect[q.theme][u] for q in qs], axis=1
            ) + rng.normal(0.0, 0.55, (len(rows), len(qs)))
            likert = np.clip(np.rint(cont), 1, 5)
            score = np.clip(np.rint((cont - 1) * 25 + rng.normal(0.0, 4.0, cont.shape)), 0, 100)
            is_score = np.array([q.type == "score100" for q in qs])
            answer = np.where(is_score[None, :], score, likert)
            # 不了解: more often about units a town seldom deals with; now and then a whole form of it.
            p_na = np.full(len(rows), 0.06 if key != "self" else 0.0)
            if key == "grassroots":
                p_na = p_na + np.where(self.relevance[u] <= 1, 0.06, 0.0)
            na = rng.random(cont.shape) < p_na[:, None]
            if key in ("grassroots", "deputy"):
                na |= (rng.random(len(rows)) < 0.01)[:, None]
            out = answer.tolist()
            na_list = na.tolist()
            for pos, j in enumerate(rows.tolist()):
                if int(rater_ix[j]) in straight:
                    v = float(straight[int(rater_ix[j])])
                    values[j] = [v if q.type == "likert5" else (v - 1) * 25 for q in qs]
                else:
                    values[j] = [None if na_list[pos][k] else out[pos][k] for k in range(len(qs))]
        return values

    # --- devices and public ratings ----------------------------------------------------------------------
    def _key(self):
        """A device key: a seeded prefix (to find the row) and a secret body that is never shown or kept."""
        prefix = f"dk{self.rnd.getrandbits(48):012x}"
        key = prefix + secrets.token_hex(32)
        return prefix, hashlib.sha256(key.encode("ascii")).hexdigest()

    def make_devices(self):
        created = self.at(self.start, 9)
        devices = []
        self.device_unit = []
        for i, unit in enumerate(self.units):
            for w in range(int(self.windows[i])):
                window = names.WINDOW_NAMES[w] if self.rnd.random() < 0.7 else names.WINDOW_NAMES[2 + w]
                location = (f"市民服务中心{self.rnd.randint(1, 3)}楼{unit.name}窗口" if self.rnd.random() < 0.6
                            else f"{unit.name}服务大厅")
                prefix, digest = self._key()
                devices.append(Device(
                    unit_id=unit.id, window=window, location=location, channel=Channel.WINDOW,
                    code_system=CodeSystem.STANDARD, key_prefix=prefix, key_hash=digest, created_at=created,
                ))
                self.device_unit.append(i)
        prefix, digest = self._key()
        self.online = Device(is_integration=True, channel=Channel.ONLINE, location="山东省政务服务网（诸城站）",
                             key_prefix=prefix, key_hash=digest, created_at=created)
        prefix, digest = self._key()
        self.hotline = Device(is_integration=True, channel=Channel.HOTLINE, location="12345政务服务便民热线",
                              key_prefix=prefix, key_hash=digest, created_at=created)
        db.session.add_all(devices + [self.online, self.hotline])
        db.session.flush()
        self.devices = devices
        self.counts["devices"] = len(devices)
        self.counts["integration_keys"] = 2

    def _level_tables(self):
        """Per unit, probabilities of levels 1..5: mostly 4-5; bad ratings a few percent for weak units."""
        q = self.quality
        bad = np.clip(0.018 - 0.012 * q, 0.003, 0.07)
        p3 = np.clip(0.045 - 0.02 * q, 0.01, 0.12)
        p4 = np.clip(0.17 - 0.04 * q, 0.06, 0.3)
        window = np.stack([0.45 * bad, 0.55 * bad, p3, p4, 1 - bad - p3 - p4], axis=1)
        # People who call the hotline about a unit are less pleased than those at its window.
        hot_bad = np.clip(3 * bad, 0.01, 0.2)
        hotline = np.stack([0.5 * hot_bad, 0.5 * hot_bad, 1.5 * p3, p4, 1 - hot_bad - 1.5 * p3 - p4], axis=1)
        return np.cumsum(window, axis=1), np.cumsum(hotline, axis=1)

    def make_ratings(self, n):
        rng = self.rng
        units = self.units
        n_units = len(units)
        if n <= 0 or not self.devices:
            self.counts.update({"ratings": 0, "default_ratings": 0})
            return
        # How much business each unit does (service windows and town relevance), with some spread.
        volume = (1.0 + self.windows + 0.3 * self.relevance) * rng.lognormal(0.0, 0.4, n_units)
        serves = np.array([k != "party" for k in self.kinds])
        has_windows = self.windows > 0

        n_online = int(round(n * 0.14))
        n_hotline = int(round(n * 0.06))
        n_window = n - n_online - n_hotline
        dev_unit = np.array(self.device_unit)
        p_dev = volume[dev_unit] / self.windows[dev_unit] * rng.lognormal(0.0, 0.25, len(dev_unit))
        dev_pick = rng.choice(len(dev_unit), size=n_window, p=p_dev / p_dev.sum())
        p_online = np.where(has_windows, volume, 0.0)
        p_hot = np.where(serves, volume + 1.0, 0.0)
        unit_ix = np.concatenate([
            dev_unit[dev_pick],
            rng.choice(n_units, size=n_online, p=p_online / p_online.sum()),
            rng.choice(n_units, size=n_hotline, p=p_hot / p_hot.sum()),
        ])
        channel = np.concatenate([np.zeros(n_window, np.int8), np.ones(n_online, np.int8),
                                  np.full(n_hotline, 2, np.int8)])
        device_ids = [d.id for d in self.devices] + [self.online.id, self.hotline.id]
        origins = [f"d{i}" for i in device_ids]
        dev = np.concatenate([dev_pick, np.full(n_online, len(self.devices)),
                              np.full(n_hotline, len(self.devices) + 1)])

        # Level by the unit's table; hotline callers are harder to please; 3% are system defaults (level 5).
        cum_window, cum_hotline = self._level_tables()
        cum = np.where((channel == 2)[:, None], cum_hotline[unit_ix], cum_window[unit_ix])
        level = 1 + (rng.random(n)[:, None] > cum[:, :4]).sum(axis=1)
        is_default = (channel != 2) & (rng.random(n) < 0.03)
        level[is_default] = 5

        # When: windows in office hours on workdays; online any day 7-23 h; hotline any day 8-21 h.
        all_days = np.array([datetime.combine(self.start + timedelta(days=d), time(0), tzinfo=CST).timestamp()
                             for d in range((self.end - self.start).days + 1)], dtype=np.int64)
        work_days = np.array([datetime.combine(d, time(0), tzinfo=CST).timestamp() for d in self.workdays],
                             dtype=np.int64)
        office = rng.integers(0, 27000, n)
        office = np.where(office < 12600, 30600 + office, 48600 + office - 12600)
        anytime = np.where(channel == 1, rng.integers(7 * 3600, 23 * 3600, n),
                           rng.integers(8 * 3600, 21 * 3600, n))
        ts = np.where(
            channel == 0,
            work_days[rng.integers(0, len(work_days), n)] + office,
            all_days[rng.integers(0, len(all_days), n)] + anytime,
        )
        delay = np.where(channel == 0, rng.integers(1, 30, n), rng.integers(300, 3600, n))
        offline = (channel == 0) & (rng.random(n) < 0.02)
        delay = np.where(offline, rng.integers(600, 2 * 86400, n), delay)

        # Arrival order: rows and ids follow the time of rating.
        order = np.argsort(ts, kind="stable")
        unit_ix, channel, dev, level, is_default, ts, delay = (
            a[order] for a in (unit_ix, channel, dev, level, is_default, ts, delay)
        )
        # Event ids count up per device.
        by_dev = np.argsort(dev, kind="stable")
        sorted_dev = dev[by_dev]
        starts = np.r_[0, np.flatnonzero(sorted_dev[1:] != sorted_dev[:-1]) + 1]
        seq = np.empty(n, np.int64)
        seq[by_dev] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1

        has_case = (channel != 0) | (rng.random(n) < 0.85)
        staff_n = rng.integers(3, 11, n_units)
        staff = rng.integers(0, 1000, n) % staff_n[unit_ix] + 1
        item_pick = rng.integers(0, 1000, n)
        comment_draw = rng.random(n)
        comment_pick = rng.integers(0, 1000, n)

        unit_codes = [u.code for u in units]
        unit_ids = [u.id for u in units]
        items = [names.UNITS[i][6] or ("政策咨询",) for i in range(n_units)]
        staff_codes = [[f"{code}-{k:02d}" for k in range(11)] for code in unit_codes]
        windows = [d.window for d in self.devices] + [None, None]
        channels = (Channel.WINDOW, Channel.ONLINE, Channel.HOTLINE)
        channel_values = [c.value for c in channels]
        event_prefix = ("EV", "WT", "RX")
        case_prefix = ("370782", "370782", "GD")
        # China date of each rating as YYYYMMDD, for case numbers.
        first_day = int(datetime.combine(self.start, time(0), tzinfo=CST).timestamp()) // 86400
        day_text = [f"{self.start + timedelta(days=d):%Y%m%d}" for d in range(367)]
        local_day = ((ts + 8 * 3600) // 86400 - first_day).tolist()

        cols = [a.tolist() for a in (unit_ix, channel, dev, level, is_default, ts, delay, seq, has_case,
                                     staff, item_pick, comment_draw, comment_pick)]
        period_id = self.period.id
        total_default = int(is_default.sum())
        utc = timezone.utc
        default_flag = ["default"]  # as the device API marks a system-default rating
        for start in range(0, n, RATING_CHUNK):
            rows = []
            for k in range(start, min(n, start + RATING_CHUNK)):
                u, ch, d, lv, dflt, t, dl, sq, hc, st, ip, cd, cp = (c[k] for c in cols)
                rated = datetime.fromtimestamp(t, utc)
                event_id = f"{event_prefix[ch]}{sq:08d}"
                case_no = f"{case_prefix[ch]}{day_text[local_day[k]]}{k:07d}" if hc else None
                service_item = "12345热线工单办理" if ch == 2 else items[u][ip % len(items[u])]
                staff_code = staff_codes[u][st] if ch == 0 else None
                comment = None
                if not dflt:
                    if lv <= 2 and cd < 0.35:
                        comment = names.BAD_COMMENTS[cp % len(names.BAD_COMMENTS)]
                    elif lv == 5 and cd < 0.015:
                        comment = names.GOOD_COMMENTS[cp % len(names.GOOD_COMMENTS)]
                rows.append({
                    "period_id": period_id, "unit_id": unit_ids[u], "device_id": device_ids[d],
                    "origin": origins[d], "event_id": event_id, "level": lv, "raw_code": lv,
                    "code_system": CodeSystem.STANDARD, "channel": channels[ch], "window": windows[d],
                    "service_item": service_item, "staff_code": staff_code, "case_no": case_no, "stage": "",
                    "comment": comment, "rated_at": rated, "received_at": datetime.fromtimestamp(t + dl, utc),
                    "is_default": dflt, "flags": default_flag if dflt else None, "flagged": False,
                    "real_name": hc, "excluded": False,
                    "content_hash": content_hash(event_id, unit_codes[u], lv, channel_values[ch], rated,
                                                 case_no, service_item, staff_code, comment, dflt),
                })
            bulk_insert(PublicRating, rows)
            self.progress(start + len(rows), n, "ratings")

        # Devices were last seen when their last rating arrived, having posted all of them.
        posted = np.bincount(dev, minlength=len(device_ids)).tolist()
        last_seen = np.zeros(len(device_ids), np.int64)
        np.maximum.at(last_seen, dev, ts + delay)
        all_devices = self.devices + [self.online, self.hotline]
        for device, n_posted, seen in zip(all_devices, posted, last_seen.tolist()):
            device.n_accepted = n_posted
            device.last_seen_at = datetime.fromtimestamp(seen, timezone.utc) if n_posted else None
        self.counts["ratings"] = n
        self.counts["default_ratings"] = total_default

    def make_cases(self):
        """A bad-rating case (差评工单) for every non-default rating at level 1-2, in a realistic mix of states.

        Cases follow the office's workflow (services/cases.py): assign → call back (real-name ratings) →
        classify → rectify or explain → feed back → close, or, for a rating judged unfounded, appeal → review,
        which excludes the rating when upheld. Due the office's number of working days after the rating; most
        are fed back in time, some late, a few never touched (overdue on as_of).
        """
        rows = db.session.execute(
            db.select(PublicRating.id, PublicRating.unit_id, PublicRating.rated_at, PublicRating.staff_code,
                      PublicRating.real_name)
            .where(PublicRating.period_id == self.period.id, PublicRating.level <= 2,
                   PublicRating.is_default.is_(False))
            .order_by(PublicRating.id)
        ).all()
        rnd = self.rnd
        working_days = case_working_days()
        calendar = load_calendar(self.start, self.end + timedelta(days=2 * working_days + 40))
        due = {}
        handlers = {u.id: [self.person() for _ in range(2)] for u in self.units}
        year_end = self.at(self.end, 18)
        classes = (CaseClass.REASONABLE, CaseClass.MISTAKEN, CaseClass.MALICIOUS, CaseClass.OUT_OF_SCOPE)
        cases, upheld = [], {}
        for rating_id, unit_id, rated_at, staff_code, real_name in rows:
            day = rated_at.astimezone(CST).date()
            if day not in due:
                due[day] = calendar.add_workdays(day, working_days)
            case = dict.fromkeys(_CASE_COLUMNS)
            case.update(rating_id=rating_id, unit_id=unit_id, state=CaseState.OPEN, due_on=due[day],
                        opened_at=rated_at + timedelta(minutes=rnd.randint(1, 30)))
            klass = rnd.choices(classes, weights=(60, 20, 5, 15))[0]
            steps = ["assign", "callback", "classify", "rectify", "feedback", "close"]
            if not real_name:
                steps.remove("callback")
            r = rnd.random()
            if r < 0.04:
                steps = []  # never touched
            elif r < 0.07:
                steps = steps[:-1]  # fed back, waiting to be closed
            elif klass is not CaseClass.REASONABLE and r < 0.3:
                steps[-1:] = ["appeal", "review"]
            slow = rnd.random() < 0.1
            gaps = {
                "assign": timedelta(hours=rnd.randint(1, 8)),
                "callback": timedelta(days=rnd.randint(0, 1), hours=rnd.randint(1, 6)),
                "classify": timedelta(hours=rnd.randint(2, 24)),
                "rectify": timedelta(days=rnd.randint(1, 3) + (8 if slow else 0)),
                "feedback": timedelta(days=rnd.randint(0, 1), hours=2),
                "close": timedelta(days=rnd.randint(1, 4)),
                "appeal": timedelta(days=rnd.randint(1, 3)),
                "review": timedelta(days=rnd.randint(3, 12)),
            }
            moment = case["opened_at"]
            for step in steps:
                moment = moment + gaps[step]
                if moment > year_end:
                    break
                if step == "assign":
                    case.update(state=CaseState.ASSIGNED, assigned_at=moment,
                                assignee=staff_code or rnd.choice(handlers[unit_id]))
                elif step == "callback":
                    reached = rnd.random() < 0.9
                    case.update(state=CaseState.CALLED_BACK, called_back_at=moment, callback_reached=reached,
                                callback_note=rnd.choice(names.CASE_CALLBACK_NOTES if reached
                                                         else names.CASE_CALLBACK_MISSED))
                elif step == "classify":
                    case.update(state=CaseState.CLASSIFIED, classified_at=moment, classification=klass)
                elif step == "rectify":
                    text = rnd.choice(names.CASE_RECTIFICATIONS if klass is CaseClass.REASONABLE
                                      else names.CASE_EXPLANATIONS)
                    case.update(state=CaseState.RECTIFIED, rectified_at=moment, rectification=text)
                elif step == "feedback":
                    case.update(state=CaseState.FED_BACK, fed_back_at=moment,
                                feedback_note=rnd.choice(names.CASE_FEEDBACK))
                elif step == "close":
                    case.update(state=CaseState.CLOSED, closed_at=moment)
                elif step == "appeal":
                    case.update(state=CaseState.APPEALED, appealed_at=moment,
                                appeal=rnd.choice(names.CASE_APPEALS))
                elif step == "review":
                    holds = rnd.random() < 0.6
                    result = names.CASE_REVIEWS[holds]
                    case.update(state=CaseState.CLOSED, closed_at=moment, reviewed_at=moment,
                                review_upheld=holds, reviewed_by="demo", review_result=result)
                    if holds:
                        reason = f"申诉复核成立（{names.CASE_CLASS_LABELS[klass.value]}）：{result}"
                        upheld.setdefault(reason, []).append(rating_id)
            cases.append(case)
        for start in range(0, len(cases), 20_000):
            bulk_insert(BadRatingCase, cases[start:start + 20_000])
        for reason, ids in upheld.items():
            db.session.execute(
                update(PublicRating).where(PublicRating.id.in_(ids))
                .values(excluded=True, excluded_reason=reason)
            )
        self.counts["bad_rating_cases"] = len(cases)
        self.counts["overdue_cases"] = sum(c["fed_back_at"] is None and c["due_on"] < self.end for c in cases)

    # --- the supervision ledger --------------------------------------------------------------------------
    def make_ledger(self):
        self.make_checkpoints()
        self.make_problems_and_suggestions()

    def make_checkpoints(self):
        rnd = self.rnd
        n_units = len(self.units)
        per_unit = [N_CHECKPOINTS // n_units] * n_units
        for i in rnd.sample(range(n_units), N_CHECKPOINTS % n_units):
            per_unit[i] += 1
        # Spread a little: move items between units, keeping the total.
        for _ in range(n_units):
            a, b = rnd.randrange(n_units), rnd.randrange(n_units)
            if per_unit[a] > 10 and per_unit[b] < 18:
                per_unit[a] -= 1
                per_unit[b] += 1
        quarter_ends = [date(self.year, 3, 31), date(self.year, 6, 30), date(self.year, 9, 30),
                        date(self.year, 12, 31)]
        rows = []
        for i, unit in enumerate(self.units):
            own = list(names.CHECKPOINTS_BY_UNIT[unit.name])
            items = own + rnd.sample(names.CHECKPOINTS_COMMON, per_unit[i] - len(own))
            q = float(self.quality[i])
            p_not_done = min(0.2, max(0.0, 0.04 - 0.035 * q))
            p_late = min(0.25, max(0.02, 0.09 - 0.05 * q))
            for item in items:
                due = (rnd.choice(quarter_ends) if rnd.random() < 0.6
                       else date(self.year, rnd.randint(1, 12), rnd.randint(10, 28)))
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
                rows.append(CheckPoint(period_id=self.period.id, unit_id=unit.id, item=item, due=due,
                                       status=status, evidence=evidence))
        db.session.add_all(rows)
        self.counts["check_points"] = len(rows)

    def make_problems_and_suggestions(self):
        rnd, rng = self.rnd, self.rng
        as_of = self.end
        n_units = len(self.units)

        # Suggestions first, in time order: the valid ones found about a unit may become problems.
        n_invalid = N_SUGGESTIONS - N_VALID - N_PENDING
        plan = ["valid"] * N_VALID + ["invalid"] * n_invalid + ["pending"] * N_PENDING
        rnd.shuffle(plan)
        days = sorted(self.workday_between(date(self.year, 1, 20), date(self.year, 11, 30))
                      for _ in range(N_SUGGESTIONS))
        # Pending ones are the most recent.
        pending_days = sorted(self.workday_between(date(self.year, 12, 1), date(self.year, 12, 24))
                              for _ in range(N_PENDING))
        suggestions = []
        for status in plan:
            day = pending_days.pop(0) if status == "pending" else days.pop(0)
            template = rnd.choice(names.SUGGESTIONS)
            unit_i = None
            if "{unit}" in template:
                weights = np.exp(-0.5 * self.quality) * (0.3 + self.relevance)
                unit_i = int(rng.choice(n_units, p=weights / weights.sum()))
            suggestions.append({"status": status, "day": day, "template": template, "unit": unit_i,
                                "informant": rnd.choice(self.informants)})
        suggestions.sort(key=lambda s: s["day"])
        linkable = [s for s in suggestions if s["status"] == "valid" and s["unit"] is not None]
        linked = linkable[:N_LINKED]

        # Problems: weak units have more; sources as the office's ledger usually shows them.
        weights = np.exp(-0.7 * self.quality)
        per_unit = rng.multinomial(N_PROBLEMS - len(linked), weights / weights.sum())
        sources = {"linkage": 45, "supervision": 18, "audit": 14, "inspection": 10, "petition": 10,
                   "expert": 6, "evaluation": 6, "other": 3}
        specs = []
        for i in range(n_units):
            for _ in range(int(per_unit[i])):
                source = rnd.choices(list(sources), weights=list(sources.values()))[0]
                if source == "linkage":
                    quarter = rnd.randint(1, 3)
                    found = self.workday_between(date(self.year, 3 * quarter + 1, 2),
                                                 date(self.year, 3 * quarter + 1, 16))
                else:
                    found = self.workday_between(date(self.year, 1, 15), date(self.year, 12, 10))
                specs.append({"unit": i, "source": source, "found": found, "suggestion": None})
        for s in linked:
            found = min(s["day"] + timedelta(days=rnd.randint(3, 10)), date(self.year, 12, 20))
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
            q = float(self.quality[i])
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
            state = (ProblemState.CLOSED if closed_on else
                     ProblemState.RECTIFYING if rnd.random() < 0.6 else ProblemState.OPEN)
            unit = self.units[i]
            problems.append(Problem(
                period_id=self.period.id, unit_id=unit.id, title=title, source=ProblemSource(source),
                category=rnd.choice(names.PROBLEM_CATEGORIES), severity=severity, found_on=found,
                deadline=deadline, closed_on=closed_on,
                responsible=f"{self.person()}（{rnd.choice(names.RESPONSIBLE_TITLES)}）", state=state,
                pushed_at=self.at(found + timedelta(days=1), 9, 30),
                evidence="整改报告及佐证材料已上传，经核查予以销号" if closed_on else None,
                created_at=self.at(found, 16),
            ))
            if spec["suggestion"] is not None:
                spec["suggestion"]["problem"] = problems[-1]
        db.session.add_all(problems)
        db.session.flush()

        rows = []
        for s in suggestions:
            unit = self.units[s["unit"]] if s["unit"] is not None else None
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
                screened_at = self.office_time(self.workday_between(s["day"] + timedelta(days=1),
                                                                    s["day"] + timedelta(days=3)))
            rows.append(Suggestion(
                period_id=self.period.id, participant_id=s["informant"].id, unit_id=unit.id if unit else None,
                text=text, submitted_at=self.office_time(s["day"]), status=SuggestionStatus(s["status"]),
                screened_by="监督检查科" if screened else None, screened_at=screened_at, screen_note=note,
                problem_id=problem.id if problem else None,
            ))
        db.session.add_all(rows)
        self.counts["problems"] = len(problems)
        self.counts["overdue_problems"] = sum(p.is_overdue(as_of) for p in problems)
        self.counts["suggestions"] = len(rows)
        self.counts["valid_suggestions"] = sum(r.status is SuggestionStatus.VALID for r in rows)

    def make_bonuses_and_scores(self):
        rnd, rng = self.rnd, self.rng
        weights = np.exp(1.2 * self.quality)
        chosen = rng.choice(len(self.units), size=8, replace=False, p=weights / weights.sum())
        reasons = rnd.sample(names.BONUS_REASONS, 8)
        bonuses = [
            BonusItem(period_id=self.period.id, unit_id=self.units[i].id, reason=reason, points=points)
            for i, (reason, points) in zip(sorted(chosen.tolist()), reasons)
        ]
        scores = []
        for i, unit in enumerate(self.units):
            if unit.kind is UnitKind.INSTITUTION:
                value = float(np.clip(86 + 5 * self.quality[i] + rng.normal(0, 2.5), 60, 99))
                scores.append(InstitutionScore(period_id=self.period.id, unit_id=unit.id,
                                               score=round(value, 1)))
        db.session.add_all(bonuses + scores)
        self.counts["bonuses"] = len(bonuses)
        self.counts["institution_scores"] = len(scores)
