"""POST /api/v1/ratings as interfaces.md describes it: statuses, error codes, exactly once, flags and cases."""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from assessment.extensions import db
from assessment.models import BadRatingCase, CodeSystem, Device, PublicRating
from assessment.services import workdays
from tests.api.helpers import CST, daytime, rating


def stored(app, **filters):
    with app.app_context():
        query = sa.select(PublicRating).options(joinedload(PublicRating.unit)).filter_by(**filters)
        return db.session.execute(query.order_by(PublicRating.id)).scalars().all()


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def statuses(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(a["event_id"], a["status"], a.get("reason")) for a in response.get_json()["results"]]


# --- accepted, duplicate, conflict, rejected ---------------------------------------------------------------------


def test_a_single_rating_is_stored_with_what_the_registration_says(app, make_device, post):
    """Does a device's rating get its unit, window and channel from the registration, and the server's time?"""
    device_id, key = make_device("U01", window="3号窗口")
    before = datetime.now(UTC)
    response = post(key, rating("ev-1", level=4, service_item="营业执照", staff_code="U01-07", comment="很好"))
    assert statuses(response) == [("ev-1", "accepted", None)]
    assert response.get_json()["accepted"] == 1
    (row,) = stored(app)
    assert (row.origin, row.event_id, row.level, row.raw_code, row.code_system) == (
        f"d{device_id}",
        "ev-1",
        4,
        4,
        CodeSystem.STANDARD,
    )
    assert row.unit.code == "U01" and row.window == "3号窗口" and row.channel.value == "window"
    assert row.period_id is not None and row.received_at >= before and row.rated_at.tzinfo is not None
    assert row.flags is None and not row.flagged and not row.is_default and len(row.content_hash) == 64
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device.last_seen_at >= before and device.n_accepted == 1


def test_a_batch_answers_one_status_per_rating_in_order(app, make_device, post):
    """Are accepted, duplicate, conflict and rejected answered per rating, in the order sent?"""
    _, key = make_device()
    assert statuses(post(key, rating("old", level=5))) == [("old", "accepted", None)]
    future = datetime.now(CST) + timedelta(hours=2)
    batch = {
        "ratings": [
            rating("a", level=5),
            rating("old", level=5),  # same content as before: a retry
            rating("old", level=3),  # same event id, other content
            rating("b", level=4, at=future),  # in the future
            rating("a", level=5),  # twice in this batch, same content
            rating("c", level=1, comment="等太久"),
        ]
    }
    response = post(key, batch)
    assert statuses(response) == [
        ("a", "accepted", None),
        ("old", "duplicate", None),
        ("old", "conflict", None),
        ("b", "rejected", "future"),
        ("a", "duplicate", None),
        ("c", "accepted", None),
    ]
    body = response.get_json()
    assert (body["accepted"], body["duplicate"], body["conflict"], body["rejected"]) == (2, 2, 1, 1)
    assert "clock" in body["results"][3]["message"]
    assert sorted(r.event_id for r in stored(app)) == ["a", "c", "old"]


def test_a_retried_batch_stores_nothing_new(app, make_device, post):
    """Does posting the same batch again change nothing — no rating, no case, no second count?"""
    _, key = make_device()
    batch = {"ratings": [rating(f"e{i}", level=1 + i % 5, case_no=f"C{i}", at=daytime(minute=i)) for i in range(60)]}
    batch["ratings"].append(rating("late", at=datetime.now(CST) + timedelta(days=1)))
    first = post(key, batch).get_json()
    assert first["accepted"] == 60 and first["rejected"] == 1
    ratings, cases = count(app, PublicRating), count(app, BadRatingCase)
    assert cases == 24  # levels 1 and 2
    again = post(key, batch).get_json()
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 60, 1)
    assert [a["status"] for a in again["results"][:60]] == ["duplicate"] * 60
    assert (count(app, PublicRating), count(app, BadRatingCase)) == (ratings, cases)


def test_single_ratings_answered_accepted_are_all_stored(app, make_device, post):
    """Is every single rating answered `accepted` stored, also when nothing but its insert touched the database?"""
    _, key = make_device()
    at = daytime(hour=9)
    # Levels 3-4 read no neighbours, the periods are cached and the device's counters are not due: the insert
    # is the request's only statement (on SQLite it runs on the driver's cursor).
    answers = [statuses(post(key, rating(f"s{i}", level=3 + i % 2, at=at + timedelta(minutes=i)))) for i in range(6)]
    assert answers == [[(f"s{i}", "accepted", None)] for i in range(6)]
    assert sorted(r.event_id for r in stored(app)) == [f"s{i}" for i in range(6)]


def test_a_conflict_keeps_the_stored_rating(app, make_device, post):
    """Is a reused event id with other content refused, the first rating kept as it was?"""
    _, key = make_device()
    post(key, rating("x", level=5))
    assert statuses(post(key, rating("x", level=1))) == [("x", "conflict", None)]
    (row,) = stored(app)
    assert row.level == 5 and count(app, BadRatingCase) == 0


def test_one_moment_in_two_spellings_is_a_duplicate(app, make_device, post):
    """Is 10:00+08:00 the same content as 02:00Z (a firmware that changed its clock format)?"""
    _, key = make_device()
    moment = daytime()
    post(key, rating("m", at=moment))
    utc_text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = post(key, {"event_id": "m", "level": 5, "rated_at": utc_text})
    assert statuses(response) == [("m", "duplicate", None)]


def test_event_ids_are_per_device(app, make_device, post):
    """May two devices use the same event id?"""
    _, key1 = make_device("U01", "1号窗口")
    _, key2 = make_device("U01", "2号窗口")
    assert statuses(post(key1, rating("1"))) == [("1", "accepted", None)]
    assert statuses(post(key2, rating("1"))) == [("1", "accepted", None)]
    assert len(stored(app)) == 2


def test_one_rating_per_case_and_stage(app, make_device, post):
    """Is a second rating of one case and stage rejected, from this device or another, while other stages pass?"""
    _, key1 = make_device("U01", "1号窗口")
    _, key2 = make_device("U01", "2号窗口")
    assert statuses(post(key1, rating("r1", case_no="370782-001"))) == [("r1", "accepted", None)]
    assert statuses(post(key2, rating("r2", case_no="370782-001"))) == [("r2", "rejected", "case_taken")]
    response = post(
        key2,
        {
            "ratings": [
                rating("r3", case_no="370782-001", stage="受理"),
                rating("r4", case_no="370782-002"),
                rating("r5", case_no="370782-002"),
            ]
        },
    )
    assert statuses(response) == [("r3", "accepted", None), ("r4", "accepted", None), ("r5", "rejected", "case_taken")]
    assert sorted(r.event_id for r in stored(app)) == ["r1", "r3", "r4"]


def test_ratings_in_the_future_are_rejected_beyond_a_small_skew(app, make_device, post):
    """Is a device clock a minute fast tolerated, and one an hour fast refused with a reason?"""
    device_id, key = make_device()
    soon = datetime.now(CST) + timedelta(minutes=1)
    later = datetime.now(CST) + timedelta(hours=1)
    response = post(key, {"ratings": [rating("fast", at=soon), rating("wrong", at=later)]})
    assert statuses(response) == [("fast", "accepted", None), ("wrong", "rejected", "future")]
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device.n_rejected == 1 and device.last_error.startswith("future")


def test_ratings_outside_an_open_period_are_rejected(app, make_device, post, city):
    """Does a rating need an open period around its China date?"""
    _, key = make_device()
    in_closed = datetime.combine(city.today - timedelta(days=400), datetime.min.time(), tzinfo=CST) + timedelta(
        hours=10
    )
    before_all = in_closed - timedelta(days=1000)
    response = post(key, {"ratings": [rating("closed", at=in_closed), rating("none", at=before_all), rating("ok")]})
    assert statuses(response) == [
        ("closed", "rejected", "period_not_open"),
        ("none", "rejected", "no_period"),
        ("ok", "accepted", None),
    ]
    assert "P0 is closed" in response.get_json()["results"][0]["message"]


def test_the_china_date_picks_the_period(app, make_device, post, city):
    """Is 23:30 UTC on the period's last day already the next China day, outside the period?"""
    _, key = make_device()
    with app.app_context():
        from assessment.models import Period

        period = db.session.execute(sa.select(Period).filter_by(name="P1")).scalar_one()
        period.ends_on = city.today - timedelta(days=2)
        db.session.commit()
        last = period.ends_on
    inside = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15, minutes=59)
    outside = inside + timedelta(minutes=2)  # 00:01 China time the next day
    response = post(key, {"ratings": [rating("in", at=inside), rating("out", at=outside)]})
    assert statuses(response) == [("in", "accepted", None), ("out", "rejected", "no_period")]


def test_a_stored_rating_stays_a_duplicate_after_its_period_closes(app, make_device, post):
    """Does a retry of an accepted rating still hear 'duplicate' once the period closed (so firmware drops it)?"""
    _, key = make_device()
    post(key, rating("kept"))
    with app.app_context():
        from assessment.services.periods import move_period

        move_period("P1", "close", actor="test")
        db.session.commit()
    response = post(key, {"ratings": [rating("kept"), rating("new")]})
    assert statuses(response) == [("kept", "duplicate", None), ("new", "rejected", "period_not_open")]


def test_a_device_key_cannot_post_for_another_unit_or_channel(app, make_device, post):
    """Is a window device's rating for another unit, or as another channel, rejected and not stored?"""
    _, key = make_device("U01")
    response = post(
        key,
        {
            "ratings": [
                rating("u", unit_code="U02"),
                rating("c", channel="hotline"),
                rating("same", unit_code="U01", channel="window"),
            ]
        },
    )
    assert statuses(response) == [
        ("u", "rejected", "unit_not_allowed"),
        ("c", "rejected", "channel_not_allowed"),
        ("same", "accepted", None),
    ]
    assert [r.unit.code for r in stored(app)] == ["U01"]


def test_an_integration_key_names_unit_and_channel_and_maps_its_code_system(app, make_device, post):
    """Does a GB/T 39046 hotline key's 1 become level 5 with the raw code kept, per named unit and channel?"""
    device_id, key = make_device(None, None, integration=True, channel="hotline", code_system="gbt39046")
    response = post(
        key,
        {
            "ratings": [
                rating("h1", level=1, unit_code="U02"),
                rating("h2", level=5, unit_code="U01", channel="online", case_no="GD-1", comment="没人管"),
                rating("h3", level=3),
                rating("h4", level=3, unit_code="U77"),
                rating("h5", level=3, unit_code="U09"),
            ]
        },
    )
    assert statuses(response) == [
        ("h1", "accepted", None),
        ("h2", "accepted", None),
        ("h3", "rejected", "unit_required"),
        ("h4", "rejected", "unknown_unit"),
        ("h5", "rejected", "unit_inactive"),
    ]
    rows = {r.event_id: r for r in stored(app)}
    assert (rows["h1"].level, rows["h1"].raw_code, rows["h1"].code_system) == (5, 1, CodeSystem.GBT39046)
    assert rows["h1"].unit.code == "U02" and rows["h1"].channel.value == "hotline"
    assert (rows["h2"].level, rows["h2"].channel.value, rows["h2"].unit.code) == (1, "online", "U01")
    with app.app_context():
        case = db.session.execute(sa.select(BadRatingCase)).scalar_one()
        assert case.rating_id == rows["h2"].id and case.unit_id == rows["h2"].unit_id
        assert db.session.get(Device, device_id).n_rejected == 3


# --- flags and cases ---------------------------------------------------------------------------------------------


def test_a_default_rating_is_kept_flagged_and_opens_no_case(app, make_device, post):
    """Is a system-default rating stored, marked default (not suspicious), and without a case even at level 1?"""
    _, key = make_device()
    post(key, {"ratings": [rating("d1", is_default=True), rating("d2", level=1, is_default=True)]})
    rows = stored(app)
    assert [r.flags for r in rows] == [["default"], ["default"]] and all(r.is_default for r in rows)
    assert not any(r.flagged for r in rows) and count(app, BadRatingCase) == 0


def test_a_bad_rating_opens_a_case_due_in_working_days(app, make_device, post):
    """Does a level 1-2 rating open its case at once, due the set number of working days after today?"""
    _, key = make_device()
    post(key, {"ratings": [rating("b1", level=2, case_no="C9"), rating("b2", level=3)]})
    with app.app_context():
        (case,) = db.session.execute(sa.select(BadRatingCase)).scalars().all()
        today = workdays.china_today()
        assert case.rating.event_id == "b1" and case.state.value == "open"
        assert case.due_on == workdays.add_workdays(today, 5) and case.rating.real_name


def test_ratings_at_impossible_hours_are_flagged_not_dropped(app, make_device, post):
    """Is a window rating at 02:00 China time stored with the odd_hour flag, and a hotline one not flagged?"""
    _, key = make_device()
    _, integration = make_device(None, None, integration=True, channel="hotline")
    night = daytime(days_ago=1, hour=2)
    post(key, rating("n1", at=night))
    post(integration, rating("n2", at=night, unit_code="U01"))
    rows = {r.event_id: r for r in stored(app)}
    assert rows["n1"].flags == ["odd_hour"] and rows["n1"].flagged
    assert rows["n2"].flags is None and not rows["n2"].flagged


def test_a_burst_of_top_ratings_from_one_device_is_flagged(app, make_device, post):
    """Are five top ratings within two minutes from one device all flagged, across two requests?"""
    _, key = make_device()
    _, other = make_device("U01", "2号窗口")
    start = daytime(days_ago=2, hour=9)
    post(key, {"ratings": [rating(f"b{i}", at=start + timedelta(seconds=20 * i)) for i in range(3)]})
    assert not any(r.flagged for r in stored(app))
    post(other, {"ratings": [rating(f"o{i}", at=start + timedelta(seconds=20 * i)) for i in range(3)]})
    post(
        key,
        {
            "ratings": [rating(f"b{i}", at=start + timedelta(seconds=20 * i)) for i in range(3, 5)]
            + [rating("slow", at=start + timedelta(minutes=30))]
        },
    )
    rows = {r.event_id: r for r in stored(app)}
    assert all(rows[f"b{i}"].flags == ["burst"] and rows[f"b{i}"].flagged for i in range(5))
    assert not rows["slow"].flagged and not any(rows[f"o{i}"].flagged for i in range(3))


def test_a_burst_of_top_ratings_for_one_staff_code_is_flagged_across_devices(app, make_device, post):
    """Are five top ratings for one staff member within two minutes flagged, even from two devices?"""
    _, key1 = make_device("U01", "1号窗口")
    _, key2 = make_device("U01", "2号窗口")
    start = daytime(days_ago=3, hour=15)
    post(key1, {"ratings": [rating(f"a{i}", staff_code="S7", at=start + timedelta(seconds=30 * i)) for i in range(3)]})
    post(
        key2,
        {
            "ratings": [rating(f"b{i}", staff_code="S7", at=start + timedelta(seconds=30 * i + 5)) for i in range(2)]
            + [rating("c", staff_code="S8", at=start)]
        },
    )
    flagged = sorted(r.event_id for r in stored(app) if r.flagged)
    assert flagged == ["a0", "a1", "a2", "b0", "b1"]


# --- error codes -------------------------------------------------------------------------------------------------


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def test_401_for_a_missing_unknown_or_disabled_key(app, client, make_device, post):
    """Is every request without a working key refused with 401 and a code that says why?"""
    device_id, key = make_device()
    assert error_of(post(None, rating("e")), 401)["code"] == "missing_key"
    assert error_of(post(None, rating("e"), headers={"Authorization": f"Basic {key}"}), 401)["code"] == "missing_key"
    assert error_of(post("dk" + "0" * 76, rating("e")), 401)["code"] == "invalid_key"
    assert error_of(post(key[:-1] + ("0" if key[-1] != "0" else "1"), rating("e")), 401)["code"] == "invalid_key"
    assert error_of(post("short", rating("e")), 401)["code"] == "invalid_key"
    response = post(None, rating("e"))
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        from assessment.services.ratings.devices import set_enabled

        set_enabled(device_id, False, "test")
        db.session.commit()
    assert error_of(post(key, rating("e")), 401)["code"] == "disabled_key"
    assert count(app, PublicRating) == 0


def test_a_key_disabled_by_another_server_process_is_refused_once_the_cache_expires(
    app, make_device, post, monkeypatch
):
    """Is a key disabled elsewhere (no event in this process) refused once API_AUTH_CACHE_SECONDS have passed?"""
    from assessment.services.ratings import devices

    device_id, key = make_device()
    assert statuses(post(key, rating("e1"))) == [("e1", "accepted", None)]  # the key is now cached
    with app.app_context():  # as another worker would: plain SQL, so this process's cache is not told
        db.session.execute(sa.text("UPDATE devices SET enabled = :no WHERE id = :id"), {"no": False, "id": device_id})
        db.session.commit()
    clock = devices.time.monotonic()
    monkeypatch.setattr(devices.time, "monotonic", lambda: clock + app.config["API_AUTH_CACHE_SECONDS"] + 0.5)
    assert error_of(post(key, rating("e2")), 401)["code"] == "disabled_key"
    assert [r.event_id for r in stored(app)] == ["e1"]


def test_a_rotated_key_replaces_the_old_one(app, make_device, post):
    """After a key rotation, does the old key get 401 and the new one work?"""
    device_id, old = make_device()
    with app.app_context():
        from assessment.services.ratings.devices import rotate_key

        _, new = rotate_key(device_id, "test")
        db.session.commit()
    assert error_of(post(old, rating("e")), 401)["code"] == "invalid_key"
    assert statuses(post(new, rating("e"))) == [("e", "accepted", None)]


def test_400_only_for_a_body_that_is_not_json_or_not_the_envelope(app, make_device, post):
    """Is a body that is not JSON, or not a rating object / {"ratings": [...]}, refused whole (field named)?"""
    _, key = make_device()
    cases = [
        (b"{not json", "invalid_json", None),
        (b"\xff\xfe", "invalid_json", None),
        ([rating("e")], "invalid_body", None),
        (7, "invalid_body", None),
        ({"ratings": {"event_id": "e"}}, "invalid_body", "ratings"),
        ({"ratings": "e"}, "invalid_body", "ratings"),
    ]
    for body, code, field in cases:
        error = error_of(post(key, body), 400)
        assert error["code"] == code, (body, error)
        assert error.get("field") == field, (body, error)
        if field:
            assert error["message"].startswith(field)
    assert count(app, PublicRating) == 0


def test_a_malformed_rating_is_rejected_naming_the_field_and_index(app, make_device, post):
    """Is each malformed rating answered `rejected` with the field (and index) named, the others stored?"""
    _, key = make_device()
    cases = [
        ({"ratings": [rating("ok"), 7]}, "ratings[1]"),
        ({"ratings": [rating("ok"), {"level": 5, "rated_at": daytime().isoformat()}]}, "ratings[1].event_id"),
        ({"ratings": [rating("ok"), rating("x"), rating("y", level=6)]}, "ratings[2].level"),
        (rating("e", level=True), "level"),
        (rating("e", level="5"), "level"),
        (rating("e", level=4.5), "level"),
        (rating("e", level=6.0), "level"),
        ({"event_id": "e", "level": 5, "rated_at": "2026-03-01T10:00:00"}, "rated_at"),
        ({"event_id": "e", "level": 5, "rated_at": "2026-02-30T10:00:00+08:00"}, "rated_at"),
        ({"event_id": "e", "level": 5, "rated_at": "yesterday"}, "rated_at"),
        ({"event_id": "e", "level": 5}, "rated_at"),
        (rating("x" * 65), "event_id"),
        (rating(""), "event_id"),
        (rating("e", comment="a\x00b"), "comment"),
        (rating("e", case_no=12), "case_no"),
        (rating("e", channel="fax"), "channel"),
        (rating("e", is_default="yes"), "is_default"),
        ({}, "event_id"),
    ]
    for body, field in cases:
        response = post(key, body)
        assert response.status_code == 200, (body, response.get_data(as_text=True))
        payload = response.get_json()
        bad = [a for a in payload["results"] if a["status"] == "rejected"]
        assert len(bad) == 1 and payload["rejected"] == 1, (body, payload)
        assert bad[0]["reason"] == "invalid" and bad[0]["field"] == field, (body, bad)
        assert bad[0]["message"].startswith(field), (body, bad)
        expected = len(body["ratings"]) - 1 if "ratings" in body else 0
        assert payload["accepted"] + payload["duplicate"] == expected, (body, payload)
    # Only the valid ratings of the batches are stored ("ok" once, then duplicates; "x" once).
    assert sorted(r.event_id for r in stored(app)) == ["ok", "x"]


def test_a_poisoned_batch_stores_the_other_999(app, make_device, post):
    """Does a batch of 1000 with one `"level": "five"` store 999 and reject that one with its reason?"""
    _, key = make_device()
    at = daytime(hour=9)
    batch = [rating(f"e{i:04d}", level=1 + i % 4, at=at + timedelta(seconds=i)) for i in range(1000)]
    batch[517]["level"] = "five"
    response = post(key, {"ratings": batch})
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["accepted"] == 999 and payload["rejected"] == 1
    answer = payload["results"][517]
    assert answer == {
        "event_id": "e0517",
        "status": "rejected",
        "reason": "invalid",
        "field": "ratings[517].level",
        "message": "ratings[517].level: is required and must be an integer 1-5",
    }
    assert count(app, PublicRating) == 999
    # The device resends the corrected rating alone: stored; a retry of the whole batch changes nothing.
    batch[517]["level"] = 5
    assert statuses(post(key, batch[517])) == [("e0517", "accepted", None)]
    again = post(key, {"ratings": batch}).get_json()
    assert again["duplicate"] == 1000 and count(app, PublicRating) == 1000


def test_a_batch_of_1000_malformed_ratings_is_200_with_1000_rejected(app, make_device, post):
    """Are 1000 malformed elements each answered `rejected` (200), with nothing stored?"""
    device_id, key = make_device()
    malformed = [{"event_id": f"e{i}", "level": "five"} if i % 3 else i for i in range(1000)]
    response = post(key, {"ratings": malformed})
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["rejected"] == 1000 and payload["accepted"] == 0
    assert [a["event_id"] for a in payload["results"][:3]] == [None, "e1", "e2"]
    assert {a["reason"] for a in payload["results"]} == {"invalid"}
    assert payload["results"][999]["field"] == "ratings[999]"
    assert payload["results"][998]["field"] == "ratings[998].level"
    assert count(app, PublicRating) == 0
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device.n_rejected == 1000 and device.last_error.startswith("invalid: ratings[")


def test_a_malformed_element_never_answers_for_a_stored_event(app, make_device, post):
    """Is a malformed resend of a stored event_id rejected (not a duplicate or conflict), the stored one kept?"""
    _, key = make_device()
    assert statuses(post(key, rating("e1", level=4))) == [("e1", "accepted", None)]
    assert statuses(post(key, rating("e1", level=9))) == [("e1", "rejected", "invalid")]
    assert [r.level for r in stored(app)] == [4]


def test_unknown_fields_and_empty_strings_are_tolerated(app, make_device, post):
    """Does firmware that sends extra fields, nulls or blank case numbers still get its ratings stored?"""
    _, key = make_device()
    response = post(
        key,
        {"ratings": [rating("e1", battery=71, case_no="", comment=None), rating("e2", case_no="  ", staff_code=None)]},
    )
    assert statuses(response) == [("e1", "accepted", None), ("e2", "accepted", None)]
    assert [r.case_no for r in stored(app)] == [None, None]


def test_413_for_a_batch_over_the_limit(app, make_device, post):
    """Is a batch of 1001 refused with 413 and nothing stored, while 1000 pass?"""
    _, key = make_device()
    at = daytime()
    too_many = {"ratings": [rating(f"e{i}", at=at, staff_code=f"s{i}") for i in range(1001)]}
    error = error_of(post(key, too_many), 413)
    assert error["code"] == "batch_too_large" and "1000" in error["message"]
    assert count(app, PublicRating) == 0
    response = post(key, {"ratings": too_many["ratings"][:1000]})
    assert response.get_json()["accepted"] == 1000


def test_413_for_a_body_too_large(app, make_device, post):
    """Is a body over the byte limit refused before it is parsed?"""
    app.config["API_MAX_BODY_BYTES"] = 1000
    _, key = make_device()
    error = error_of(post(key, {"ratings": [rating(f"e{i}", comment="好" * 50) for i in range(20)]}), 413)
    assert error["code"] == "body_too_large"


def test_429_when_one_device_floods_and_the_others_go_on(app, make_device, post):
    """Is a flooding device limited (with Retry-After) while another device posts as usual?"""
    app.config.update(API_RATE_PER_SECOND=0.01, API_RATE_BURST=3)
    _, flood = make_device("U01", "1号窗口")
    _, calm = make_device("U02", "1号窗口")
    answers = [post(flood, rating(f"f{i}")).status_code for i in range(6)]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429, 429]
    limited = post(flood, rating("f9"))
    assert error_of(limited, 429)["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
    assert statuses(post(calm, rating("c1"))) == [("c1", "accepted", None)]
    assert sorted(r.event_id for r in stored(app)) == ["c1", "f0", "f1", "f2"]


def test_health_ping_and_openapi(client):
    """Do the health check, the trivial ping and the OpenAPI document answer?"""
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}
    assert client.get("/api/v1/ping").get_json() == {"pong": True}
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and "/api/v1/ratings" in doc["paths"]
    post_op = doc["paths"]["/api/v1/ratings"]["post"]
    assert set(post_op["responses"]) == {"200", "400", "401", "413", "429"}
    assert doc["components"]["schemas"]["Batch"]["properties"]["ratings"]["maxItems"] == 1000


def test_other_methods_get_the_json_error_shape(client):
    """Does a GET on the ratings endpoint answer 405 in the API's one error shape?"""
    response = client.get("/api/v1/ratings")
    assert response.status_code == 405 and set(json.loads(response.data)) == {"error"}


def test_ratings_flag_rescans_a_period_for_night_ratings_and_bursts(app, runner, city):
    """Does `assessment ratings-flag --period P` flag imported night-time window ratings and bursts, once?"""
    from assessment.models import Channel, Period, Unit

    start = daytime(days_ago=6, hour=9)
    with app.app_context():
        period = db.session.execute(sa.select(Period).filter_by(name="P1")).scalar_one()
        unit = db.session.execute(sa.select(Unit).filter_by(code="U01")).scalar_one()

        def imported(event_id, at, level=5, staff="S1", channel=Channel.WINDOW):
            return PublicRating(
                period_id=period.id,
                unit_id=unit.id,
                origin="import",
                event_id=event_id,
                level=level,
                raw_code=level,
                code_system=CodeSystem.STANDARD,
                channel=channel,
                staff_code=staff,
                rated_at=at,
                content_hash=event_id.ljust(64, "0"),
            )

        db.session.add_all(
            [imported(f"s{i}", start + timedelta(seconds=15 * i)) for i in range(5)]
            + [
                imported("night", daytime(days_ago=7, hour=1)),
                imported("phone", daytime(days_ago=7, hour=1), channel=Channel.HOTLINE, staff=None),
            ]
        )
        db.session.commit()
    result = runner.invoke(args=["ratings-flag", "--period", "P1"])
    assert result.exit_code == 0 and "1 at impossible hours, 5 in bursts" in result.output, result.output
    rows = {r.event_id: r for r in stored(app)}
    assert rows["night"].flags == ["odd_hour"] and rows["phone"].flags is None
    assert all(rows[f"s{i}"].flags == ["burst"] for i in range(5))
    again = runner.invoke(args=["ratings-flag", "--period", "P1"])
    assert "0 at impossible hours, 0 in bursts" in again.output
    assert runner.invoke(args=["ratings-flag", "--period", "NOPE"]).exit_code != 0


def test_device_counters_are_written_when_due_and_never_lost(app, make_device, post):
    """Is last contact written at first contact, accepted counts carried to the next write, and every
    duplicate or rejection counted at once?"""
    app.config["API_DEVICE_TOUCH_SECONDS"] = 3600
    device_id, key = make_device()
    post(key, rating("a1"))
    with app.app_context():
        first = db.session.get(Device, device_id)
        seen, accepted = first.last_seen_at, first.n_accepted
    assert seen is not None and accepted == 1
    post(key, rating("a2"))
    post(key, rating("a3"))
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert (device.last_seen_at, device.n_accepted) == (seen, 1)  # not due yet
    post(key, {"ratings": [rating("a1"), rating("a4")]})  # a duplicate makes the write due
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert (device.n_accepted, device.n_duplicate) == (4, 1) and device.last_seen_at > seen


def test_deeply_nested_json_is_a_bad_request_not_a_crash(make_device, post):
    """Does a body nested thousands of levels deep (RecursionError in the parser) answer 400 invalid_json?"""
    _, key = make_device()
    response = post(key, '{"a":' * 5000)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
