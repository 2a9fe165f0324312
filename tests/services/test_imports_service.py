"""The imports service (interfaces.md "Import files"): every kind, good and bad files, re-imports."""

import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    AssignmentState,
    AuditEntry,
    BadRatingCase,
    BonusItem,
    CaseState,
    CheckPoint,
    CheckPointStatus,
    CodeSystem,
    InstitutionScore,
    Instrument,
    Period,
    PeriodState,
    Problem,
    ProblemState,
    PublicRating,
    Question,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Town,
    Unit,
    UnitKind,
)
from assessment.services.cases import due_on
from assessment.services.imports import COLUMNS, KINDS, ImportFailed, run_import, template_bytes
from assessment.services.workdays import china_today

ALL_TABLES = (
    Unit,
    Town,
    Rater,
    PublicRating,
    BadRatingCase,
    CheckPoint,
    Problem,
    BonusItem,
    InstitutionScore,
    Assignment,
    Response,
    ResponseVersion,
    Answer,
)


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def snapshot():
    return {m.__tablename__: count(m) for m in ALL_TABLES}


def write_csv(tmp_path, lines, name="data.csv", bom=False, encoding="utf-8"):
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes((("\ufeff" if bom else "") + text).encode(encoding))
    return path


def imported(kind, tmp_path, lines, period="2026", **kwargs):
    """Import CSV lines, commit, and return the report."""
    report = run_import(kind, write_csv(tmp_path, lines), period, actor="tester", **kwargs)
    db.session.commit()
    return report


def failed(kind, tmp_path, lines, period="2026", **kwargs):
    """Import CSV lines that must fail; roll back as the callers do and return the errors as English lines."""
    before = snapshot()
    with pytest.raises(ImportFailed) as info:
        run_import(kind, write_csv(tmp_path, lines), period, actor="tester", **kwargs)
    db.session.rollback()
    assert snapshot() == before, "a failed import wrote something"
    return [e.english() for e in info.value.errors]


@pytest.fixture
def city(ctx):
    """Three units, two towns, raters of four groups and three small instruments."""
    units = [
        Unit(code="U01", name="市发展和改革局", kind=UnitKind.GOVERNMENT, category="政府部门"),
        Unit(code="U02", name="市委组织部", kind=UnitKind.PARTY, category="党委部门"),
        Unit(code="U03", name="市检验检测中心", kind=UnitKind.INSTITUTION, category="事业单位"),
    ]
    towns = [Town(code="T01", name="密州街道"), Town(code="T02", name="龙都街道")]
    db.session.add_all(units + towns)
    db.session.flush()
    db.session.add_all(
        [
            Rater(code="G1", name="张三", group=RaterGroup.GRASSROOTS, town_id=towns[0].id),
            Rater(code="D1", name="李四", group=RaterGroup.DEPARTMENT, unit_id=units[0].id),
            Rater(code="L1", name="王五", group=RaterGroup.LEADER),
        ]
    )
    specs = [
        ("grassroots", "grassroots", "all_units", True, [("g01", "likert5"), ("g02", "score100")]),
        ("peer", "department", "other_units", True, [("p01", "likert5")]),
        ("self", "department", "own_unit", False, [("s01", "likert5")]),
    ]
    for key, group, targets, allow_na, questions in specs:
        instrument = Instrument(
            key=key,
            version=1,
            title=key,
            rater_group=group,
            targets=targets,
            definition=f"key: {key}\nallow_na: {str(allow_na).lower()}\n",
            fingerprint="x" * 64,
        )
        for position, (qid, qtype) in enumerate(questions):
            instrument.questions.append(Question(qid=qid, position=position, theme="t", type=qtype, text=qid))
        db.session.add(instrument)
    db.session.commit()


# --- files, headers, encodings ------------------------------------------------------------------------------


UNITS_OK = [
    "code,name,kind,category,establishment,actual_staff",
    "U10,市民政局,government,政府部门,30,28",
    "U11,市委宣传部,party,党委部门,25,",
]


def test_units_csv_without_bom(city, tmp_path):
    """Does a plain UTF-8 units file create the units, with empty optional cells left empty?"""
    report = imported("units", tmp_path, UNITS_OK)
    assert report.counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert report.summary() == "Imported 2 units into 2026: 2 new, 0 updated, 0 unchanged."
    assert "新增2条" in report.summary_zh()
    unit = db.session.execute(select(Unit).filter_by(code="U11")).scalar_one()
    assert (unit.name, unit.kind, unit.establishment, unit.actual_staff) == (
        "市委宣传部",
        UnitKind.PARTY,
        25,
        None,
    )


def test_units_csv_with_bom_and_trimmed_header(city, tmp_path):
    """Does a BOM and spaces or capitals in the header not get in the way?"""
    lines = [" Code , NAME,kind,category", "U10,市民政局,government,政府部门", "", ",,,"]
    report = run_import("units", write_csv(tmp_path, lines, bom=True), "2026")
    assert report.counts["created"] == 1 and report.rows == 1


def test_units_reimport_and_update(city, tmp_path):
    """Does re-importing change nothing, and does a changed row update the unit with that code?"""
    imported("units", tmp_path, UNITS_OK)
    again = imported("units", tmp_path, UNITS_OK)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2}
    changed = imported("units", tmp_path, [UNITS_OK[0], UNITS_OK[1].replace("30,28", "31,28"), UNITS_OK[2]])
    assert changed.counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert db.session.execute(select(Unit.establishment).filter_by(code="U10")).scalar_one() == 31
    assert count(Unit) == 5


def test_units_absent_optional_column_keeps_stored_value(city, tmp_path):
    """Does a file without an optional column leave that field of existing units alone?"""
    imported("units", tmp_path, UNITS_OK)
    report = imported("units", tmp_path, ["code,name,kind,category", "U10,市民政局,government,政府部门"])
    assert report.counts["unchanged"] == 1
    assert db.session.execute(select(Unit.establishment).filter_by(code="U10")).scalar_one() == 30


def test_units_bad_file_reports_every_bad_line(city, tmp_path):
    """Does a bad file among good rows report every bad line and column, and write nothing?"""
    errors = failed(
        "units",
        tmp_path,
        [
            "code,name,kind,category,establishment",
            "U10,市民政局,government,政府部门,30",
            "U12,市商务局,ministry,政府部门,30",
            "U13,市财政局,government,政府部门,-1",
            "U14,市审计局,government,政府部门,3",
            "U10,又一个,government,政府部门,3",
            "U15,,government,政府部门,x",
        ],
    )
    assert errors == [
        "line 3, column kind: 'ministry' is not one of: party / government / institution",
        "line 4, column establishment: '-1' is not a whole number ≥ 0",
        "line 6, column code: unit code 'U10' appears twice in the file (first on line 2)",
        "line 7, column establishment: 'x' is not a whole number ≥ 0",
        "line 7, column name: a value is required",
    ]


def test_error_objects_speak_both_languages(city, tmp_path):
    """Does each error carry line, column, value and an English and a Chinese message?"""
    with pytest.raises(ImportFailed) as info:
        run_import("units", write_csv(tmp_path, ["code,name,kind,category", "U1,x,ministry,c"]), "2026")
    error = info.value.errors[0]
    assert (error.line, error.column, error.value) == (2, "kind", "ministry")
    assert error.chinese() == "第2行，“kind”列：“ministry”不是以下之一：party / government / institution"
    assert error.message_zh and error.message_en


def test_extra_missing_and_repeated_columns(city, tmp_path):
    """Are unknown, missing and repeated columns errors naming them?"""
    assert failed("units", tmp_path, ["code,name,kind,category,colour", "U10,a,party,b,red"]) == [
        (
            "line 1: unknown columns: colour (allowed: code, name, kind, category, establishment, "
            "actual_staff, leader_posts, leaders_in_post)"
        )
    ]
    assert failed("units", tmp_path, ["code,kind", "U10,party"]) == [
        "line 1: missing required columns: name, category"
    ]
    assert failed("towns", tmp_path, ["code,name,name", "T9,a,b"]) == ["line 1: repeated columns: name"]


def test_value_outside_header_and_empty_file(city, tmp_path):
    """Is a value beyond the header's columns an error, and an empty file refused?"""
    assert failed("towns", tmp_path, ["code,name", "T9,新镇,oops"]) == [
        "line 2: value 'oops' is outside the header's columns"
    ]
    assert failed("towns", tmp_path, ["", "T9,新镇"]) == ["line 1: the header row is empty"]
    with pytest.raises(ImportFailed) as info:
        run_import("towns", io.BytesIO(b""), "2026", filename="towns.csv")
    assert info.value.errors[0].english() == "line 1: the file is empty: a header row is required"


def test_gbk_file_is_refused(city, tmp_path):
    """Is a GBK-encoded CSV refused with a clear message rather than imported as garbage?"""
    path = write_csv(tmp_path, ["code,name", "T9,新镇"], encoding="gbk")
    with pytest.raises(ImportFailed) as info:
        run_import("towns", path, "2026")
    assert "not UTF-8 encoded" in info.value.errors[0].english()
    assert "UTF-8" in info.value.errors[0].chinese()


def test_unsupported_extension(city, tmp_path):
    """Is an old .xls file refused, naming the formats accepted?"""
    with pytest.raises(ImportFailed) as info:
        run_import("towns", io.BytesIO(b"\xd0\xcf\x11\xe0"), "2026", filename="towns.xls")
    assert "CSV UTF-8 or XLSX" in info.value.errors[0].english()


def test_stream_with_filename(city):
    """Does an uploaded stream import like a file (as the console passes it)?"""
    data = "code,name\nT09,新镇\n".encode()
    report = run_import("towns", io.BytesIO(data), "2026", actor="office", filename="towns.csv")
    assert report.counts["created"] == 1 and report.filename == "towns.csv"


def xlsx_bytes(rows, title="Sheet"):
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_with_date_cells(city):
    """Does an XLSX file import from its first sheet, with date cells and numbers as Excel stores them?"""
    data = xlsx_bytes(
        [
            ["unit_code", "item", "due", "status", None],
            ["U01", "清单动态调整", datetime(2026, 6, 30), "on_time", None],
            ["U02", "干部培训", "2026-09-30", "late"],
            [None, None, None, None],
        ]
    )
    report = run_import("checkpoints", io.BytesIO(data), "2026", filename="cp.xlsx")
    assert report.counts["created"] == 2
    assert db.session.execute(select(CheckPoint.due).filter_by(item="清单动态调整")).scalar_one() == date(
        2026, 6, 30
    )


def test_xlsx_bad_cell_reports_its_row(city):
    """Is a bad XLSX cell reported with the row number Excel shows?"""
    data = xlsx_bytes(
        [["code", "name", "kind", "category"], ["U20", "a", "party", "b"], ["U21", "b", 7, "c"]]
    )
    with pytest.raises(ImportFailed) as info:
        run_import("units", io.BytesIO(data), "2026", filename="units.xlsx")
    assert [e.english() for e in info.value.errors] == [
        "line 3, column kind: '7' is not one of: party / government / institution"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_templates_import_as_empty_files(city, kind):
    """Do both templates carry the header row only, so that they import as empty files?"""
    required, optional = COLUMNS[kind]
    csv_bytes = template_bytes(kind, "csv")
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert csv_bytes.decode("utf-8-sig").strip() == ",".join(required + optional)
    xlsx = template_bytes(kind, "xlsx")
    sheet = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert sheet.title == kind and sheet["A1"].font.bold
    for data, name in ((csv_bytes, f"{kind}.csv"), (xlsx, f"{kind}.xlsx")):
        report = run_import(kind, io.BytesIO(data), "2026", filename=name)
        assert report.rows == 0


def test_published_period_is_refused(city, tmp_path):
    """Is an import into a published period refused as a whole?"""
    db.session.add(
        Period(
            name="2025",
            state=PeriodState.PUBLISHED,
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            as_of=date(2025, 12, 31),
        )
    )
    db.session.commit()
    errors = failed("towns", tmp_path, ["code,name", "T9,新镇"], period="2025")
    assert errors == ["period 2025 is published: its data are frozen and cannot be imported into"]


def test_new_period_is_created_and_audited(city, tmp_path):
    """Is the period created when new, and the import recorded in the audit log?"""
    imported("towns", tmp_path, ["code,name", "T9,新镇"], period="2027")
    period = db.session.execute(select(Period).filter_by(name="2027")).scalar_one()
    entry = db.session.execute(select(AuditEntry).filter_by(action="import")).scalar_one()
    assert entry.actor == "tester" and entry.object_id == str(period.id)
    assert (
        entry.detail["kind"] == "towns"
        and entry.detail["created"] == 1
        and entry.detail["file"] == "data.csv"
    )


def test_errors_beyond_the_limit_are_counted(city, tmp_path, app):
    """Are errors beyond IMPORT_MAX_ERRORS_SHOWN counted instead of kept?"""
    app.config["IMPORT_MAX_ERRORS_SHOWN"] = 5
    with pytest.raises(ImportFailed) as info:
        run_import("towns", write_csv(tmp_path, ["code,name"] + [f"T{i}," for i in range(12)]), "2026")
    assert len(info.value.errors) == 5 and info.value.truncated == 7


def test_progress_is_reported_while_checking_and_writing(city, tmp_path):
    """Does the progress callback hear from both phases, ending at done == total?"""
    calls = []
    run_import(
        "towns",
        write_csv(tmp_path, ["code,name", "T8,a", "T9,b"]),
        "2026",
        progress=lambda done, total, label: calls.append((done, total, label)),
    )
    assert ("Checking", 2, 2) in [(label, done, total) for done, total, label in calls]
    assert calls[-1] == (2, 2, "Writing")


# --- towns and raters ---------------------------------------------------------------------------------------


def test_towns_good_reimport_and_bad(city, tmp_path):
    """Do towns upsert by code, and is a repeated code reported on its line?"""
    lines = ["code,name", "T03,舜王街道", "T01,密州街道（新）"]
    assert imported("towns", tmp_path, lines).counts == {"created": 1, "updated": 1, "unchanged": 0}
    assert imported("towns", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert failed("towns", tmp_path, ["code,name", "T04,a", "T04,b"]) == [
        "line 3, column code: town code 'T04' appears twice in the file (first on line 2)"
    ]


RATERS_OK = [
    "code,name,group,town_code,unit_code,phone",
    "G2,赵六,grassroots,T02,,13800000000",
    "D2,钱七,department,,U02,",
    "E1,孙八,expert,,,",
]


def test_raters_good_and_reimport(city, tmp_path):
    """Do raters import with their town and unit, and does a re-import change nothing?"""
    assert imported("raters", tmp_path, RATERS_OK).counts == {"created": 3, "updated": 0, "unchanged": 0}
    assert imported("raters", tmp_path, RATERS_OK).counts == {"created": 0, "updated": 0, "unchanged": 3}
    rater = db.session.execute(select(Rater).filter_by(code="D2")).scalar_one()
    assert rater.unit.code == "U02" and rater.group is RaterGroup.DEPARTMENT and rater.phone is None


def test_raters_bad(city, tmp_path):
    """Are unknown codes, groups and a department rater without a unit reported?"""
    assert failed(
        "raters",
        tmp_path,
        [
            "code,name,group,town_code,unit_code",
            "G2,赵六,grassroots,T99,",
            "D2,钱七,department,,",
            "X1,周九,citizen,,",
            "E1,孙八,expert,,U01",
        ],
    ) == [
        "line 2, column town_code: unknown town code 'T99'",
        "line 3, column unit_code: a department rater needs a unit_code",
        "line 4, column group: 'citizen' is not one of: grassroots / leader / department / deputy / expert",
    ]


# --- ratings ------------------------------------------------------------------------------------------------


RATINGS_HEADER = "event_id,unit_code,level,channel,rated_at,is_default,case_no,window,service_item,staff_code"
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
    assert (
        report.summary()
        == "Imported 4 ratings into 2026: 4 new, 0 duplicates skipped. 1 bad-rating cases opened."
    )
    rating = db.session.execute(select(PublicRating).filter_by(event_id="e2")).scalar_one()
    assert rating.origin == "import" and rating.device_id is None and rating.stage == ""
    assert rating.rated_at == datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
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
    report = imported("ratings", tmp_path, [
        RATINGS_HEADER,
        "n1,U01,5,window,2026-03-01T03:10:00+08:00,0,,,,",
        "n2,U01,5,window,2026-03-01T10:10:00+08:00,0,,,,",
    ])
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


def test_ratings_same_row_twice_in_file_is_a_duplicate(city, tmp_path):
    """Is a repeated identical row skipped, while the same event id with other content is an error?"""
    report = imported("ratings", tmp_path, RATINGS_OK + [RATINGS_OK[1]])
    assert report.counts["duplicates"] == 1 and count(PublicRating) == 4
    errors = failed(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "x1,U01,5,window,2026-03-01T09:30:00+08:00",
            "x1,U01,4,window,2026-03-01T09:30:00+08:00",
        ],
    )
    assert errors == [
        "line 3, column event_id: event_id 'x1' appears earlier in the file with different content"
    ]


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
        (
            "line 2, column event_id: event_id 'e1' was imported into another period before; "
            "a rating is never moved"
        )
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
    raw = db.session.execute(
        select(PublicRating.raw_code, PublicRating.code_system).filter_by(event_id="g1")
    ).one()
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
        (
            "line 5, column rated_at: '2025-12-31T23:59:00+08:00' is outside period 2026 (2026-01-01 to "
            "2026-12-31)"
        ),
        (
            "line 7, column rated_at: 'yesterday' is not an ISO 8601 date and time (e.g. "
            "2026-03-01T09:30:00+08:00)"
        ),
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
    assert failed(
        "ratings", tmp_path, [RATINGS_HEADER, "i1,U03,5,window,2026-03-05T09:30:00+08:00,0,,,,"]
    ) == ["line 2, column unit_code: unit 'U03' is inactive"]


def test_ratings_case_number_taken_in_database(city, tmp_path):
    """Is a case number already rated (one rating per case and stage) refused?"""
    imported("ratings", tmp_path, RATINGS_OK)
    assert failed(
        "ratings", tmp_path, [RATINGS_HEADER, "n1,U01,5,window,2026-03-05T09:30:00+08:00,0,C001,,,"]
    ) == ["line 2, column case_no: case 'C001' already has a rating; one rating per case"]


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
    assert rating.event_id == "1001" and rating.rated_at == datetime(2026, 7, 1, 0, 0, tzinfo=timezone.utc)


def test_ratings_chunked_checks(city, tmp_path, monkeypatch):
    """Do duplicates and conflicts still show when a file spans several chunks and the spool spills?"""
    from assessment.services import imports
    from assessment.services.imports import spool

    monkeypatch.setattr(imports, "CHUNK", 7)
    monkeypatch.setattr(spool, "SPILL_ROWS", 10)
    lines = [RATINGS_HEADER] + [
        f"c{i},U0{i % 3 + 1},{i % 5 + 1},window,2026-05-01T08:{i % 60:02d}:00+08:00" for i in range(50)
    ]
    report = imported("ratings", tmp_path, lines)
    assert report.counts["created"] == 50 and report.counts["cases"] == 20
    assert imported("ratings", tmp_path, lines).counts["duplicates"] == 50
    lines[40] = lines[40].replace("window", "sms")
    assert failed("ratings", tmp_path, lines) == [
        (
            "line 41, column event_id: event_id 'c39' was imported before with different content (conflict); "
            "a rating is never overwritten"
        )
    ]


# --- ledger kinds -------------------------------------------------------------------------------------------


def test_checkpoints_good_reimport_and_bad(city, tmp_path):
    """Do check points upsert on (period, unit, item), and are bad dates, statuses and units reported?"""
    lines = [
        "unit_code,item,due,status",
        "U01,项目审批提速,2026-06-30,on_time",
        "U02,干部培训,2026/9/30,late",
    ]
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    lines[2] = "U02,干部培训,2026-09-30,not_done"
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert db.session.execute(select(CheckPoint.status).filter_by(item="干部培训")).scalar_one() is (
        CheckPointStatus.NOT_DONE
    )
    assert failed(
        "checkpoints",
        tmp_path,
        [
            "unit_code,item,due,status",
            "U01,a,2026-02-30,on_time",
            "U09,b,2026-03-01,done",
            "U01,a,2026-03-01,late",
        ],
    ) == [
        "line 2, column due: '2026-02-30' is not a date (YYYY-MM-DD)",
        "line 3, column status: 'done' is not one of: on_time / late / not_done / waived",
        "line 3, column unit_code: unknown unit code 'U09'",
    ]


def test_checkpoints_are_per_period(city, tmp_path):
    """Does the same item in another period make a new check point?"""
    lines = ["unit_code,item,due,status", "U01,项目审批提速,2026-06-30,on_time"]
    imported("checkpoints", tmp_path, lines)
    assert imported("checkpoints", tmp_path, lines, period="2027").counts["created"] == 1


PROBLEMS_HEADER = "unit_code,title,source,severity,found_on,deadline,closed_on,category,responsible"


def test_problems_good_reimport_and_bad(city, tmp_path):
    """Do problems upsert on (period, unit, title, found_on), closing them when closed_on is given?"""
    lines = [
        PROBLEMS_HEADER,
        "U01,审批超时,audit,serious,2026-02-01,2026-05-01,,流程,张科长",
        "U02,台账不全,linkage,general,2026-03-01,2026-04-01,2026-03-20,,",
    ]
    assert imported("problems", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("problems", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    states = dict(db.session.execute(select(Problem.title, Problem.state)).all())
    assert states == {"审批超时": ProblemState.OPEN, "台账不全": ProblemState.CLOSED}
    lines[1] = "U01,审批超时,audit,serious,2026-02-01,2026-05-01,2026-04-15,流程,张科长"
    assert imported("problems", tmp_path, lines).counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert (
        db.session.execute(select(Problem.state).filter_by(title="审批超时")).scalar_one()
        is ProblemState.CLOSED
    )
    assert failed(
        "problems",
        tmp_path,
        [
            PROBLEMS_HEADER,
            "U01,a,audit,general,2026-02-01,2026-01-01,,,",
            "U01,b,audit,general,2026-02-01,2026-03-01,2026-01-15,,",
            "U01,c,rumour,minor,2026-02-01,2026-03-01,,,",
        ],
    ) == [
        "line 2, column deadline: deadline 2026-01-01 is before found_on 2026-02-01",
        "line 3, column closed_on: closed_on 2026-01-15 is before found_on 2026-02-01",
        "line 4, column severity: 'minor' is not one of: general / serious / grave",
        (
            "line 4, column source: 'rumour' is not one of: supervision / linkage / informant / expert / "
            "evaluation / audit / inspection / petition / other"
        ),
    ]


def test_bonuses_good_reimport_and_bad(city, tmp_path):
    """Do bonus items upsert on (period, unit, reason), with points above 0 and at most 100?"""
    lines = ["unit_code,reason,points", "U01,改革创新,1.5", "U02,经验推广,2"]
    assert imported("bonuses", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("bonuses", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert failed(
        "bonuses", tmp_path, ["unit_code,reason,points", "U01,a,0", "U01,b,abc", "U01,c,1", "U01,c,2"]
    ) == [
        "line 2, column points: '0' must be more than 0 and at most 100",
        "line 3, column points: 'abc' is not a number",
        "line 5, column reason: bonus reason 'c' of this unit appears twice in the file (first on line 4)",
    ]


def test_institution_scores_good_reimport_and_bad(city, tmp_path):
    """Do appraisal scores upsert on (period, unit), within 0-100?"""
    lines = ["unit_code,score", "U03,92.5"]
    assert imported("institution_scores", tmp_path, lines).counts == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
    }
    assert imported("institution_scores", tmp_path, lines).counts == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
    }
    assert imported("institution_scores", tmp_path, ["unit_code,score", "U03,88"]).counts["updated"] == 1
    assert db.session.execute(select(InstitutionScore.score)).scalar_one() == 88
    assert failed("institution_scores", tmp_path, ["unit_code,score", "U01,101", "U02,50", "U02,60"]) == [
        "line 2, column score: '101' is not between 0 and 100",
        "line 4, column unit_code: unit 'U02' appears twice in the file (first on line 3)",
    ]


# --- responses ----------------------------------------------------------------------------------------------


RESPONSES_OK = [
    "rater_code,instrument,unit_code,question,answer",
    "G1,grassroots,U01,g01,5",
    "G1,grassroots,U01,g02,87.5",
    "G1,grassroots,U02,g01,na",
    "G1,grassroots,U02,g02,60",
    "D1,peer,U02,p01,4",
    "D1,self,U01,s01,3",
]


def answers_of(rater_code, instrument_key, unit_code):
    """The latest submitted answers of one response, and its version number."""
    response = db.session.execute(
        select(Response)
        .join(Assignment)
        .join(Rater)
        .join(Instrument)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Rater.code == rater_code, Instrument.key == instrument_key, Unit.code == unit_code)
    ).scalar_one()
    version = response.versions[-1]
    return response.current_version, {a.question: a.value for a in version.answers}, version, response


def test_responses_good_and_reimport(city, tmp_path):
    """Does each rater/instrument/unit become one submitted response, and a re-import change nothing?"""
    report = imported("responses", tmp_path, RESPONSES_OK)
    assert report.counts == {"responses": 4, "created": 4, "updated": 0, "unchanged": 0}
    assert report.summary() == "Imported 6 answers (4 responses) into 2026: 4 new, 0 updated, 0 unchanged."
    current, answers, version, response = answers_of("G1", "grassroots", "U02")
    assert current == 1 and answers == {"g01": None, "g02": 60.0}
    assert version.source is ResponseSource.IMPORT and version.recorded_by == "tester"
    assert version.reason == "import data.csv"
    assert response.assignment.state is AssignmentState.SUBMITTED
    before = snapshot()
    again = imported("responses", tmp_path, RESPONSES_OK)
    assert again.counts == {"responses": 4, "created": 0, "updated": 0, "unchanged": 4}
    assert snapshot() == before


def test_responses_changed_answers_make_a_new_version(city, tmp_path):
    """Does a changed answer add version 2 to that response only, keeping version 1?"""
    imported("responses", tmp_path, RESPONSES_OK)
    changed = list(RESPONSES_OK)
    changed[1] = "G1,grassroots,U01,g01,4"
    report = imported("responses", tmp_path, changed)
    assert report.counts == {"responses": 4, "created": 0, "updated": 1, "unchanged": 3}
    current, answers, _version, response = answers_of("G1", "grassroots", "U01")
    assert current == 2 and answers == {"g01": 4.0, "g02": 87.5}
    assert [len(v.answers) for v in response.versions] == [2, 2]
    assert count(ResponseVersion) == 5


def test_responses_existing_assignment_is_used(city, tmp_path):
    """Does an import submit into an assignment the office already made?"""
    period = Period(
        name="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), as_of=date(2026, 12, 31)
    )
    db.session.add(period)
    db.session.flush()
    ids = {r.code: r.id for r in db.session.execute(select(Rater)).scalars()}
    units = {u.code: u.id for u in db.session.execute(select(Unit)).scalars()}
    peer = db.session.execute(select(Instrument).filter_by(key="peer")).scalar_one()
    db.session.add(
        Assignment(period_id=period.id, rater_id=ids["D1"], unit_id=units["U02"], instrument_id=peer.id)
    )
    db.session.commit()
    imported("responses", tmp_path, RESPONSES_OK)
    assert count(Assignment) == 4
    assert answers_of("D1", "peer", "U02")[3].assignment.state is AssignmentState.SUBMITTED


def test_responses_peer_and_self_rules(city, tmp_path):
    """Are a department rating itself in peer review, self review of another unit, a wrong group refused?"""
    assert failed(
        "responses",
        tmp_path,
        [
            "rater_code,instrument,unit_code,question,answer",
            "D1,peer,U01,p01,4",
            "D1,self,U02,s01,4",
            "G1,peer,U02,p01,4",
            "L1,self,U01,s01,4",
        ],
    ) == [
        (
            "line 2, column unit_code: rater D1 belongs to unit 'U01': a department does not rate itself in "
            "peer review"
        ),
        "line 3, column unit_code: self review is only about the rater's own unit (U01), not 'U02'",
        (
            "line 4, column instrument: instrument 'peer' is for department raters; rater G1 is in group "
            "grassroots"
        ),
        "line 5, column instrument: instrument 'self' is for department raters; rater L1 is in group leader",
    ]


def test_responses_bad_answers(city, tmp_path):
    """Are unknown codes and questions, bad answers, repeats and missing questions all reported?"""
    assert failed(
        "responses",
        tmp_path,
        [
            "rater_code,instrument,unit_code,question,answer",
            "G1,grassroots,U01,g01,6",
            "G1,grassroots,U01,g02,101",
            "G1,grassroots,U01,g03,5",
            "G1,grassroots,U01,g01,4",
            "X9,grassroots,U01,g01,4",
            "G1,survey,U01,g01,4",
            "D1,self,U01,s01,na",
            "G1,grassroots,U02,g01,",
            "G1,grassroots,U03,g01,5",
        ],
    ) == [
        "line 2, column answer: '6' is not a likert5 answer (1-5, or na)",
        "line 3, column answer: '101' is not a score100 answer (0-100, or na)",
        "line 4, column question: instrument 'grassroots' has no question 'g03'",
        (
            "line 5, column question: question 'g01' is answered twice by rater G1 for this unit (first on "
            "line 2)"
        ),
        "line 6, column rater_code: unknown rater code 'X9'",
        "line 7, column instrument: unknown instrument 'survey' (known: grassroots, peer, self)",
        "line 8, column answer: instrument 'self' has no don't-know option",
        "line 9, column answer: a value is required (write na for don't know)",
        (
            "line 9, column question: the response of rater G1 about unit U02 (grassroots) has no answer to "
            "g02; every question needs a row (na for don't know)"
        ),
        (
            "line 10, column question: the response of rater G1 about unit U03 (grassroots) has no answer to "
            "g02; every question needs a row (na for don't know)"
        ),
    ]


def test_responses_without_instruments_say_run_init_db(ctx, tmp_path):
    """Without stored instruments, does the error tell the office to run init-db?"""
    db.session.add(Unit(code="U01", name="a", kind=UnitKind.PARTY, category="c"))
    db.session.commit()
    errors = failed(
        "responses", tmp_path, ["rater_code,instrument,unit_code,question,answer", "G1,peer,U01,p01,4"]
    )
    assert any("assessment init-db" in e for e in errors)


# --- command line -------------------------------------------------------------------------------------------


def test_cli_import_good(app, runner, tmp_path):
    """Does `assessment import units FILE --period 2026` import and print the summary?"""
    path = write_csv(tmp_path, UNITS_OK)
    result = runner.invoke(args=["import", "units", str(path), "--period", "2026"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 units into 2026: 2 new, 0 updated, 0 unchanged." in result.output
    with app.app_context():
        assert count(Unit) == 2


def test_cli_import_bad(app, runner, tmp_path):
    """Does a bad file exit with 1, print every bad line, and write nothing?"""
    path = write_csv(tmp_path, ["code,name,kind,category", "U1,a,ministry,c", "U2,b,party,c", "U3,,party,c"])
    result = runner.invoke(args=["import", "units", str(path), "--period", "2026"])
    assert result.exit_code == 1
    assert "line 2, column kind: 'ministry' is not one of: party / government / institution" in result.output
    assert "line 4, column name: a value is required" in result.output
    assert "nothing was written" in result.output
    with app.app_context():
        assert count(Unit) == 0 and count(Period) == 0
