"""The demo city (演示数据): a realistic county-level city, loaded into an empty database.

`load_demo` builds one evaluation year of a Zhucheng-like city: 13 towns, 62 units in five ranking
categories, the rater pool (grassroots, leaders, departments, deputies, experts), informants and linkage
departments, every instrument's assignments and answers, service-window devices with a year of public ratings
(好差评) and their bad-rating cases, check points, problems, suggestions, bonuses and institution scores.

The demo is data generation, not a service: it draws what people did (answers, levels, dates, texts) and
calls the real services for what follows from it — the suspicion flags, the bad-rating cases and their due
dates, an upheld appeal's exclusion, the content hash, device key hashing, the bulk writes. It never decides
scoring.

It is a bulk fixture loader, and it writes the database directly for speed: it adds the models and bulk-inserts
the rows itself (city.py, ledger.py, ratings.py, surveys.py) instead of going one record at a time through
services/ (`services.ledger`, `services.checkpoints`, `services.responses`), which would take minutes for the
~800k answers and the year of ratings. It is the one database writer outside services/, by this choice, and
it only ever fills an empty database; what follows from the data (flags, cases, hashes) still comes from the
services above.

Each unit has a latent quality and each rater a leniency, so results differ between units the way real ones
do. Everything is drawn from `random.Random(seed)` and `numpy.random.default_rng(seed)`, and every date
derives from the period's year, the day the city is generated and the office's working-day calendar, so the
same seed on the same day gives the same city, row for row. The only exceptions: the secret part of the
device keys (never shown, so nobody who knows the seed can post as a demo device), and the timestamps the
load itself stamps (audit entries, stored instruments). Nothing lies after the moment the city is generated
(see city.py).

The parts, in the order they are built (the order is part of the seed's meaning):
city.py (period, towns, units, people) → surveys.py (assignments, answers) → ratings.py (devices) →
ledger.py (check points, problems, suggestions, bonuses, scores) → ratings.py (ratings and flags, cases).
"""

from datetime import date, datetime, time

from sqlalchemy import func

from ..extensions import db
from ..models import Period, Rater, Unit
from ..services import audit
from ..timefmt import CST
from . import city as _city
from . import ledger as _ledger
from . import ratings as _ratings
from . import surveys as _surveys

#: The counts that lead the summary, in this order; the rest follow as they were made.
_FIRST = (
    "towns",
    "units",
    "grassroots",
    "leaders",
    "department_raters",
    "deputies",
    "experts",
    "informants",
    "linkage",
    "instruments",
)


class DemoRefused(Exception):
    """The database already holds data, so the demo city is not loaded over it."""


def load_demo(
    seed: int = 2026, n_ratings: int = 100_000, period_name: str = "2026", progress=None, today: date | None = None
) -> dict:
    """Load the demo city into an empty database; returns the counts of what was made, by kind.

    Only flushes: the caller commits (the `demo-data` command through `transactional`), and a failure
    anywhere leaves nothing written once the caller rolls back. Refuses (DemoRefused) when any unit, rater or
    period exists; raises ValueError when the period has no day behind it yet. `n_ratings` public ratings are
    spread over the period's days up to yesterday (China time); `progress(done, total, label)` is called as
    the work goes on. `today` (China date) is the day the city is generated: by default the real today, with
    nothing after this moment; a given day makes the city as it stood at the end of that day (the same seed
    and day give the same city, whenever it is run).
    """
    _refuse_unless_empty()
    city = _city.City(seed, str(period_name), _generated_at(today), progress)
    _city.make_period(city)
    _city.make_towns_and_units(city)
    _city.make_people(city)
    _surveys.make_assignments(city)
    _ratings.make_devices(city)
    _ledger.make_checkpoints(city)
    _ledger.make_problems_and_suggestions(city)
    _ledger.make_bonuses_and_scores(city)
    _ratings.make_ratings(city, n_ratings)
    _ratings.make_cases(city)
    counts = {k: city.counts[k] for k in _FIRST} | {k: v for k, v in city.counts.items() if k not in _FIRST}
    audit.record(
        "demo", "demo.load", "period", city.period.id, seed=seed, counts=counts, generated_at=city.now.isoformat()
    )
    db.session.flush()
    return counts


def _generated_at(today: date | None) -> datetime:
    """The moment the city is generated: now (China time), or the last second of the given day."""
    now = datetime.now(CST)
    if today is None or today == now.date():
        return now
    return datetime.combine(today, time(23, 59, 59), tzinfo=CST)


def _refuse_unless_empty():
    found = []
    for model, label in ((Unit, "unit(s)"), (Rater, "rater(s)"), (Period, "period(s)")):
        n = db.session.scalar(db.select(func.count()).select_from(model))
        if n:
            found.append(f"{n} {label}")
    if found:
        raise DemoRefused("database is not empty: " + ", ".join(found))
