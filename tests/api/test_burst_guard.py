"""The single top rating's insert decides its bursts itself (flags.burst_guard) on both engines: one statement
when no burst can take it in, the read and the usual flags when one may."""

import logging
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import PublicRating
from assessment.services.ratings import ingest, unit_of_work
from tests.api.helpers import daytime, rating, spy_returns

WINDOW = 120  # seconds: RATING_BURST_SECONDS


def _in_a_burst(new, stored, need):
    """Independent of flags.py: is the new time in `need` or more times (it and the stored ones) that fit within
    WINDOW seconds? Brute force over every window that starts at one of them."""
    times = sorted(stored + [new])
    return any(
        start <= new <= start + timedelta(seconds=WINDOW)
        and sum(start <= t <= start + timedelta(seconds=WINDOW) for t in times) >= need
        for start in times
    )


def test_a_lone_top_rating_is_one_guarded_insert(app, make_device, post, monkeypatch, caplog):
    """Is a top rating among stored ones that make no burst stored by its insert alone, with no read of them?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=5, RATING_BURST_SECONDS=WINDOW)
    _, key = make_device()
    at = daytime(days_ago=1, hour=9)
    post(key, {"ratings": [rating(f"s{i}", at=at + timedelta(seconds=37 * i), staff_code="S1") for i in range(4)]})
    reads = spy_returns(monkeypatch, ingest, "stored_neighbours")
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    with caplog.at_level(logging.WARNING):
        answer = post(key, rating("new", at=at + timedelta(seconds=37 * 4), staff_code="S1")).get_json()
    assert answer["results"] == [{"event_id": "new", "status": "accepted"}]
    assert reads == [] and len(alone) == 1 and alone[0] is not None and not caplog.records
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert flags == {f"s{i}": None for i in range(4)} | {"new": None}
    assert post(key, rating("new", at=at + timedelta(seconds=37 * 4), staff_code="S1")).get_json()["duplicate"] == 1


@pytest.mark.parametrize("need", [2, 3])
def test_the_guard_agrees_with_the_burst_rule(app, make_device, post, monkeypatch, need):
    """Over random neighbourhoods (times to the microsecond, window edges, both groups, distractors), does the
    guard keep out exactly the top ratings a burst takes in, and are those then flagged as bursts?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=need, RATING_BURST_SECONDS=WINDOW)
    rnd = random.Random(11)
    offsets = [-121, -120, -119.999999, -90, -60.5, -37, -0.000001, 0, 0.000001, 30, 60, 83.25, 119.999999, 120]
    offsets += [120.000001, 150, -150]
    #: Hand-picked first: the window's edges to the microsecond (a span of exactly WINDOW is a burst).
    edges = [[-0.000001, 119.999999], [-0.000002, 119.999999], [-120, -60], [-120.000001, -60], [-60.5, 59.5]]
    edges += [[-60.5, 59.500001], [30, 120], [30, 120.000001], [-30.25, 89.75], [-30.25, 89.750001]]
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    expected, guarded, flagged = {}, {}, {}
    for trial in range(2 * len(edges) + 36):
        kind = ("device", "staff", "both")[trial % 3] if trial >= 2 * len(edges) else ("device", "staff")[trial % 2]
        device_id, key = make_device("U01", f"{trial + 1}号窗口")
        _, other = make_device("U01", f"{trial + 1}号旁窗口")
        _, elsewhere = make_device("U02", f"{trial + 1}号窗口")  # the same staff code there is someone else
        staff = f"T{trial}" if kind != "device" else None
        new_at = daytime(days_ago=2 + trial // 12, hour=8 + trial % 12)
        if trial >= 2 * len(edges):
            new_at += timedelta(microseconds=rnd.choice([0, 1, 250_000, 999_999]))
        own = [rating(f"t{trial}-first", level=3, at=new_at - timedelta(hours=1))]  # first contact: counters
        theirs, far, device_times, staff_times = [], [], [], []
        chosen = edges[trial // 2] if trial < 2 * len(edges) else rnd.sample(offsets, rnd.randint(1, 7))
        for n, offset in enumerate(chosen):
            at = new_at + timedelta(seconds=offset)
            level, default = (5, False)
            if trial >= 2 * len(edges):
                level, default = rnd.choice([(5, False), (5, False), (5, False), (4, False), (5, True)])
            mine = kind == "device" or (kind == "both" and rnd.random() < 0.5)
            body = rating(f"t{trial}-{n}", level=level, at=at, is_default=default)
            if mine:
                own.append(body)
                if level == 5 and not default:
                    device_times.append(at)
            elif trial >= 2 * len(edges) and rnd.random() < 0.25:
                far.append({**body, "staff_code": staff})
            else:
                theirs.append({**body, "staff_code": staff})
                if level == 5 and not default:
                    staff_times.append(at)
        for sender, bodies in ((key, own), (other, theirs), (elsewhere, far)):
            if bodies:
                assert post(sender, {"ratings": bodies}).status_code == 200
        event = f"new{trial}"
        expected[event] = _in_a_burst(new_at, device_times, need) or _in_a_burst(new_at, staff_times, need)
        before = len(alone)
        extra = {"staff_code": staff} if staff else {}
        assert post(key, rating(event, at=new_at, **extra)).get_json()["accepted"] == 1
        guarded[event] = alone[before] is None  # the first lone write: None when the guard kept it out
    with app.app_context():
        rows = db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all()
    flagged = {event: "burst" in (flags or []) for event, flags in rows if event in expected}
    assert guarded == expected and flagged == expected
    assert 5 <= sum(expected.values()) <= len(expected) - 5  # both outcomes are represented


def test_an_integration_rating_is_guarded_by_its_staff_code_only(app, make_device, post, monkeypatch):
    """Is an integration's top rating kept out by a burst of its unit's staff code, and not by its own others?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=3)
    _, hotline = make_device(None, None, integration=True, channel="hotline")
    _, window = make_device("U01", "9号窗口")
    at = daytime(days_ago=1, hour=11)
    other_staff = [rating(f"h{i}", at=at + timedelta(seconds=i), unit_code="U01", staff_code="Z1") for i in range(4)]
    post(hotline, {"ratings": other_staff})  # four of the hotline's own, for another staff code
    post(window, {"ratings": [rating(f"w{i}", at=at + timedelta(seconds=10 + i), staff_code="Z2") for i in range(2)]})
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    post(hotline, rating("h-new", at=at + timedelta(seconds=20), unit_code="U01", staff_code="Z3"))
    post(hotline, rating("h-z2", at=at + timedelta(seconds=20), unit_code="U01", staff_code="Z2"))
    assert alone[0] is not None and alone[1] is None  # Z3 has no burst; Z2 makes three within the window
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert flags["h-new"] is None and flags["h-z2"] == ["burst"] and flags["w0"] == flags["w1"] == ["burst"]


def test_the_same_staff_code_in_another_unit_is_another_group(app, make_device, post, monkeypatch):
    """Do top ratings for the same staff code at another unit stay out of a rating's burst, guard and flags?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=3, RATING_BURST_SECONDS=WINDOW)
    _, here = make_device("U01", "5号窗口")
    _, there = make_device("U02", "5号窗口")
    at = daytime(days_ago=1, hour=10)
    post(here, rating("first", level=3, at=at - timedelta(hours=1)))
    post(there, {"ratings": [rating(f"u2-{i}", at=at - timedelta(seconds=10 * i), staff_code="Z") for i in (1, 2)]})
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    post(here, rating("u1", at=at, staff_code="Z"))
    assert len(alone) == 1 and alone[0] is not None  # let in by the guard: no burst at its own unit
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert flags == {"first": None, "u2-1": None, "u2-2": None, "u1": None}


def test_a_burst_of_one_is_read_as_before(app, make_device, post, monkeypatch):
    """With RATING_BURST_MIN 1 (every top rating a burst of itself), is no guard made, and each one flagged?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=1, RATING_BURST_SECONDS=WINDOW)
    _, key = make_device()
    at = daytime(days_ago=1, hour=14)
    post(key, rating("first", level=3, at=at - timedelta(hours=1)))
    guards = spy_returns(monkeypatch, ingest, "_guard_of")
    for n in range(2):
        post(key, rating(f"top{n}", at=at + timedelta(minutes=10 * n)))
    assert guards == [None, None]
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert flags == {"first": None, "top0": ["burst"], "top1": ["burst"]}


@pytest.mark.parametrize("last, burst", [(120.25, True), (120.26, False)])
def test_a_window_of_a_half_second_is_exact(app, make_device, post, monkeypatch, last, burst):
    """With a 120.5 s window and bursts of three, is a rating between ratings 0.25 s before and `last` s after it
    flagged exactly when the three span at most 120.5 s (guarded on PostgreSQL, read on SQLite)?"""
    app.config.update(API_DEVICE_TOUCH_SECONDS=3600, RATING_BURST_MIN=3, RATING_BURST_SECONDS=120.5)
    _, key = make_device()
    at = daytime(days_ago=1, hour=15)
    around = [rating("before", at=at - timedelta(seconds=0.25)), rating("after", at=at + timedelta(seconds=last))]
    post(key, {"ratings": [rating("first", level=3, at=at - timedelta(hours=1))] + around})
    guards = spy_returns(monkeypatch, ingest, "_guard_of")
    assert post(key, rating("new", at=at)).get_json()["accepted"] == 1
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
        guarded = db.engine.dialect.name == "postgresql"  # SQLite adds whole seconds only to stored text
    assert (guards[0] is not None) == guarded
    assert flags["new"] == (["burst"] if burst else None)
    assert flags["before"] == flags["after"] == (["burst"] if burst else None)
