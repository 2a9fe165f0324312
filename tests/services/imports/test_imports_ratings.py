"""Imports of 好差评 ratings: exactly once by event id, cases for bad ratings, the device API's flags."""

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from assessment.extensions import db
from assessment.models import BadRatingCase, CaseState, CodeSystem, Period, PublicRating, Unit
from assessment.services.imports import ImportFailed, run_import
from assessment.services.ratings.cases import due_on
from assessment.services.workdays import china_today
from tests.services.imports.helpers import RATINGS_HEADER, count, failed, imported, snapshot, xlsx_bytes

RATINGS_OK = [
    RATINGS_HEADER,
    "e1,U01,5,window,2026-03-01T09:30:00+08:00,0,C001,1号窗口,营业执照,S01",
    "e2,U01,1,online,2026-03-02 10:00:00,0,,,,",
    "e3,U02,2,hotline,2026-03-03T01:00:00Z,1,,,,",
    "e4,U02,4,app,2026-12-31T23:30:00+08:00,,,,,",
]


def test_ratings_good(city, tmp_path):
    """Are ratings stored with origin import, naive times as Beijing time, and a case per real bad rating?"""
    report = imported("ratings", tmp_path, RATINGS_OK)
    assert report.counts == {"created": 4, "duplicates": 0, "cases": 1}
    assert report.summary() == "Imported 4 ratings into 2026: 4 new, 0 duplicates skipped. 1 bad-rating cases opened."
    rating = db.session.execute(select(PublicRating).filter_by(event_id="e2")).scalar_one()
    assert rating.origin == "import" and rating.device_id is None and rating.stage == ""
    assert rating.rated_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert (rating.level, rating.raw_code, rating.code_system) == (1, 1, CodeSystem.STANDARD)
    assert len(rating.content_hash) == 64 and rating.received_at is not None
    case = db.session.execute(select(BadRatingCase)).scalar_one()  # e3 is a default rating: no case
    assert case.rating_id == rating.id and case.state is CaseState.OPEN
    assert case.due_on == due_on(china_today())  # opened now: a unit cannot call back before it knows
    first = db.session.execute(select(PublicRating).filter_by(event_id="e1")).scalar_one()
    assert (first.case_no, first.window, first.service_item, first.staff_code) == (
        "C001",
        "1号窗口",
        "营业执照",
        "S01",
    )
    assert first.real_name and not rating.real_name
    default = db.session.execute(select(PublicRating).filter_by(event_id="e3")).scalar_one()
    assert default.is_default and default.flags == ["default"] and not default.flagged


def test_imported_ratings_get_the_same_flags_as_device_ratings(city, tmp_path):
    """Is a window rating at 3 a.m. China time flagged (not dropped) when it arrives by import?"""
    report = imported(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "n1,U01,5,window,2026-03-01T03:10:00+08:00,0,,,,",
            "n2,U01,5,window,2026-03-01T10:10:00+08:00,0,,,,",
        ],
    )
    assert report.counts["flagged"] == 1 and "1 ratings flagged" in report.summary()
    night = db.session.execute(select(PublicRating).filter_by(event_id="n1")).scalar_one()
    day = db.session.execute(select(PublicRating).filter_by(event_id="n2")).scalar_one()
    assert "odd_hour" in night.flags and not night.excluded
    assert not day.flags


def test_ratings_reimport_skips_duplicates(city, tmp_path):
    """Does importing the same ratings again skip every one as a duplicate?"""
    imported("ratings", tmp_path, RATINGS_OK)
    before = snapshot()
    report = imported("ratings", tmp_path, RATINGS_OK)
    assert report.counts == {"created": 0, "duplicates": 4, "cases": 0}
    assert report.summary() == "Imported 4 ratings into 2026: 0 new, 4 duplicates skipped."
    assert snapshot() == before


def test_ratings_event_id_repeated_in_one_file_is_a_row_error(city, tmp_path):
    """Is an event id repeated inside one file a row error naming the first line, with or without other content?"""
    errors = failed("ratings", tmp_path, RATINGS_OK + [RATINGS_OK[1]])
    assert errors == [
        f"line {len(RATINGS_OK) + 1}, column event_id: event_id 'e1' repeats line 2 of this file; "
        "each rating once per file"
    ]
    assert count(PublicRating) == 0
    errors = failed(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "x1,U01,5,window,2026-03-01T09:30:00+08:00",
            "x1,U01,4,window,2026-03-01T09:30:00+08:00",
        ],
    )
    assert errors == ["line 3, column event_id: event_id 'x1' appears earlier in the file with different content"]


def test_ratings_conflict_is_an_error_not_an_overwrite(city, tmp_path):
    """Is a known event id with different content reported as a conflict, leaving the stored rating alone?"""
    imported("ratings", tmp_path, RATINGS_OK)
    changed = [RATINGS_HEADER, RATINGS_OK[1].replace(",5,", ",3,"), "e9,U03,5,sms,2026-05-01T08:00:00+08:00"]
    assert failed("ratings", tmp_path, changed) == [
        (
            "line 2, column event_id: event_id 'e1' was imported before with different content (conflict); "
            "a rating is never overwritten"
        )
    ]
    assert db.session.execute(select(PublicRating.level).filter_by(event_id="e1")).scalar_one() == 5


def test_ratings_are_never_moved_to_another_period(city, tmp_path):
    """Is a rating already imported into one period refused when a file puts it in another?"""
    imported("ratings", tmp_path, RATINGS_OK[:2])
    db.session.add(
        Period(name="2026Q1", starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31), as_of=date(2026, 3, 31))
    )
    db.session.commit()
    assert failed("ratings", tmp_path, RATINGS_OK[:2], period="2026Q1") == [
        ("line 2, column event_id: event_id 'e1' was imported into another period before; a rating is never moved")
    ]


def test_ratings_gbt39046_flips_levels(city, tmp_path):
    """Does the GB/T 39046 code system (1 = 非常满意) store the canonical level and keep the raw code?"""
    lines = [
        RATINGS_HEADER,
        "g1,U01,1,window,2026-04-01T09:00:00+08:00",
        "g2,U01,5,window,2026-04-01T09:05:00+08:00",
    ]
    report = imported("ratings", tmp_path, lines, options={"code_system": "gbt39046"})
    assert report.counts["cases"] == 1
    rows = dict(db.session.execute(select(PublicRating.event_id, PublicRating.level)).all())
    assert rows == {"g1": 5, "g2": 1}
    raw = db.session.execute(select(PublicRating.raw_code, PublicRating.code_system).filter_by(event_id="g1")).one()
    assert tuple(raw) == (1, CodeSystem.GBT39046)
    case = db.session.execute(select(BadRatingCase)).scalar_one()
    assert case.rating.event_id == "g2"


def test_ratings_bad_file_reports_all_lines(city, tmp_path):
    """Does a ratings file with bad rows among good ones report every bad line and write nothing?"""
    errors = failed(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "b1,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,",
            "b2,U01,6,window,2026-03-01T09:30:00+08:00,0,,,,",
            "b3,U99,5,fax,2026-03-01T09:30:00+08:00,2,,,,",
            "b4,U01,5,window,2025-12-31T23:59:00+08:00,0,,,,",
            "b5,U01,5,window,2026-01-01T00:10:00+08:00,0,C1,,,",
            "b6,U01,4,window,yesterday,0,C1,,,",
            "b7,U01,4,window,2026-02-01T00:10:00+08:00,0,C1,,,",
            ",U01,4,window,2026-02-01T00:10:00+08:00,0,,,,",
        ],
    )
    assert errors == [
        "line 3, column level: '6' is not a level 1-5",
        "line 4, column channel: 'fax' is not one of: window / online / app / hotline / sms",
        "line 4, column is_default: '2' is not 0 or 1",
        "line 4, column unit_code: unknown unit code 'U99'",
        ("line 5, column rated_at: '2025-12-31T23:59:00+08:00' is outside period 2026 (2026-01-01 to 2026-12-31)"),
        ("line 7, column rated_at: 'yesterday' is not an ISO 8601 date and time (e.g. 2026-03-01T09:30:00+08:00)"),
        (
            "line 8, column case_no: case 'C1' already has a rating earlier in the file (event_id 'b5'); one "
            "rating per case"
        ),
        "line 9, column event_id: a value is required",
    ]


def test_ratings_for_an_inactive_unit_are_refused(city, tmp_path):
    """Is a rating for a unit no longer evaluated refused, as the device API refuses it?"""
    db.session.execute(Unit.__table__.update().where(Unit.code == "U03").values(active=False))
    db.session.commit()
    assert failed("ratings", tmp_path, [RATINGS_HEADER, "i1,U03,5,window,2026-03-05T09:30:00+08:00,0,,,,"]) == [
        "line 2, column unit_code: unit 'U03' is inactive"
    ]


def test_ratings_case_number_taken_in_database(city, tmp_path):
    """Is a case number already rated (one rating per case and stage) refused?"""
    imported("ratings", tmp_path, RATINGS_OK)
    assert failed("ratings", tmp_path, [RATINGS_HEADER, "n1,U01,5,window,2026-03-05T09:30:00+08:00,0,C001,,,"]) == [
        "line 2, column case_no: case 'C001' already has a rating; one rating per case"
    ]


def test_ratings_xlsx_datetime_cells_are_beijing_time(city):
    """Is an XLSX date-time cell (no offset) read as Beijing time?"""
    data = xlsx_bytes(
        [
            ["event_id", "unit_code", "level", "channel", "rated_at"],
            [1001, "U03", 4, "window", datetime(2026, 7, 1, 8, 0)],
        ]
    )
    run_import("ratings", io.BytesIO(data), "2026", filename="r.xlsx")
    rating = db.session.execute(select(PublicRating)).scalar_one()
    assert rating.event_id == "1001" and rating.rated_at == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


def test_ratings_chunked_checks(city, tmp_path, monkeypatch):
    """Are rows checked and written in chunks, duplicates and conflicts still shown, when the spool spills?"""
    from assessment.services import imports
    from assessment.services.imports import spool

    monkeypatch.setattr(imports, "CHUNK", 7)  # the check side
    monkeypatch.setattr(spool, "CHUNK", 7)  # the write side (Spool.chunks)
    monkeypatch.setattr(spool, "SPILL_ROWS", 10)
    lines = [RATINGS_HEADER] + [
        f"c{i},U0{i % 3 + 1},{i % 5 + 1},window,2026-05-01T08:{i % 60:02d}:00+08:00" for i in range(50)
    ]
    written = []
    report = imported(
        "ratings", tmp_path, lines, progress=lambda done, total, label: label == "Writing" and written.append(done)
    )
    assert report.counts["created"] == 50 and report.counts["cases"] == 20
    assert [7, 14, 21, 28, 35, 42, 49, 50] == [d for d in dict.fromkeys(written) if d], written  # chunks of 7
    assert imported("ratings", tmp_path, lines).counts["duplicates"] == 50
    lines[40] = lines[40].replace("window", "sms")
    assert failed("ratings", tmp_path, lines) == [
        (
            "line 41, column event_id: event_id 'c39' was imported before with different content (conflict); "
            "a rating is never overwritten"
        )
    ]


def test_ratings_plain_and_other_spellings_store_the_same_content(city, tmp_path):
    """Does a row in spellings only the cell getters read (5.0, WINDOW, 2026/3/1 9:30) hash as its plain twin?"""
    imported("ratings", tmp_path, RATINGS_OK)
    again = imported(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "e1,U01,5.0,WINDOW,2026/3/1 9:30,0,C001,1号窗口,营业执照,S01",
            "e2,U01,+1,Online,2026-03-02T10:00:00+08:00,,,,,",
            "e3,U02,2,HOTLINE,2026-03-03 09:00:00,1,,,,",
            "e4,U02,4,app,2026-12-31T15:30:00Z,0,,,,",
        ],
    )
    assert again.counts == {"created": 0, "duplicates": 4, "cases": 0}


def test_ratings_xlsx_cells_lines_and_date_cells(city):
    """Does an XLSX file with a blank row keep its line numbers, and is a date-only rated_at cell Beijing
    midnight?"""
    header = ["event_id", "unit_code", "level", "channel", "rated_at", "is_default"]
    good = xlsx_bytes([header, [], ["x1", "U03", 5.0, "window", date(2026, 7, 1), None]])
    run_import("ratings", io.BytesIO(good), "2026", filename="r.xlsx")
    rating = db.session.execute(select(PublicRating)).scalar_one()
    assert (rating.event_id, rating.raw_code) == ("x1", 5)
    assert rating.rated_at == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    bad = xlsx_bytes(
        [
            header,
            ["x2", "U03", 5, "window", datetime(2026, 7, 1, 8)],
            [],
            ["x3", "U03", 9, "sms", datetime(2026, 7, 1, 9), 1],
        ]
    )
    with pytest.raises(ImportFailed) as info:
        run_import("ratings", io.BytesIO(bad), "2026", filename="r.xlsx")
    assert [(e.line, e.column) for e in info.value.errors] == [(4, "level")]


def _count_trigger():
    """The definition of the count trigger on inserts: SQLite's stored text of its per-row trigger,
    PostgreSQL's pg_get_triggerdef of its per-statement one (None when there is none)."""
    if db.session.get_bind().dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'public_ratings_count_insert'"
    else:
        query = (
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'public_ratings'::regclass AND tgname = 'public_ratings_count_insert'"
        )
    return db.session.execute(db.text(query)).scalar_one_or_none()


def test_ratings_import_keeps_rating_counts_and_the_count_trigger(city, tmp_path, monkeypatch):
    """Does an import (which on SQLite counts its own rows instead of the per-row trigger) leave
    rating_counts equal to a recount and the trigger as it was, also when its write fails half way?"""
    from assessment.services.bulk import bulk_insert
    from assessment.services.imports.kinds import ratings as kind
    from assessment.services.ratings.counts import mismatches

    trigger = _count_trigger()
    assert trigger is not None and "public_ratings_count_insert" in trigger
    lines = [RATINGS_HEADER] + [
        f"t{i},U0{i % 3 + 1},{i % 5 + 1},sms,2026-05-01T08:{i:02d}:00+08:00,{i % 2}" for i in range(40)
    ]
    imported("ratings", tmp_path, lines)
    assert mismatches() == [] and _count_trigger() == trigger
    stored = db.session.execute(select(PublicRating).where(PublicRating.event_id == "t1")).scalar_one()
    row = {c.name: getattr(stored, c.name) for c in PublicRating.__table__.c if c.name != "id"}
    bulk_insert(PublicRating, [{**row, "origin": "d9"}])  # a write after the import: counted by the trigger
    assert mismatches() == []

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kind, "open_cases_where", broken)
    with pytest.raises(RuntimeError):
        imported("ratings", tmp_path, [RATINGS_HEADER, "t99,U01,1,sms,2026-05-02T08:00:00+08:00,0"])
    assert _count_trigger() == trigger  # back before the caller rolls back
    db.session.rollback()
    assert _count_trigger() == trigger


def _rating_indexes():
    """The index definitions of public_ratings: SQLite's stored text, PostgreSQL's pg_indexes."""
    if db.session.get_bind().dialect.name != "sqlite":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'public_ratings'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'public_ratings'"
    return sorted(map(tuple, db.session.execute(db.text(query)).all()))


def test_a_large_import_rebuilds_the_indexes_it_set_aside(city, tmp_path, monkeypatch):
    """When an import is large enough to set the plain indexes aside (SQLite), are they all back afterwards,
    also after a failed write, with the ratings, counts and odd-hour flags right?"""
    from assessment.services.imports.kinds import rating_write
    from assessment.services.imports.kinds import ratings as kind
    from assessment.services.ratings.counts import mismatches

    monkeypatch.setattr(rating_write, "REBUILD_FROM_ROWS", 1)
    indexes = _rating_indexes()
    assert any("staff_code" in (sql or "") for _, sql in indexes)
    during = []  # the indexes while the rows were written
    real_drop = rating_write.RatingWriter._drop_indexes
    monkeypatch.setattr(
        rating_write.RatingWriter, "_drop_indexes", lambda self: (real_drop(self), during.append(_rating_indexes()))
    )
    lines = [RATINGS_HEADER] + [
        f"x{i},U0{i % 3 + 1},5,window,2026-05-01T0{i % 10}:{i:02d}:00+08:00,{i % 2}" for i in range(30)
    ]
    report = imported("ratings", tmp_path, lines)
    assert report.counts["created"] == 30 and _rating_indexes() == indexes and mismatches() == []
    if db.session.get_bind().dialect.name == "sqlite":  # PostgreSQL keeps its indexes
        assert len(during) == 1 and not any("staff_code" in (sql or "") for _, sql in during[0])
    # Window ratings at 0-5 China time are odd-hour (18 rows), whether default or not.
    night = db.session.execute(
        select(PublicRating.event_id, PublicRating.flags, PublicRating.flagged).where(PublicRating.event_id == "x3")
    ).one()
    assert night == ("x3", ["default", "odd_hour"], True)
    odd = db.session.scalar(select(db.func.count()).select_from(PublicRating).where(PublicRating.flagged))
    assert odd == 18 and report.counts["flagged"] == 18

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kind, "open_cases_where", broken)
    bad = [RATINGS_HEADER] + [f"y{i},U01,1,sms,2026-05-02T08:{i:02d}:00+08:00,0" for i in range(40)]
    with pytest.raises(RuntimeError):
        imported("ratings", tmp_path, bad)
    assert _rating_indexes() == indexes  # back before the caller rolls back
    db.session.rollback()
    assert _rating_indexes() == indexes and mismatches() == []
