"""The demo city's builder and its first part: the period, the towns and units, the raters and the network.

`City` holds the two seeded generators, the moment the city is generated (China time) and what has been made
so far; the other modules of the package add their parts to it, always in the same order.

Time: nothing in the city lies after the moment it is generated. A past year is drawn in full; the current
year is drawn from 1 January to yesterday, with the calendar of a whole year compressed into the days that
have passed (`City.day`), so a city made in September is as complete as one made in January of the next year:
surveys answered, cases handled, problems found and closed — only earlier.
"""

import random
import re
from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta

import numpy as np

from ..extensions import db
from ..models import (
    Participant,
    ParticipantKind,
    Period,
    PeriodState,
    Rater,
    RaterGroup,
    Town,
    Unit,
    UnitKind,
)
from ..services.instruments import current_instruments, sync_instruments
from ..services.workdays import load_calendar
from ..timefmt import CST
from . import names

#: Sizes of the rater pool and the network.
N_GRASSROOTS = 320
N_LEADERS = 12
N_DEPUTIES = 40
N_EXPERTS = 14
N_INFORMANTS = 84


def year_of(period_name: str, today: date) -> int:
    """The year a period's name speaks of ("2026", "2026年度"), else the current year."""
    match = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", period_name)
    return int(match.group(1)) if match else today.year


class City:
    """The builder: the seeded generators, the city's calendar and what has been made so far."""

    def __init__(self, seed: int, period_name: str, now: datetime, progress=None):
        self.rnd = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.period_name = period_name
        #: The moment the city is generated (aware): nothing in it may lie later.
        self.now = now
        today = now.astimezone(CST).date()
        self.year = year_of(period_name, today)
        self.start = date(self.year, 1, 1)
        self.end = date(self.year, 12, 31)
        #: The last day things happen on: 31 December of a past year, yesterday in the current year.
        self.last = min(self.end, today - timedelta(days=1))
        if self.last < self.start:
            raise ValueError(
                f"period {period_name} has no day behind it on {today} (China time): nothing in it has happened yet"
            )
        #: The period's reference date (scoring.md): 31 December of a past year, today in the current year.
        self.as_of = min(self.end, today)
        #: Case steps stop here: the end of the period's last working day, or now.
        self.horizon = min(now, self.at(self.end, 18))
        self.progress = progress or (lambda done, total, label="": None)
        self.counts = {}
        self._names = set()
        self._phones = set()
        self.workdays = self._workdays()

    # --- time ----------------------------------------------------------------------------------------------
    def _workdays(self):
        """Working days up to `last` by the office's calendar (holidays and adjusted working days)."""
        calendar = load_calendar(self.start, self.last)
        days = [self.start + timedelta(days=d) for d in range((self.last - self.start).days + 1)]
        return [d for d in days if calendar.is_workday(d)]

    def day(self, month: int, day: int) -> date:
        """Where `month`/`day` of a whole year falls in the days the city has had: itself in a past year,
        proportionally earlier in the current one (1 January stays, 31 December becomes `last`)."""
        nominal = (date(self.year, month, day) - self.start).days
        span = (self.last - self.start).days
        full = (self.end - self.start).days
        return self.start + timedelta(days=round(nominal * span / full))

    def at(self, day: date, hour=9, minute=0, second=0) -> datetime:
        """A local (CST) time on `day`, timezone-aware."""
        return datetime.combine(day, time(hour, minute, second), tzinfo=CST)

    def capped(self, moment: datetime) -> datetime:
        """`moment`, or now if it would lie later."""
        return min(moment, self.now)

    def office_time(self, day: date) -> datetime:
        """A random moment of office hours (8:30-12:00, 13:30-17:30) on `day`."""
        s = self.rnd.randrange(27000)
        base = 8 * 3600 + 1800 + s if s < 12600 else 13 * 3600 + 1800 + s - 12600
        return datetime.combine(day, time(0), tzinfo=CST) + timedelta(seconds=base)

    def workday_between(self, first: date, last: date) -> date:
        """A random working day in [first, last], never after `self.last` (`first` itself when none is)."""
        last = min(last, self.last)
        first = min(first, last)
        days = self.workdays[bisect_left(self.workdays, first) : bisect_right(self.workdays, last)]
        return self.rnd.choice(days) if days else first

    # --- people --------------------------------------------------------------------------------------------
    def person(self) -> str:
        """A realistic, not yet used Chinese name (surname + one- or two-character given name)."""
        while True:
            given = (
                self.rnd.choice(names.GIVEN_NAMES) if self.rnd.random() < 0.75 else self.rnd.choice(names.GIVEN_SINGLE)
            )
            name = self.rnd.choice(names.SURNAMES) + given
            if name not in self._names:
                self._names.add(name)
                return name

    def phone(self) -> str:
        """A mobile number not yet used in the city."""
        while True:
            number = self.rnd.choice(names.PHONE_PREFIXES) + f"{self.rnd.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number


def make_period(city: City) -> None:
    """The open period over the calendar year (ratings posted tomorrow still land in it), judged as of
    `as_of`, and the instruments of the questionnaire definitions."""
    city.period = Period(
        name=city.period_name,
        state=PeriodState.OPEN,
        starts_on=city.start,
        ends_on=city.end,
        as_of=city.as_of,
        created_at=city.at(city.start, 9),
    )
    db.session.add(city.period)
    db.session.flush()
    sync_instruments(actor="demo")
    city.instruments = current_instruments()
    city.counts["instruments"] = len(city.instruments)


def make_towns_and_units(city: City) -> None:
    """The 13 towns and the units under evaluation, each unit with a latent quality."""
    rnd = city.rnd
    city.towns = [Town(code=f"T{i + 1:02d}", name=name) for i, name in enumerate(names.TOWNS)]
    db.session.add_all(city.towns)

    n = len(names.UNITS)
    over_staffed = set(rnd.sample(range(n), 4))
    over_leaders = set(rnd.sample(range(n), 2))
    city.units = []
    for i, (name, kind, category, (lo, hi), _windows, _relevance, _items) in enumerate(names.UNITS):
        establishment = rnd.randint(lo, hi)
        if i in over_staffed:
            actual = establishment + rnd.randint(1, 2 + establishment // 25)
        else:
            actual = establishment - rnd.randint(0, max(1, establishment // 8))
        posts = min(7, (2 if kind != "government" else 3) + establishment // 40)
        in_post = posts + 1 if i in over_leaders else posts - rnd.choice((0, 0, 0, 1))
        city.units.append(
            Unit(
                code=f"U{i + 1:03d}",
                name=name,
                kind=UnitKind(kind),
                category=category,
                establishment=establishment,
                actual_staff=actual,
                leader_posts=posts,
                leaders_in_post=in_post,
            )
        )
    db.session.add_all(city.units)
    db.session.flush()
    city.windows = np.array([u[4] for u in names.UNITS])
    city.relevance = np.array([u[5] for u in names.UNITS])
    city.kinds = [u[1] for u in names.UNITS]
    #: Latent quality of each unit (standard normal): the thread that runs through all of its results.
    city.quality = city.rng.normal(0.0, 1.0, n)
    city.counts["towns"] = len(city.towns)
    city.counts["units"] = n


def make_people(city: City) -> None:
    """The rater pool (grassroots, leaders, departments, deputies, experts), informants and linkage."""
    rnd = city.rnd
    raters = []
    per_town = [N_GRASSROOTS // len(city.towns)] * len(city.towns)
    for t in rnd.sample(range(len(city.towns)), N_GRASSROOTS % len(city.towns)):
        per_town[t] += 1
    code = 0
    for town, k in zip(city.towns, per_town, strict=False):
        for _ in range(k):
            code += 1
            raters.append(
                Rater(
                    code=f"G{code:04d}",
                    name=city.person(),
                    group=RaterGroup.GRASSROOTS,
                    town_id=town.id,
                    phone=city.phone(),
                )
            )
    for i in range(N_LEADERS):
        raters.append(Rater(code=f"L{i + 1:02d}", name=city.person(), group=RaterGroup.LEADER, phone=city.phone()))
    code = 0
    for unit in city.units:
        for _ in range(2 if rnd.random() < 0.4 else 1):
            code += 1
            raters.append(
                Rater(
                    code=f"D{code:03d}",
                    name=city.person(),
                    group=RaterGroup.DEPARTMENT,
                    unit_id=unit.id,
                    phone=city.phone(),
                )
            )
    for i in range(N_DEPUTIES):
        raters.append(Rater(code=f"P{i + 1:03d}", name=city.person(), group=RaterGroup.DEPUTY, phone=city.phone()))
    for i in range(N_EXPERTS):
        raters.append(Rater(code=f"E{i + 1:02d}", name=city.person(), group=RaterGroup.EXPERT, phone=city.phone()))
    db.session.add_all(raters)

    informants = []
    for i in range(N_INFORMANTS):
        town = city.towns[i % len(city.towns)]
        informants.append(
            Participant(
                code=f"I{i + 1:03d}",
                name=city.person(),
                town_id=town.id,
                kind=ParticipantKind.INFORMANT,
                phone=city.phone(),
            )
        )
    linkage = [
        Participant(
            code=f"K{i + 1:02d}", name=short, organisation=full, kind=ParticipantKind.LINKAGE, phone=city.phone()
        )
        for i, (short, full) in enumerate(names.LINKAGE)
    ]
    db.session.add_all(informants + linkage)
    db.session.flush()
    city.raters = raters
    city.informants = informants
    city.unit_index = {u.id: i for i, u in enumerate(city.units)}
    #: Leniency of each rater (points on the 1-5 scale added to everything they answer).
    city.leniency = city.rng.normal(0.0, 0.3, len(raters))
    by_group = {}
    for r in raters:
        by_group.setdefault(r.group, []).append(r)
    city.by_group = by_group
    city.counts.update(
        {
            "grassroots": len(by_group[RaterGroup.GRASSROOTS]),
            "leaders": len(by_group[RaterGroup.LEADER]),
            "department_raters": len(by_group[RaterGroup.DEPARTMENT]),
            "deputies": len(by_group[RaterGroup.DEPUTY]),
            "experts": len(by_group[RaterGroup.EXPERT]),
            "informants": len(informants),
            "linkage": len(linkage),
        }
    )
