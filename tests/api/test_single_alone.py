"""A single rating whose storing is its insert and nothing else is one INSERT in autocommit
(unit_of_work._write_alone), on both engines."""

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import BadRatingCase, Device, PublicRating
from assessment.services.ratings import ingest, unit_of_work
from assessment.services.ratings.connection import current as current_connection
from tests.api.helpers import daytime, rating, spy_returns


def _autocommit() -> bool:
    """Whether the unit of work's connection is in the driver's autocommit mode right now."""
    connection = current_connection.get()
    driver = connection.connection.driver_connection
    return driver.isolation_level is None if connection.dialect.name == "sqlite" else driver.autocommit


def _counters(app, device_id):
    with app.app_context():
        device = db.session.get(Device, device_id)
        return device.n_accepted, device.n_duplicate, device.last_seen_at


def _seen_device(app, make_device, post, first_level=5):
    """A device whose counters are not due for an hour and that has posted once (first contact writes them):
    (device id, key, the morning it rates)."""
    app.config["API_DEVICE_TOUCH_SECONDS"] = 3600
    device_id, key = make_device()
    at = daytime(days_ago=1, hour=9)
    post(key, rating("first", level=first_level, at=at))
    return device_id, key, at


def test_a_plain_single_rating_is_stored_alone_and_committed(app, make_device, post, monkeypatch):
    """Is a plain single rating one INSERT in autocommit, committed, counted, its accepted count kept for later?"""
    device_id, key, at = _seen_device(app, make_device, post)
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    modes = []
    real_store = unit_of_work.store
    monkeypatch.setattr(unit_of_work, "store", lambda plan: modes.append(_autocommit()) or real_store(plan))
    answer = post(key, rating("plain", level=4, at=at.replace(minute=30))).get_json()
    assert answer["results"] == [{"event_id": "plain", "status": "accepted"}] and len(alone) == 1
    assert modes == [True]  # the driver itself in autocommit: no BEGIN, no COMMIT
    with app.app_context():  # another connection sees it: committed
        stored = db.session.execute(sa.select(PublicRating.event_id, PublicRating.level)).all()
        counts = db.session.execute(sa.text("SELECT level, sum(n) FROM rating_counts GROUP BY level")).all()
    assert sorted(stored) == [("first", 5), ("plain", 4)] and sorted(map(tuple, counts)) == [(4, 1), (5, 1)]
    assert _counters(app, device_id)[:2] == (1, 0)  # not written yet: waiting in this process
    assert app.extensions["device_touch"][device_id][1] == 1


def test_a_resent_single_rating_is_a_duplicate_counted_at_once(app, make_device, post, monkeypatch):
    """Is a plain single rating sent again a duplicate, stored once, and counted on the device at once?"""
    device_id, key, at = _seen_device(app, make_device, post)
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    body = rating("again", level=3, at=at.replace(minute=20))
    assert post(key, body).get_json()["results"][0]["status"] == "accepted"
    assert post(key, body).get_json()["results"][0]["status"] == "duplicate"
    assert len(alone) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating)) == 2
    assert _counters(app, device_id)[:2] == (2, 1)


def test_what_needs_more_than_an_insert_is_not_written_alone(app, make_device, post, monkeypatch):
    """Do a bad rating, a burst's last rating and due counters go through a transaction, stored with all they need?"""
    app.config["RATING_BURST_MIN"] = 3
    device_id, key, at = _seen_device(app, make_device, post, first_level=3)
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    post(key, rating("bad", level=1, at=at.replace(minute=10)))
    assert alone == []
    post(key, rating("b1", at=at.replace(minute=20)))
    post(key, rating("b2", at=at.replace(minute=20, second=10)))
    assert len(alone) == 2
    post(key, rating("b3", at=at.replace(minute=20, second=20)))  # the third top rating within the window
    assert len(alone) == 3 and alone[2] is None  # the burst guard kept it out of the lone insert
    app.config["API_DEVICE_TOUCH_SECONDS"] = 0
    post(key, rating("due", level=4, at=at.replace(minute=40)))
    assert len(alone) == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BadRatingCase)) == 1
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert all(flags[e] == ["burst"] for e in ("b1", "b2", "b3")) and flags["due"] is None
    assert _counters(app, device_id)[:2] == (6, 0)


def test_a_failed_write_alone_is_stored_again_once(app, make_device, post, monkeypatch):
    """When the lone insert fails, is the rating stored again in a transaction of its own, once, and accepted?"""
    _, key, at = _seen_device(app, make_device, post)
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    failures = []
    real_insert = ingest.insert_one

    def failing_once(connection, params, guard=None):
        if not failures:
            failures.append(params["event_id"])
            connection.begin()  # as the real one does, before its statement fails
            raise sa.exc.OperationalError("INSERT INTO public_ratings", {}, Exception("server closed the connection"))
        return real_insert(connection, params, guard)

    monkeypatch.setattr(ingest, "insert_one", failing_once)
    answer = post(key, rating("retried", level=4, at=at.replace(minute=30))).get_json()
    assert answer["results"] == [{"event_id": "retried", "status": "accepted"}]
    assert failures == ["retried"] and len(alone) == 1
    with app.app_context():
        events = db.session.execute(sa.select(PublicRating.event_id)).scalars().all()
    assert sorted(events) == ["first", "retried"]


def test_a_failure_after_the_lone_insert_keeps_its_answer(app, make_device, post, monkeypatch):
    """When something fails after the lone insert went through, is the rating still answered accepted, once?"""
    device_id, key, at = _seen_device(app, make_device, post)

    def failing(plan, accepted_later=False):
        raise sa.exc.OperationalError("UPDATE devices", {}, Exception("the server closed the connection"))

    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    monkeypatch.setattr(unit_of_work, "touch", failing)
    answer = post(key, rating("kept", level=4, at=at.replace(minute=30))).get_json()
    assert answer["results"] == [{"event_id": "kept", "status": "accepted"}] and len(alone) == 1
    with app.app_context():
        events = db.session.execute(sa.select(PublicRating.event_id)).scalars().all()
    assert sorted(events) == ["first", "kept"] and _counters(app, device_id)[:2] == (1, 0)
