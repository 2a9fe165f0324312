"""The demo city: complete, deterministic, meaningful, never in the future, never loaded over real data."""

import os
import shutil
from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from assessment import create_app
from assessment.demo import DemoRefused, load_demo
from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    AssignmentState,
    BadRatingCase,
    Instrument,
    Participant,
    ParticipantKind,
    Problem,
    PublicRating,
    Rater,
    RaterGroup,
    Response,
    ResponseVersion,
    Town,
    Unit,
)
from assessment.models.base import UTCDateTime
from assessment.timefmt import CST

N_RATINGS = 2000
#: The day the shared city is generated: mid-year, so the current year's compressed calendar is what the
#: tests below look at (and the city is the same whenever they run).
TODAY = date(2026, 9, 15)


def _fresh_url(migrated_template, directory, name):
    """An empty migrated database: a copy of the SQLite template, or the PostgreSQL test database emptied."""
    if isinstance(migrated_template, str):
        engine = sa.create_engine(migrated_template)
        with engine.begin() as conn:
            tables = (
                conn.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
                    )
                )
                .scalars()
                .all()
            )
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    path = directory / f"{name}.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


def _app(url, directory):
    instance = directory / "instance"
    instance.mkdir(exist_ok=True)
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(instance)
    try:
        return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    finally:
        del os.environ["ASSESSMENT_INSTANCE_PATH"]


def _load(migrated_template, directory, name, seed, today=TODAY, **options):
    """Load a demo city into a fresh database and commit (as the command does); returns (app, counts)."""
    app = _app(_fresh_url(migrated_template, directory, name), directory)
    with app.app_context():
        counts = load_demo(seed=seed, n_ratings=options.pop("n_ratings", N_RATINGS), today=today, **options)
        db.session.commit()
        db.session.remove()
    return app, counts


@pytest.fixture(scope="module")
def city(migrated_template, tmp_path_factory):
    """One demo city (seed 2026, made on TODAY) shared by the read-only tests of this module; yields (app,
    counts)."""
    app, counts = _load(migrated_template, tmp_path_factory.mktemp("demo"), "city", 2026)
    yield app, counts
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_ctx(city):
    app, _ = city
    with app.app_context():
        yield
        db.session.rollback()


def _count(query):
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _submitted(group=None):
    query = (
        sa.select(Assignment.id, Assignment.unit_id, Assignment.rater_id, Instrument.key)
        .join(Response, Response.assignment_id == Assignment.id)
        .join(ResponseVersion, ResponseVersion.response_id == Response.id)
        .join(Instrument, Instrument.id == Assignment.instrument_id)
    )
    return query if group is None else query.where(Instrument.key == group)


def test_counts(city, demo_ctx):
    """Is the demo city Zhucheng-sized: 13 towns, 60+ units, the full rater pool and the network?"""
    _, counts = city

    def n(model, *where):
        return _count(sa.select(model.id).where(*where))

    assert n(Town) == counts["towns"] == 13
    assert n(Unit) == counts["units"] >= 60
    assert n(Rater, Rater.group == RaterGroup.GRASSROOTS) >= 310
    assert n(Rater, Rater.group == RaterGroup.EXPERT) == 14
    assert n(Rater, Rater.group == RaterGroup.LEADER) >= 10
    assert n(Rater, Rater.group == RaterGroup.DEPUTY) >= 30
    assert n(Participant, Participant.kind == ParticipantKind.INFORMANT) == 84
    assert n(Participant, Participant.kind == ParticipantKind.LINKAGE) == 10
    assert n(PublicRating) == counts["ratings"] >= N_RATINGS
    assert n(Answer) == counts["answers"] > 50_000
    assert 800 <= counts["check_points"] <= 950
    assert counts["suggestions"] == 39 and counts["valid_suggestions"] == 21


def test_every_category_can_be_ranked(demo_ctx):
    """Does every ranking category hold at least 6 units, and do some units exceed their establishment?"""
    sizes = db.session.execute(sa.select(Unit.category, sa.func.count()).group_by(Unit.category)).all()
    assert len(sizes) >= 4
    assert all(size >= 6 for _, size in sizes)
    over = db.session.scalars(sa.select(Unit).where(Unit.actual_staff > Unit.establishment)).all()
    assert 1 <= len(over) <= 8


def test_every_unit_has_enough_grassroots_raters(demo_ctx):
    """Does every unit get at least 5 submitted grassroots responses, so its grassroots leaves count?"""
    per_unit = dict(
        db.session.execute(
            sa.select(sa.literal_column("unit_id"), sa.func.count())
            .select_from(_submitted("grassroots").subquery())
            .group_by(sa.literal_column("unit_id"))
        ).all()
    )
    units = db.session.scalars(sa.select(Unit.id)).all()
    assert all(per_unit.get(u, 0) >= 5 for u in units)


def test_response_rates_below_100_percent(demo_ctx):
    """Are some assignments left unopened and some in progress, while every submitted one has answers?"""
    states = dict(db.session.execute(sa.select(Assignment.state, sa.func.count()).group_by(Assignment.state)).all())
    assert states[AssignmentState.NOT_OPENED] > 0 and states[AssignmentState.IN_PROGRESS] > 0
    assert states[AssignmentState.SUBMITTED] > 0.8 * sum(states.values())
    without_answers = _count(
        sa.select(ResponseVersion.id)
        .outerjoin(Answer, Answer.version_id == ResponseVersion.id)
        .where(Answer.id.is_(None))
    )
    assert without_answers == 0


def test_department_raters_never_peer_rate_their_own_unit(demo_ctx):
    """Does no department rater rate their own unit in peer review, while each rates it in self review?"""
    own = (
        sa.select(Assignment.id, Instrument.key)
        .join(Rater, Rater.id == Assignment.rater_id)
        .join(Instrument, Instrument.id == Assignment.instrument_id)
        .where(Rater.unit_id == Assignment.unit_id)
    )
    keys = db.session.execute(own).all()
    assert keys and {key for _, key in keys} == {"self"}
    peers_per_unit = db.session.execute(
        sa.select(sa.literal_column("unit_id"), sa.func.count())
        .select_from(_submitted("peer").subquery())
        .group_by(sa.literal_column("unit_id"))
    ).all()
    assert len(peers_per_unit) == _count(sa.select(Unit.id))
    assert min(n for _, n in peers_per_unit) >= 3


def test_answers_include_dont_know_and_straight_lining(demo_ctx):
    """Do answers include 不了解 (about 8%) and a few straight-lining raters, and stay within their scales?"""
    total = _count(sa.select(Answer.id))
    na = _count(sa.select(Answer.id).where(Answer.value.is_(None)))
    assert 0.04 < na / total < 0.12
    assert db.session.scalar(sa.select(sa.func.min(Answer.value))) >= 0
    assert db.session.scalar(sa.select(sa.func.max(Answer.value))) <= 100
    spread = (
        sa.select(Assignment.rater_id)
        .join(Response, Response.assignment_id == Assignment.id)
        .join(ResponseVersion, ResponseVersion.response_id == Response.id)
        .join(Answer, Answer.version_id == ResponseVersion.id)
        .join(Instrument, Instrument.id == Assignment.instrument_id)
        .where(Instrument.key == "grassroots")
        .group_by(Assignment.rater_id)
        .having(sa.func.count(sa.distinct(Answer.value)) == 1, sa.func.count(Answer.id) >= 8)
    )
    assert 1 <= _count(spread) <= 20


def test_some_problems_are_overdue(city, demo_ctx):
    """Are some problems still open past their deadline on as_of (so approvals are suspended), most closed?"""
    from assessment.models import Period

    as_of = db.session.scalar(sa.select(Period.as_of))
    problems = db.session.scalars(sa.select(Problem)).all()
    overdue_open = [p for p in problems if p.closed_on is None and p.deadline < as_of]
    closed_late = [p for p in problems if p.closed_on is not None and p.closed_on > p.deadline]
    assert overdue_open and closed_late
    assert sum(p.closed_on is not None for p in problems) > len(problems) / 2
    assert city[1]["overdue_problems"] == len(overdue_open) + len(closed_late)


def test_bad_ratings_have_cases(demo_ctx):
    """Does every non-default level 1-2 rating have exactly one case, and no other rating have one?"""
    bad = set(
        db.session.scalars(
            sa.select(PublicRating.id).where(PublicRating.level <= 2, PublicRating.is_default.is_(False))
        )
    )
    cased = db.session.scalars(sa.select(BadRatingCase.rating_id)).all()
    assert bad and len(cased) == len(set(cased)) and set(cased) == bad


def test_ratings_look_like_a_year_of_service(demo_ctx):
    """Are ratings mostly 4-5, a few percent 1-2, ~3% system defaults, from windows, online and hotline?"""
    levels = dict(db.session.execute(sa.select(PublicRating.level, sa.func.count()).group_by(PublicRating.level)).all())
    total = sum(levels.values())
    assert (levels.get(4, 0) + levels[5]) / total > 0.85
    assert 0.005 < (levels.get(1, 0) + levels.get(2, 0)) / total < 0.08
    defaults = _count(sa.select(PublicRating.id).where(PublicRating.is_default.is_(True)))
    assert 0.01 < defaults / total < 0.06
    channels = {c.value for c in db.session.scalars(sa.select(PublicRating.channel).distinct())}
    assert channels == {"window", "online", "hotline"}
    duplicates = _count(
        sa.select(PublicRating.origin).group_by(PublicRating.origin, PublicRating.event_id).having(sa.func.count() > 1)
    )
    assert duplicates == 0


# --- nothing in the future ------------------------------------------------------------------------------

#: Columns that hold a plan, not something that happened: they may lie ahead.
PLANS = {("periods", "ends_on"), ("problems", "deadline"), ("bad_rating_cases", "due_on"), ("calendar_days", "day")}
#: Columns the load itself stamps with the real time (not part of the drawn city).
LOAD_STAMPS = {
    ("audit_log", "at"),
    ("instruments", "created_at"),
    ("calendar_days", "updated_at"),
    ("settings", "updated_at"),
}


def _latest_moments():
    """{(table, column): latest value} of every date and time column that holds a value, plans excepted."""
    latest = {}
    for table in db.metadata.sorted_tables:
        for column in table.c:
            if (table.name, column.name) in PLANS or not isinstance(column.type, (UTCDateTime, sa.Date)):
                continue
            value = db.session.scalar(sa.select(sa.func.max(column)))
            if value is not None:
                latest[table.name, column.name] = value
    return latest


def _after(latest, moment, skip=frozenset()):
    """The columns whose latest value lies after `moment` (dates after its China date)."""
    day = moment.astimezone(CST).date()
    return {
        key: value
        for key, value in latest.items()
        if key not in skip and (value > moment if isinstance(value, datetime) else value > day)
    }


def test_nothing_lies_after_the_day_it_was_made(city, demo_ctx):
    """Does every recorded moment of a city made on TODAY (ratings, arrivals, device contacts, case steps,
    check points, problems, suggestions, submissions, drafts) lie on or before that day's end?"""
    latest = _latest_moments()
    for key in [
        ("public_ratings", "rated_at"),
        ("public_ratings", "received_at"),
        ("devices", "last_seen_at"),
        ("bad_rating_cases", "fed_back_at"),
        ("bad_rating_cases", "reviewed_at"),
        ("check_points", "due"),
        ("problems", "closed_on"),
        ("problems", "pushed_at"),
        ("suggestions", "screened_at"),
        ("response_versions", "submitted_at"),
        ("responses", "draft_saved_at"),
    ]:
        assert key in latest, key  # the check below looks at it
    end_of_today = datetime.combine(TODAY, time(23, 59, 59), tzinfo=CST)
    assert _after(latest, end_of_today, skip=LOAD_STAMPS) == {}
    # The drawn city ends with yesterday: only arrivals and case steps reach into the day itself.
    assert latest["public_ratings", "rated_at"].astimezone(CST).date() < TODAY
    from assessment.models import Period

    period = db.session.scalars(sa.select(Period)).one()
    assert period.as_of == TODAY and period.ends_on == date(2026, 12, 31)


def test_cases_come_from_the_case_service(demo_ctx):
    """Is every case due the office's working days after its rating's China date (as services/cases.py
    computes it), and is exactly every upheld appeal's rating excluded, with the service's reason?"""
    from assessment.services.ratings.cases import due_on
    from assessment.services.workdays import china_date

    rows = db.session.execute(
        sa.select(BadRatingCase, PublicRating).join(PublicRating, PublicRating.id == BadRatingCase.rating_id)
    ).all()
    assert rows
    for case, rating in rows[:200]:
        assert case.opened_at == rating.rated_at
        assert case.due_on == due_on(china_date(rating.rated_at))
    upheld = [rating for case, rating in rows if case.review_upheld]
    excluded = db.session.scalars(sa.select(PublicRating).where(PublicRating.excluded.is_(True))).all()
    assert upheld and {r.id for r in upheld} == {r.id for r in excluded}
    assert all(r.excluded_reason.startswith("申诉复核成立（") for r in excluded)


def test_pressed_bursts_are_flagged_by_the_rescan(demo_ctx):
    """Are the runs of top ratings pressed at one window flagged as bursts by the office's rescan, and does
    no rating carry any flag but default and burst?"""
    flagged = db.session.scalars(sa.select(PublicRating).where(PublicRating.flagged.is_(True))).all()
    assert len(flagged) >= 5
    assert all("burst" in r.flags and r.level == 5 for r in flagged)
    kinds = {f for flags in db.session.scalars(sa.select(PublicRating.flags)) if flags for f in flags}
    assert kinds == {"default", "burst"}


# --- loads of their own (on PostgreSQL they reuse the one test database: keep them after the read-only
# tests of the shared city) ---------------------------------------------------------------------------


def _dump():
    """The city as plain rows, in id order: units, raters, answers (with who and what) and ratings."""
    units = db.session.execute(
        sa.select(
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.kind,
            Unit.category,
            Unit.establishment,
            Unit.actual_staff,
            Unit.leader_posts,
            Unit.leaders_in_post,
        ).order_by(Unit.id)
    ).all()
    raters = db.session.execute(
        sa.select(Rater.id, Rater.code, Rater.name, Rater.group, Rater.town_id, Rater.unit_id, Rater.phone).order_by(
            Rater.id
        )
    ).all()
    answers = db.session.execute(
        sa.select(Answer.id, Assignment.rater_id, Assignment.unit_id, Instrument.key, Answer.question, Answer.value)
        .join(ResponseVersion, ResponseVersion.id == Answer.version_id)
        .join(Response, Response.id == ResponseVersion.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Instrument, Instrument.id == Assignment.instrument_id)
        .order_by(Answer.id)
    ).all()
    ratings = db.session.execute(
        sa.select(
            PublicRating.id,
            PublicRating.origin,
            PublicRating.event_id,
            PublicRating.unit_id,
            PublicRating.level,
            PublicRating.channel,
            PublicRating.rated_at,
            PublicRating.received_at,
            PublicRating.case_no,
            PublicRating.service_item,
            PublicRating.staff_code,
            PublicRating.is_default,
            PublicRating.content_hash,
        ).order_by(PublicRating.id)
    ).all()
    problems = db.session.execute(
        sa.select(Problem.unit_id, Problem.title, Problem.found_on, Problem.deadline, Problem.closed_on).order_by(
            Problem.id
        )
    ).all()
    cases = db.session.execute(sa.select(*(c for c in BadRatingCase.__table__.c)).order_by(BadRatingCase.id)).all()
    flags = db.session.execute(
        sa.select(
            PublicRating.id,
            PublicRating.flags,
            PublicRating.flagged,
            PublicRating.excluded,
            PublicRating.excluded_reason,
        ).order_by(PublicRating.id)
    ).all()
    return {
        "units": units,
        "raters": raters,
        "answers": answers,
        "ratings": ratings,
        "problems": problems,
        "cases": cases,
        "flags": flags,
    }


def test_same_seed_same_city(city, migrated_template, tmp_path):
    """Does the same seed on the same day give the same city in another empty database, row for row (cases
    and flags too), and another seed another?"""
    app, _ = city
    with app.app_context():
        first = _dump()
        db.session.remove()
    dumps = []
    for name, seed in (("again", 2026), ("other", 12)):
        other_app, _ = _load(migrated_template, tmp_path, name, seed)
        with other_app.app_context():
            dumps.append(_dump())
            db.session.remove()
            db.engine.dispose()
    again, other = dumps
    for kind in first:
        assert first[kind] == again[kind], kind
    assert first["raters"] != other["raters"]
    assert first["answers"] != other["answers"]
    assert first["ratings"] != other["ratings"]


def test_refuses_a_database_that_is_not_empty(app, ctx):
    """Does the demo refuse to load over existing data, and write nothing?"""
    from assessment.models import UnitKind

    db.session.add(Unit(code="X1", name="市委编办", kind=UnitKind.PARTY, category="党群部门"))
    db.session.commit()
    with pytest.raises(DemoRefused, match=r"database is not empty: 1 unit\(s\)"):
        load_demo(seed=1, n_ratings=10)
    assert _count(sa.select(Rater.id)) == 0


def test_failure_midway_leaves_no_half_city(app, ctx, monkeypatch):
    """Does a failure late in the load (after the ratings) leave the database as empty as it was, once the
    caller's commit point rolls back (load_demo itself never commits)?"""
    from assessment.demo import ratings

    def broken(city):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ratings, "make_cases", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load_demo(seed=3, n_ratings=500)
    db.session.rollback()
    for model in (Unit, Rater, Answer, PublicRating):
        assert _count(sa.select(model.id)) == 0


def test_load_leaves_the_commit_to_its_caller(app, ctx):
    """Does a whole load that its caller rolls back leave nothing behind (load_demo only flushes)?"""
    counts = load_demo(seed=5, n_ratings=300, today=TODAY)
    assert counts["units"] == 62 and _count(sa.select(Unit.id)) == 62
    db.session.rollback()
    for model in (Unit, Rater, Answer, PublicRating, BadRatingCase):
        assert _count(sa.select(model.id)) == 0


def test_cli_failure_midway_writes_nothing(runner, app, monkeypatch):
    """Does `assessment demo-data` that fails after the ratings exit non-zero and leave the database empty?"""
    from assessment.demo import ratings

    def broken(city):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ratings, "make_cases", broken)
    result = runner.invoke(args=["demo-data", "--seed", "3", "--ratings", "500"])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    with app.app_context():
        for model in (Unit, Rater, Answer, PublicRating):
            assert _count(sa.select(model.id)) == 0


def test_cli_refuses_a_period_with_nothing_behind_it(runner, app):
    """Does `assessment demo-data --period` of a year still to come fail with a clear message, writing
    nothing?"""
    year = datetime.now(CST).year + 1
    result = runner.invoke(args=["demo-data", "--period", str(year), "--ratings", "100"])
    assert result.exit_code != 0
    assert f"period {year} has no day behind it" in result.output
    with app.app_context():
        assert _count(sa.select(Unit.id)) == 0


def test_cli_loads_the_demo_city(runner, app):
    """Does `assessment demo-data --seed 7 --ratings 1000` load the city, and refuse a second time?"""
    result = runner.invoke(args=["demo-data", "--seed", "7", "--ratings", "1000"])
    assert result.exit_code == 0, result.output
    assert "Demo city loaded: towns 13, units 62" in result.output
    with app.app_context():
        assert _count(sa.select(PublicRating.id)) == 1000
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0
    assert "database is not empty" in again.output


def test_nothing_lies_in_the_future_of_now(migrated_template, tmp_path):
    """Does a city of the current year made now hold nothing (not even what the load stamps) after now?"""
    now = datetime.now(CST)
    year = now.year if now.date() > date(now.year, 1, 1) else now.year - 1
    app, _ = _load(migrated_template, tmp_path, "now", 11, today=None, n_ratings=1500, period_name=str(year))
    with app.app_context():
        latest = _latest_moments()
        after = _after(latest, datetime.now(UTC))
        db.session.remove()
        db.engine.dispose()
    assert ("public_ratings", "received_at") in latest and ("bad_rating_cases", "opened_at") in latest
    assert after == {}
