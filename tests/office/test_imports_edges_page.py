"""The console's import page on edge input (issue 10 item 1): a NUL byte, a year-9999 rating and the same file
uploaded twice at once are answered in Chinese, never with a 500, and leave nothing half-written."""

import io

import pytest
from sqlalchemy import func, select

from assessment.extensions import db
from assessment.models import Period, PublicRating, Town, Unit, UnitKind
from assessment.services.imports.kinds.ratings import Ratings

HEADER = "event_id,unit_code,level,channel,rated_at,is_default,case_no,window,service_item,staff_code"


def _seed(app):
    with app.app_context():
        db.session.add(Unit(code="U01", name="市民政局", kind=UnitKind.GOVERNMENT, category="政府部门"))
        db.session.commit()


def _upload(client, kind, body, name=None):
    data = {"kind": kind, "period": "2026", "code_system": "standard", "file": (io.BytesIO(body), name or "f.csv")}
    return client.post("/office/imports", data=data, content_type="multipart/form-data")


def test_nul_byte_and_far_date_are_chinese_row_errors(app, login_as):
    """Are a NUL byte and a year-9999 rated_at Chinese row errors naming line and column (422), not 500s?"""
    _seed(app)
    client = login_as("operator")
    response = _upload(client, "towns", "code,name\nT03,舜王\x00街道\n".encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<td class="num">2</td><td>name</td>' in page and "含有空字符（NUL）" in page
    body = f"{HEADER}\na1,U01,5,window,9999-12-31T23:59:59-05:00,0,,,,\n".encode()
    response = _upload(client, "ratings", body)
    assert response.status_code == 422
    assert "超出了系统可保存的日期范围" in response.get_data(as_text=True)
    response = _upload(client, "units", "code,name,kind,category\nU0\u200b9,市医保局,政府部门,政府部门\n".encode())
    assert response.status_code == 422
    assert '<td class="num">2</td><td>code</td>' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Town)) == 0
        assert db.session.scalar(select(func.count()).select_from(PublicRating)) == 0


@pytest.fixture
def racing(monkeypatch):
    """As if another import stored the same ratings between this one's check and its write."""
    monkeypatch.setattr(Ratings, "check_chunk", lambda self, records: records)


def test_same_file_twice_at_once_is_a_409_with_nothing_written(app, login_as, racing):
    """Does the second of two uploads of one file at once get 409 and a clear message, writing nothing?"""
    _seed(app)
    client = login_as("operator")
    body = f"{HEADER}\ne1,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,\n".encode()
    assert _upload(client, "ratings", body).status_code == 302
    body2 = f"{HEADER}\ne0,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,\n" + body.decode().split("\n", 1)[1]
    response = _upload(client, "ratings", body2.encode())
    assert response.status_code == 409
    assert "另一个导入刚刚写入了相同的数据，请刷新后查看" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(PublicRating.event_id)).all() == ["e1"]  # e0 was not half-written


def test_cli_same_file_twice_at_once_says_so(app, runner, tmp_path, racing):
    """Does `assessment import` answer a UNIQUE clash with another import in English, exit 1, write nothing?"""
    _seed(app)
    path = tmp_path / "r.csv"
    path.write_text(f"{HEADER}\ne1,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,\n", encoding="utf-8")
    assert runner.invoke(args=["import", "ratings", str(path), "--period", "2026"]).exit_code == 0
    path.write_text(
        f"{HEADER}\ne0,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,\ne1,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import", "ratings", str(path), "--period", "2026"])
    assert result.exit_code == 1
    assert "Another import has just stored the same data" in result.output
    with app.app_context():
        assert db.session.scalars(select(PublicRating.event_id)).all() == ["e1"]
        assert db.session.scalar(select(func.count()).select_from(Period)) == 1


def test_xlsx_past_the_column_cap_is_a_clear_422(app, login_as):
    """Is an XLSX sheet wider than IMPORT_MAX_COLUMNS refused on the page with a Chinese message?"""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["code", "name"])
    wb.active.cell(row=2, column=200, value="x")
    out = io.BytesIO()
    wb.save(out)
    client = login_as("operator")
    response = _upload(client, "towns", out.getvalue(), "towns.xlsx")
    assert response.status_code == 422
    assert "工作表有200列，最多读取64列：请删除数据右侧多余的列" in response.get_data(as_text=True)
