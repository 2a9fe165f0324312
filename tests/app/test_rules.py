"""One source per rule, seen from outside: rounding ties, units without data, China time, navigation, review.

The city: only check points and bonuses carry data, so each unit's base is its checkpoints leaf.
- T1: 13 of 25 on time -> 52.00, bonus 2.125 -> composite 54.125, a rounding tie: 四舍五入 gives 54.13 where
  Python's float formatting gives 54.12 (and the bonus 2.13, not 2.12).
- T2: 2 of 4 on time -> 50.00, bonus 2.675 -> composite 52.675: 52.68 (float formatting: 52.67); bonus 2.68.
- T3: no data at all: no composite, no rank, no grade, no action.
"""

import csv
import io
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    BonusItem,
    CheckPoint,
    CheckPointStatus,
    Period,
    PeriodState,
    Result,
    ResultRow,
    Unit,
    UnitKind,
)

TIES = {"T1": ("54.13", "2.13"), "T2": ("52.68", "2.68")}
FLOAT_FORMATTED = ("54.12", "52.67", "2.12", "2.67")


@pytest.fixture
def ties(app):
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add(period)
        plan = {"T1": (13, 12, 2.125), "T2": (2, 2, 2.675), "T3": (0, 0, None)}
        for code, (on_time, not_done, bonus) in plan.items():
            unit = Unit(
                code=code,
                name=f"单位{code}",
                kind=UnitKind.GOVERNMENT,
                category="政府部门",
                establishment=10,
                actual_staff=10,
            )
            db.session.add(unit)
            db.session.flush()
            statuses = [CheckPointStatus.ON_TIME] * on_time + [CheckPointStatus.NOT_DONE] * not_done
            for i, status in enumerate(statuses):
                db.session.add(
                    CheckPoint(
                        period_id=period.id, unit_id=unit.id, item=f"事项{i}", due=date(2026, 6, 30), status=status
                    )
                )
            if bonus is not None:
                db.session.add(BonusItem(period_id=period.id, unit_id=unit.id, reason="创新做法", points=bonus))
        db.session.commit()
    return "2026"


@pytest.fixture
def office(auth, make_user):
    make_user("office", role="admin")
    auth.login("office")


def _score(runner, period="2026"):
    result = runner.invoke(args=["score", "--period", period])
    assert result.exit_code == 0, result.output
    return result.output


def _acknowledge_flagged(runner, app, note="已核实"):
    with app.app_context():
        flagged = db.session.scalars(
            sa.select(ResultRow.unit_code)
            .join(Result)
            .where(ResultRow.review_flag.is_(True), ResultRow.reviewed_at.is_(None))
            .order_by(Result.version.desc())
        ).all()
    for code in flagged:
        result = runner.invoke(args=["review", "--period", "2026", "--unit", code, "--note", note])
        assert result.exit_code == 0, result.output


def _pdf_text(path):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed; make test installs it")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_rounding_ties_agree_on_every_page_and_file(app, client, office, runner, ties, tmp_path):
    """Does a composite on a rounding tie (54.125, 52.675) show the same 四舍五入 digits everywhere?"""
    table = _score(runner)
    assert "54.13" in table and "52.68" in table and "54.12" not in table and "52.67" not in table

    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    for code, (composite, bonus) in TIES.items():
        assert composite in page and bonus in page
        unit_page = client.get(f"/office/periods/2026/results/1/units/{code}").get_data(as_text=True)
        assert composite in unit_page and bonus in unit_page
    for wrong in FLOAT_FORMATTED:
        assert wrong not in page

    out = tmp_path / "results.csv"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "csv", "--out", str(out)]).exit_code == 0
    rows = {r["unit_code"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))}
    for code, (composite, bonus) in TIES.items():
        assert (rows[code]["composite"], rows[code]["bonus"]) == (composite, bonus)

    from openpyxl import load_workbook

    out = tmp_path / "results.xlsx"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    sheet = load_workbook(out)["results"]
    header = [c.value for c in sheet[1]]
    cells = {row[header.index("unit_code")].value: row for row in sheet.iter_rows(min_row=2)}
    for code, (composite, bonus) in TIES.items():
        cell = cells[code][header.index("composite")]
        assert f"{cell.value:.2f}" == composite and cell.number_format == "0.00"
        assert f"{cells[code][header.index('bonus')].value:.2f}" == bonus

    out = tmp_path / "report.pdf"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "pdf", "--out", str(out)]).exit_code == 0
    text = _pdf_text(out)
    for composite, bonus in TIES.values():
        assert composite in text and bonus in text
    for wrong in FLOAT_FORMATTED:
        assert wrong not in text


def test_unit_without_data_shows_no_data_and_no_action(app, client, office, runner, ties, tmp_path):
    """Does a unit without data show 无数据 for its rank and no establishment action (not "None", not 维持)?"""
    _score(runner)
    with app.app_context():
        row = db.session.scalars(sa.select(ResultRow).filter_by(unit_code="T3")).one()
        assert row.composite is None and row.rank is None and row.establishment_action is None
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    line = re.search(r"<tr>\s*<td class=\"num\">([^<]*)</td>\s*<td><a[^>]*>单位T3</a>.*?</tr>", page, re.DOTALL)
    assert line is not None and line.group(1) == "无数据"
    assert "维持" not in line.group(0) and "None" not in page
    unit_page = client.get("/office/periods/2026/results/1/units/T3").get_data(as_text=True)
    assert "无数据" in unit_page and "None" not in unit_page and "维持" not in unit_page
    out = tmp_path / "results.csv"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "csv", "--out", str(out)]).exit_code == 0
    rows = {r["unit_code"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))}
    assert rows["T3"]["rank"] == "" and rows["T3"]["establishment_action"] == ""
    out = tmp_path / "report.pdf"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "pdf", "--out", str(out)]).exit_code == 0
    text = _pdf_text(out)
    assert "无数据" in text and "None" not in text


def test_rescoring_after_publishing_with_a_unit_without_data_lists_moves(app, client, office, runner, ties):
    """After publishing, does a new version compute, store and list the moves when a unit has no data?"""
    _score(runner)
    assert runner.invoke(args=["period", "close", "2026"]).exit_code == 0
    _acknowledge_flagged(runner, app)
    published = runner.invoke(args=["period", "publish", "2026"])
    assert published.exit_code == 0, published.output

    with app.app_context():  # T2 gets 3 more points... capped at 3 in all: 53.00 now, still behind T1
        unit = db.session.scalars(sa.select(Unit).filter_by(code="T2")).one()
        period = db.session.scalars(sa.select(Period)).one()
        db.session.add(BonusItem(period_id=period.id, unit_id=unit.id, reason="经验被推广", points=5))
        db.session.commit()
    rescored = runner.invoke(args=["score", "--period", "2026"])
    assert rescored.exit_code == 0, rescored.output
    assert "Changes against the published version: 1 unit(s)" in rescored.output and "T2" in rescored.output

    # The console's button computes a third version and lists the same move.
    response = client.post("/office/periods/2026/score")
    assert response.status_code == 302
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "与已发布版本相比的变化" in page and "单位T2" in page
    with app.app_context():
        versions = db.session.scalars(sa.select(Result.version).order_by(Result.version)).all()
        assert versions == [1, 2, 3]
        rows = {
            r.unit_code: r for r in db.session.scalars(sa.select(ResultRow).join(Result).where(Result.version == 3))
        }
        assert rows["T3"].composite is None and rows["T2"].composite == 53.0


def test_times_are_shown_in_china_time(app, client, office, runner, ties, tmp_path):
    """Are the computing time, the review stamp, the PDF and the xlsx written in China time (UTC+8)?"""
    _score(runner)
    _acknowledge_flagged(runner, app)
    with app.app_context():
        result = db.session.scalars(sa.select(Result)).one()
        result.computed_at = result.computed_at.replace(year=2026, month=3, day=1, hour=20, minute=5)
        row = db.session.scalars(sa.select(ResultRow).filter_by(unit_code="T1")).one()
        row.review_flag = True
        row.reviewed_by, row.review_note = "office", "已核实"
        row.reviewed_at = result.computed_at + timedelta(minutes=10)
        db.session.commit()
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "2026-03-02 04:05" in page and "2026-03-01 20:05" not in page
    unit_page = client.get("/office/periods/2026/results/1/units/T1").get_data(as_text=True)
    assert "office 于 2026-03-02 04:15（北京时间） 复核" in unit_page
    out = tmp_path / "report.pdf"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "pdf", "--out", str(out)]).exit_code == 0
    assert "2026-03-02 04:05" in _pdf_text(out)
    from openpyxl import load_workbook

    out = tmp_path / "results.xlsx"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    sheet = load_workbook(out)["敏感性分析"]  # the sensitivity sheet, under its Chinese name
    header = [c.value for c in sheet[1]]
    stamps = {
        r[header.index("单位编码")].value: r[header.index("复核时间（北京时间）")].value
        for r in sheet.iter_rows(min_row=2)
    }
    assert stamps["T1"] == "2026-03-02 04:15"


@pytest.mark.parametrize("role", ["unit_liaison", "viewer", "operator", "data_admin", "admin"])
def test_navigation_shows_each_role_only_what_it_may_open(app, client, auth, make_user, ties, role):
    """Does every navigation link a role sees open for it (no link that answers 403)?"""
    make_user("someone", role=role, unit_code="T1" if role == "unit_liaison" else None)
    landing = auth.login("someone").headers["Location"]
    page = client.get(landing, follow_redirects=True).get_data(as_text=True)
    nav = re.search(r"<nav>(.*?)</nav>", page, re.DOTALL).group(1)
    links = re.findall(r'href="([^"]+)"', nav)
    assert links
    for href in links:
        assert client.get(href).status_code == 200, href
    if role == "unit_liaison":
        # Issue 9: a liaison's own unit's page and check points besides its cases (still nothing of the office's).
        assert links == ["/office/cases", "/office/unit", "/office/checkpoints"]
    if role == "viewer":
        assert "/office/imports" not in links


def test_review_command_acknowledges_a_flagged_unit(app, runner, ties):
    """Does `assessment review` keep who, when and the note, and refuse what the console's form refuses?"""
    _score(runner)
    with app.app_context():
        db.session.execute(sa.update(ResultRow).where(ResultRow.unit_code == "T1").values(review_flag=True))
        db.session.execute(sa.update(ResultRow).where(ResultRow.unit_code != "T1").values(review_flag=False))
        db.session.commit()

    refused = runner.invoke(args=["review", "--period", "2026", "--unit", "T2", "--note", "看过"])
    assert refused.exit_code != 0 and "not flagged for review" in refused.output
    refused = runner.invoke(args=["review", "--period", "2026", "--unit", "T1", "--note", "  "])
    assert refused.exit_code != 0 and "note is required" in refused.output
    refused = runner.invoke(args=["review", "--period", "2026", "--unit", "NOPE", "--note", "x"])
    assert refused.exit_code != 0 and "NOPE" in refused.output
    refused = runner.invoke(args=["review", "--period", "1999", "--unit", "T1", "--note", "x"])
    assert refused.exit_code != 0 and "1999" in refused.output

    done = runner.invoke(args=["review", "--period", "2026", "--unit", "T1", "--note", "数据已核实"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        row = db.session.scalars(sa.select(ResultRow).filter_by(unit_code="T1")).one()
        assert (row.reviewed_by, row.review_note) == ("cli", "数据已核实") and row.reviewed_at is not None
    again = runner.invoke(args=["review", "--period", "2026", "--unit", "T1", "--note", "再看"])
    assert again.exit_code != 0 and "already reviewed" in again.output

    assert runner.invoke(args=["period", "close", "2026"]).exit_code == 0
    published = runner.invoke(args=["period", "publish", "2026"])
    assert published.exit_code == 0, published.output
    refused = runner.invoke(args=["review", "--period", "2026", "--unit", "T1", "--note", "x"])
    assert refused.exit_code != 0 and "published" in refused.output


def test_chinese_dates_are_written_one_way():
    """Is a date shown as 2026年1月5日 (no leading zeros) by the one zh_date, and a missing one as a dash?"""
    from assessment.timefmt import zh_date

    assert zh_date(date(2026, 1, 5)) == "2026年1月5日" and zh_date(None) == "—"
