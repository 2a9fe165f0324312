"""Single ratings that arrive while another is being written share one commit (unit_of_work._GroupCommits)."""

import threading
import time

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import BadRatingCase, Device, PublicRating
from assessment.services.ratings import ingest, unit_of_work
from tests.api.helpers import daytime, rating, spy_returns


def post_together(app, monkeypatch, posts):
    """Post (key, rating) pairs from one thread each while the first writer is held back until all the others
    are queued: they are then written as one group. Returns (answers in order of `posts`, group sizes)."""
    app.config.update(API_RATE_PER_SECOND=10_000, API_RATE_BURST=10_000, API_DEVICE_TOUCH_SECONDS=0)
    sizes = []
    real = unit_of_work._write_group

    def held_first(group, connection):
        sizes.append(len(group))
        if len(sizes) == 1:
            deadline = time.monotonic() + 30
            queue = app.extensions["rating_group_commits"]._queue
            while len(queue) < len(posts) - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        real(group, connection)

    monkeypatch.setattr(unit_of_work, "_write_group", held_first)
    answers = [None] * len(posts)

    def send(i):
        key, body = posts[i]
        response = app.test_client().post("/api/v1/ratings", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        answers[i] = response.get_json()["results"][0]

    first = threading.Thread(target=send, args=(0,))
    first.start()
    while not sizes:  # the first writer is in (and held): the others queue behind it
        time.sleep(0.005)
    others = [threading.Thread(target=send, args=(i,)) for i in range(1, len(posts))]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in [first, *others])
    return answers, sizes


def recount_matches(app):
    """Does rating_counts equal a recount of the stored ratings?"""
    with app.app_context():
        kept = db.session.execute(
            sa.text("SELECT period_id, unit_id, level, is_default, n FROM rating_counts WHERE n <> 0")
        ).all()
        counted = db.session.execute(
            sa.text(
                "SELECT period_id, unit_id, level, is_default, count(*) FROM public_ratings WHERE NOT excluded"
                " GROUP BY period_id, unit_id, level, is_default"
            )
        ).all()
    return sorted(map(tuple, kept)) == sorted(map(tuple, counted))


def test_queued_single_ratings_share_a_commit_and_keep_their_own_answers(app, make_device, monkeypatch):
    """Are single ratings queued together stored exactly once, each with its own exact answer?"""
    (a_id, a), (b_id, b) = make_device("U01", "1号窗口"), make_device("U01", "2号窗口")
    at = daytime(days_ago=2, hour=9)
    posts = [
        (a, rating("first", level=5, at=at)),
        (a, rating("g1", level=5, at=at.replace(minute=10))),
        (a, rating("g1", level=5, at=at.replace(minute=10))),  # the same event twice in one group
        (a, rating("g2", level=1, at=at.replace(minute=20), case_no="K1")),
        (b, rating("h1", level=4, at=at.replace(minute=30), case_no="K1")),  # the same case as g2
        (b, rating("h2", level=3, at=at.replace(minute=40))),
    ]
    # No look-up kept from before (a read through SQLAlchemy in prepare, which on PostgreSQL once stopped
    # the group's write from leaving autocommit), and no request may fall back to storing alone.
    app.extensions.pop("rating_periods", None)
    alone = []
    real_alone = unit_of_work._submit_alone
    monkeypatch.setattr(unit_of_work, "_submit_alone", lambda *args: alone.append(args) or real_alone(*args))
    answers, sizes = post_together(app, monkeypatch, posts)
    assert sizes == [1, 5] and alone == []
    status = [(x["event_id"], x["status"], x.get("reason")) for x in answers]
    assert status[0] == ("first", "accepted", None) and status[5] == ("h2", "accepted", None)
    assert sorted(status[1:3]) == [("g1", "accepted", None), ("g1", "duplicate", None)]
    # One rating per case: whichever was written first keeps K1, the other is rejected for it.
    assert sorted(status[3:5]) in (
        [("g2", "accepted", None), ("h1", "rejected", "case_taken")],
        [("g2", "rejected", "case_taken"), ("h1", "accepted", None)],
    )
    accepted = {(x["event_id"], k) for (k, _), x in zip(posts, answers, strict=True) if x["status"] == "accepted"}
    with app.app_context():
        rows = db.session.execute(sa.select(PublicRating.event_id, PublicRating.device_id)).all()
        assert sorted(rows) == sorted((e, a_id if k == a else b_id) for e, k in accepted)
        bad = db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating).where(PublicRating.level <= 2))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BadRatingCase)) == bad
        counters = dict(db.session.execute(sa.select(Device.id, Device.n_accepted)).all())
        duplicates = dict(db.session.execute(sa.select(Device.id, Device.n_duplicate)).all())
    assert counters[a_id] + counters[b_id] == len(rows) and duplicates[a_id] == 1
    assert recount_matches(app)


def test_a_failed_group_is_stored_again_request_by_request(app, make_device, monkeypatch):
    """When a shared commit fails, is nothing of it kept and is each rating then stored alone, exactly once?"""
    (_, a), (_, b) = make_device("U01", "1号窗口"), make_device("U01", "2号窗口")
    at = daytime(days_ago=2, hour=9)
    posts = [(a, rating("first", level=4, at=at))] + [
        (a if i % 2 else b, rating(f"e{i}", level=1 + i % 5, at=at.replace(minute=5 * i))) for i in range(1, 6)
    ]
    real_touch = unit_of_work.touch
    calls = []

    def failing_once(plan):
        calls.append(plan)
        if len(calls) == 3:  # inside the group of five, after some of its ratings were inserted
            raise sa.exc.OperationalError("UPDATE devices", {}, Exception("could not serialize access"))
        real_touch(plan)

    monkeypatch.setattr(unit_of_work, "touch", failing_once)
    answers, sizes = post_together(app, monkeypatch, posts)
    assert sizes == [1, 5]  # then each of the five alone (submit → _submit_alone)
    assert [x["status"] for x in answers] == ["accepted"] * 6
    with app.app_context():
        events = db.session.execute(sa.select(PublicRating.event_id)).scalars().all()
        bad = db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating).where(PublicRating.level <= 2))
        cases = db.session.scalar(sa.select(sa.func.count()).select_from(BadRatingCase))
    assert sorted(events) == sorted(["first"] + [f"e{i}" for i in range(1, 6)]) and cases == bad
    assert recount_matches(app)


def test_a_burst_formed_inside_a_group_is_flagged_with_one_read(app, make_device, monkeypatch):
    """Are queued top ratings inserted under their burst guard, with one read only for the one a burst takes in,
    and is the burst formed inside the group flagged on all of its ratings?"""
    app.config.update(RATING_BURST_MIN=3, RATING_BURST_SECONDS=120)
    _, a = make_device("U01", "1号窗口")
    at = daytime(days_ago=2, hour=9)
    # Written in event order: g3, the earliest, comes third and starts the burst's window (the guard's
    # "windows that start at the new rating").
    posts = [(a, rating("first", at=at))] + [
        (a, rating(event, at=at.replace(minute=minute, second=second)))
        for event, minute, second in (("g1", 10, 30), ("g2", 11, 0), ("g3", 10, 0), ("g4", 20, 0))
    ]
    reads = spy_returns(monkeypatch, ingest, "stored_neighbours")
    answers, sizes = post_together(app, monkeypatch, posts)
    assert sizes == [1, 4] and [x["status"] for x in answers] == ["accepted"] * 5
    # One read: g3's, kept out by its guard, in the group's transaction (which already holds g1 and g2).
    assert len(reads) == 1 and sorted(row.event_id for row in reads[0]) == ["g1", "g2"]
    with app.app_context():
        flags = dict(db.session.execute(sa.select(PublicRating.event_id, PublicRating.flags)).all())
    assert flags == {"first": None, "g1": ["burst"], "g2": ["burst"], "g3": ["burst"], "g4": None}
    assert recount_matches(app)


def test_a_failed_group_of_top_ratings_keeps_none_of_them(app, make_device, monkeypatch):
    """When the shared commit of top ratings (inserted under their burst guard) fails, is none of them kept,
    so that each, stored again alone, is answered accepted and stored once?"""
    _, a = make_device("U01", "1号窗口")
    at = daytime(days_ago=2, hour=9)
    posts = [(a, rating(f"t{i}", level=5, at=at.replace(minute=5 * i))) for i in range(6)]
    real_touch = unit_of_work.touch
    calls = []

    def failing_once(plan):
        calls.append(plan)
        if len(calls) == 3:  # inside the group of five, after all its ratings were inserted
            raise sa.exc.OperationalError("UPDATE devices", {}, Exception("could not serialize access"))
        real_touch(plan)

    monkeypatch.setattr(unit_of_work, "touch", failing_once)
    answers, sizes = post_together(app, monkeypatch, posts)
    assert sizes == [1, 5] and [x["status"] for x in answers] == ["accepted"] * 6
    with app.app_context():
        events = db.session.execute(sa.select(PublicRating.event_id)).scalars().all()
    assert sorted(events) == [f"t{i}" for i in range(6)]
    assert recount_matches(app)
