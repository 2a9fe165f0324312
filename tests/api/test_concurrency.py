"""Several threads post overlapping batches to a running server at once: each rating is stored exactly once."""

import json
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import BadRatingCase, Device, PublicRating
from assessment.services.ratings import unit_of_work
from tests.api.helpers import daytime, rating, spy_returns


@pytest.fixture
def server(app, live_server):
    """The app on a loopback server, with every request writing the device's counters (to check them)."""
    app.config.update(API_RATE_PER_SECOND=10_000, API_RATE_BURST=10_000, API_DEVICE_TOUCH_SECONDS=0)
    return live_server


def send(url, key, body):
    request = urllib.request.Request(
        url + "/api/v1/ratings",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def race(server, devices, posts):
    """12 threads, 4 per device, each sending the bodies `posts(rnd)` gives it (a random.Random of its own seed);
    returns every answer as (device index, event_id, status), once all threads are done and all answered 200."""
    answers, failures = [], []
    lock = threading.Lock()

    def worker(seed, device_index):
        _, key = devices[device_index]
        for body in posts(random.Random(seed)):
            status, payload = send(server, key, body)
            with lock:
                if status != 200:
                    failures.append((status, payload))
                else:
                    answers.extend((device_index, a["event_id"], a["status"]) for a in payload["results"])

    threads = [threading.Thread(target=worker, args=(seed, seed % 3)) for seed in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a posting thread hung"
    assert not failures
    return answers


def assert_stored_once(app, devices, answers):
    """What every race must leave: each accepted rating stored once for its device, nothing else stored; only
    ratings whose case number another device's rating took first are missing; one case per bad rating; the
    device counters (with the accepted counts waiting in the server for their device's next write) and
    rating_counts equal to the stored ratings."""
    assert set(s for _, _, s in answers) <= {"accepted", "duplicate", "rejected"}
    accepted = Counter((d, e) for d, e, s in answers if s == "accepted")
    assert all(n == 1 for n in accepted.values())
    rejected = [(d, e) for d, e, s in answers if s == "rejected"]
    with app.app_context():
        rows = db.session.execute(sa.select(PublicRating.device_id, PublicRating.event_id)).all()
        ids = {device_id: n for n, (device_id, _) in enumerate(devices)}
        stored = Counter((ids[device_id], event_id) for device_id, event_id in rows)
        assert all(n == 1 for n in stored.values())
        assert set(stored) == set(accepted)
        # Case numbers are shared across devices (the event's number), so some ratings lost theirs to another.
        sent = {(d, e) for d, e, _ in answers}
        assert all(_number(e) % 5 == 0 for _, e in sent - set(stored))
        assert all(_number(e) % 5 == 0 and (d, e) not in stored for d, e in rejected)
        cases = db.session.execute(sa.select(BadRatingCase.rating_id)).scalars().all()
        bad = db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating).where(PublicRating.level <= 2))
        assert len(cases) == len(set(cases)) == bad
        case_nos = (
            db.session.execute(sa.select(PublicRating.case_no).where(PublicRating.case_no.is_not(None))).scalars().all()
        )
        assert len(case_nos) == len(set(case_nos))
        totals = db.session.execute(sa.select(sa.func.sum(Device.n_accepted))).scalar()
        waiting = sum(entry[1] for entry in app.extensions.get("device_touch", {}).values())
        assert totals + waiting == len(rows)
        kept = db.session.execute(sa.text("SELECT sum(n) FROM rating_counts")).scalar()
        assert kept == len(rows)


def _number(event_id):
    """The event's number: ev0005 and s0005 are 5."""
    return int(event_id.lstrip("evs"))


def racing_ratings(prefix, start):
    """Event i's rating: levels spread 1-5, every fifth a bad rating with case number `prefix`-i (shared by the
    devices), times 3 minutes apart so that no burst is flagged."""

    def body(i):
        case_no = f"{prefix.upper()}-{i}" if i % 5 == 0 else None
        return rating(f"{prefix}{i:04d}", level=1 + i % 5, at=start + timedelta(minutes=3 * i), case_no=case_no)

    return body


def test_overlapping_batches_from_many_threads_store_each_rating_once(app, server, make_device):
    """Do 12 threads racing overlapping batches (3 devices) store every rating and case exactly once?"""
    devices = [make_device("U01", f"{n}号窗口") for n in (1, 2, 3)]
    body = racing_ratings("ev", daytime(days_ago=5, hour=9))
    n_events = 240

    def posts(rnd):
        # Overlapping windows of the same events, in the thread's own order, and one batch retried.
        first = rnd.randrange(0, n_events // 2)
        events = list(range(first, first + n_events // 2))
        rnd.shuffle(events)
        batches = [events[k : k + 30] for k in range(0, len(events), 30)]
        return [{"ratings": [body(i) for i in batch]} for batch in batches + batches[:1]]

    assert_stored_once(app, devices, race(server, devices, posts))


def race_singles(app, server, make_device, days_ago):
    """Race overlapping single ratings from 12 threads (3 devices) and check that each was stored once."""
    devices = [make_device("U01", f"{n}号窗口") for n in (1, 2, 3)]
    body = racing_ratings("s", daytime(days_ago=days_ago, hour=9))
    n_events = 90

    def posts(rnd):
        first = rnd.randrange(0, n_events // 2)
        events = list(range(first, first + n_events // 3))
        rnd.shuffle(events)
        return [body(i) for i in events + events[:5]]  # and a few sent again, as a device does when an answer was lost

    assert_stored_once(app, devices, race(server, devices, posts))


def test_overlapping_single_ratings_from_many_threads_store_each_rating_once(app, server, make_device):
    """Do 12 threads racing overlapping single ratings (3 devices) store every rating and case exactly once?"""
    race_singles(app, server, make_device, days_ago=4)


def test_racing_single_ratings_written_alone_store_each_rating_once(app, server, make_device, monkeypatch):
    """Do 12 threads racing singles, written alone in autocommit where they can be, store each rating once?"""
    app.config["API_DEVICE_TOUCH_SECONDS"] = 3600
    alone = spy_returns(monkeypatch, unit_of_work, "_write_alone")
    race_singles(app, server, make_device, days_ago=3)
    assert any(isinstance(answers, list) for answers in alone)  # some were written alone, not only tried
