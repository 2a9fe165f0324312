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
from tests.api.helpers import daytime, rating


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


def test_overlapping_batches_from_many_threads_store_each_rating_once(app, server, make_device):
    """Do 12 threads racing overlapping batches (3 devices) store every rating and case exactly once?"""
    devices = [make_device("U01", f"{n}号窗口") for n in (1, 2, 3)]
    start = daytime(days_ago=5, hour=9)
    n_events = 240

    def body(i):
        # Levels spread 1-5 (every fifth a bad rating with a case); times spaced so no burst is flagged.
        return rating(
            f"ev{i:04d}", level=1 + i % 5, at=start + timedelta(minutes=3 * i), case_no=f"C-{i}" if i % 5 == 0 else None
        )

    answers = []
    failures = []
    lock = threading.Lock()

    def worker(seed, device_index):
        rnd = random.Random(seed)
        _, key = devices[device_index]
        # Each thread posts overlapping windows of the same events, in its own order, and retries one batch.
        first = rnd.randrange(0, n_events // 2)
        events = list(range(first, first + n_events // 2))
        rnd.shuffle(events)
        batches = [events[k : k + 30] for k in range(0, len(events), 30)]
        batches.append(batches[0])
        for batch in batches:
            status, payload = send(server, key, {"ratings": [body(i) for i in batch]})
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
    accepted = Counter((d, e) for d, e, s in answers if s == "accepted")
    assert set(s for _, _, s in answers) <= {"accepted", "duplicate", "rejected"}
    assert all(n == 1 for n in accepted.values())
    rejected = [(d, e) for d, e, s in answers if s == "rejected"]
    with app.app_context():
        rows = db.session.execute(sa.select(PublicRating.device_id, PublicRating.event_id)).all()
        ids = {device_id: n for n, (device_id, _) in enumerate(devices)}
        stored = Counter((ids[device_id], event_id) for device_id, event_id in rows)
        assert all(n == 1 for n in stored.values())
        # What was accepted is what is stored; case numbers are shared across devices, so some were rejected.
        assert set(stored) == set(accepted)
        # Only ratings whose case number another device's rating took first are rejected.
        assert all(int(event_id[2:]) % 5 == 0 and (d, event_id) not in stored for d, event_id in rejected)
        cases = db.session.execute(sa.select(BadRatingCase.rating_id)).scalars().all()
        assert len(cases) == len(set(cases))
        bad = db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating).where(PublicRating.level <= 2))
        assert len(cases) == bad
        case_nos = (
            db.session.execute(sa.select(PublicRating.case_no).where(PublicRating.case_no.is_not(None))).scalars().all()
        )
        assert len(case_nos) == len(set(case_nos))
        totals = db.session.execute(sa.select(sa.func.sum(Device.n_accepted))).scalar()
        assert totals == len(rows)


def test_overlapping_single_ratings_from_many_threads_store_each_rating_once(app, server, make_device):
    """Do 12 threads racing overlapping single ratings (3 devices) store every rating and case exactly once?"""
    devices = [make_device("U01", f"{n}号窗口") for n in (1, 2, 3)]
    start = daytime(days_ago=4, hour=9)
    n_events = 90

    def body(i):
        return rating(
            f"s{i:04d}", level=1 + i % 5, at=start + timedelta(minutes=3 * i), case_no=f"S-{i}" if i % 5 == 0 else None
        )

    answers = []
    failures = []
    lock = threading.Lock()

    def worker(seed, device_index):
        rnd = random.Random(seed)
        _, key = devices[device_index]
        first = rnd.randrange(0, n_events // 2)
        events = list(range(first, first + n_events // 3))
        rnd.shuffle(events)
        for i in events + events[:5]:  # and a few sent again, as a device does when an answer was lost
            status, payload = send(server, key, body(i))
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
    assert set(s for _, _, s in answers) <= {"accepted", "duplicate", "rejected"}
    accepted = Counter((d, e) for d, e, s in answers if s == "accepted")
    assert all(n == 1 for n in accepted.values())
    with app.app_context():
        rows = db.session.execute(sa.select(PublicRating.device_id, PublicRating.event_id)).all()
        ids = {device_id: n for n, (device_id, _) in enumerate(devices)}
        stored = Counter((ids[device_id], event_id) for device_id, event_id in rows)
        assert all(n == 1 for n in stored.values())
        # Every event a device sent is stored for it, unless another device's rating took its case number first.
        sent = {(d, e) for d, e, _ in answers}
        assert set(stored) == set(accepted)
        assert all(int(e[1:]) % 5 == 0 for d, e in sent - set(stored))
        cases = db.session.execute(sa.select(BadRatingCase.rating_id)).scalars().all()
        bad = db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating).where(PublicRating.level <= 2))
        assert len(cases) == len(set(cases)) == bad
        totals = db.session.execute(sa.select(sa.func.sum(Device.n_accepted))).scalar()
        assert totals == len(rows)
        kept = db.session.execute(sa.text("SELECT sum(n) FROM rating_counts")).scalar()
        assert kept == len(rows)
