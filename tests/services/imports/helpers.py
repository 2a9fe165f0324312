"""Helpers shared by the import tests: CSV and XLSX files to import, and what the database holds."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    BadRatingCase,
    BonusItem,
    CheckPoint,
    InstitutionScore,
    Problem,
    PublicRating,
    Rater,
    Response,
    ResponseVersion,
    Town,
    Unit,
)
from assessment.services.imports import ImportFailed, run_import

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


UNITS_OK = [
    "code,name,kind,category,establishment,actual_staff",
    "U10,市民政局,government,政府部门,30,28",
    "U11,市委宣传部,party,党委部门,25,",
]


RATINGS_HEADER = "event_id,unit_code,level,channel,rated_at,is_default,case_no,window,service_item,staff_code"


def count(model):
    """How many rows the table of `model` holds."""
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def snapshot():
    """Row counts of every table an import may write."""
    return {m.__tablename__: count(m) for m in ALL_TABLES}


def write_csv(tmp_path, lines, name="data.csv", bom=False, encoding="utf-8"):
    """Write `lines` as a CSV file under tmp_path (optionally with a BOM or in another encoding)."""
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


def xlsx_bytes(rows, title="Sheet"):
    """An XLSX workbook of one sheet holding `rows`, as bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
