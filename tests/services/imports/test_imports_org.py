"""Imports of the organisation kinds: units, towns and raters."""

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Rater, RaterGroup, Unit, UnitKind
from assessment.services.imports import run_import
from tests.services.imports.helpers import UNITS_OK, count, failed, imported, write_csv


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
