"""Scoring a period in the app: stored versions, the results CSV contract, publishing and the console pages.

The city here is small enough to compute by hand. Only check points, problems and bonuses carry data, so each
unit's base is its checkpoints leaf and coverage is 25/100 = 0.25.
"""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    BonusItem,
    CheckPoint,
    CheckPointStatus,
    Period,
    PeriodState,
    Problem,
    ProblemSource,
    Result,
    ResultRow,
    Severity,
    Unit,
    UnitKind,
)

# unit: (checkpoint statuses, establishment, actual staff)
CITY = {
    # 4 on time -> 100; bonus 5 capped at 3 -> clip -> 100.00
    "U1": (["on_time"] * 4, 30, 30),
    # (2 + 0.5*2) / 4 * 100 = 75
    "U2": (["on_time", "on_time", "late", "late"], 30, 28),
    # 1 / 2 * 100 = 50; grave problem open past its deadline: 2 + 2 overdue -> 46; suspended
    "U3": (["on_time", "not_done"], 40, 35),
    # 3 / 4 * 100 = 75: ties U2 on composite and base -> code order puts U2 first
    "U4": (["on_time", "on_time", "on_time", "not_done"], 10, 10),
    # waived left out: 0.5 / 1 * 100 = 50
    "U5": (["waived", "late"], 20, 22),
}


@pytest.fixture
def city(app):
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add(period)
        for code, (statuses, est, staff) in CITY.items():
            unit = Unit(
                code=code,
                name=f"单位{code}",
                kind=UnitKind.GOVERNMENT,
                category="政府部门",
                establishment=est,
                actual_staff=staff,
            )
            db.session.add(unit)
            db.session.flush()
            for i, status in enumerate(statuses):
                db.session.add(
                    CheckPoint(
                        period_id=period.id,
                        unit_id=unit.id,
                        item=f"事项{i}",
                        due=date(2026, 6, 30),
                        status=CheckPointStatus(status),
                    )
                )
            if code == "U1":
                db.session.add(BonusItem(period_id=period.id, unit_id=unit.id, reason="创新做法", points=5))
            if code == "U3":
                db.session.add(
                    Problem(
                        period_id=period.id,
                        unit_id=unit.id,
                        title="推诿扯皮",
                        source=ProblemSource.LINKAGE,
                        severity=Severity.GRAVE,
                        found_on=date(2026, 3, 1),
                        deadline=date(2026, 6, 1),
                    )
                )
        db.session.commit()
    return "2026"


EXPECTED_CSV = """\
period,unit_code,unit_name,category,composite,rank,grade,assessment_points,establishment_action,suggested_reduction,approvals_suspended,coverage,checkpoints,expert,grassroots_territorial,grassroots_response,grassroots_burden,grassroots_support,public,leader,peer,deputy,self,institution,problems,overdue,deduction,bonus
2026,U1,单位U1,政府部门,100.00,1,excellent,4.00,priority,0,false,0.25,100.00,,,,,,,,,,,,0.00,0.00,0.00,3.00
2026,U2,单位U2,政府部门,75.00,2,fair,3.00,maintain,0,false,0.25,75.00,,,,,,,,,,,,0.00,0.00,0.00,0.00
2026,U4,单位U4,政府部门,75.00,3,fair,3.00,maintain,0,false,0.25,75.00,,,,,,,,,,,,0.00,0.00,0.00,0.00
2026,U5,单位U5,政府部门,50.00,4,poor,2.00,restrict,0,false,0.25,50.00,,,,,,,,,,,,0.00,0.00,0.00,0.00
2026,U3,单位U3,政府部门,46.00,5,poor,1.84,restrict,2,true,0.25,50.00,,,,,,,,,,,,2.00,2.00,4.00,0.00
"""


def test_score_and_export_csv_exactly(runner, city, tmp_path):
    """Does `assessment score` then `export --format csv` give the hand-computed table, in the contract's layout?

    N = 5: excellent if rank <= floor(1.0) = 1; poor if composite < 60 or rank > 5 - floor(0.5) = 5.
    U3 restrict: vacancies 40 - 35 = 5, ceil(0.05 * 40) = 2 -> 2. U5: 22 staff on 20 -> no vacancy -> 0.
    Points: 4 x 46 / 100 = 1.84.
    """
    result = runner.invoke(args=["score", "--period", city])
    assert result.exit_code == 0, result.output
    assert "U3" in result.output and "46.00" in result.output
    out = tmp_path / "results.csv"
    result = runner.invoke(args=["export", "--period", city, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM every CSV carries (interfaces.md)
    assert out.read_text(encoding="utf-8-sig") == EXPECTED_CSV


def test_scoring_a_draft_period_is_refused(runner, app, city):
    """Is scoring a period still in draft refused?"""
    with app.app_context():
        db.session.execute(sa.update(Period).values(state=PeriodState.DRAFT))
        db.session.commit()
    result = runner.invoke(args=["score", "--period", city])
    assert result.exit_code != 0 and "draft" in result.output


def test_export_of_unknown_period_or_missing_result_fails_clearly(runner, city, tmp_path):
    """Does exporting an unknown period or one without results fail with a clear message?"""
    out = str(tmp_path / "x.csv")
    result = runner.invoke(args=["export", "--period", "1999", "--format", "csv", "--out", out])
    assert result.exit_code != 0 and "period '1999' does not exist" in result.output
    result = runner.invoke(args=["export", "--period", city, "--format", "csv", "--out", out])
    assert result.exit_code != 0 and "no result" in result.output


def test_publish_freezes_and_rescoring_makes_a_new_version(runner, app, city, tmp_path):
    """Is a published result left as it was when data change, with the new version showing the moves?"""
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    refused = runner.invoke(args=["period", "publish", city])
    assert refused.exit_code != 0 and "cannot move from open" in refused.output
    assert runner.invoke(args=["period", "close", city]).exit_code == 0
    published = runner.invoke(args=["period", "publish", city])
    assert published.exit_code == 0, published.output

    with app.app_context():  # U4 gets a bonus of 2 points: 77 now beats U2's 75
        unit = db.session.scalars(sa.select(Unit).filter_by(code="U4")).one()
        period = db.session.scalars(sa.select(Period)).one()
        db.session.add(BonusItem(period_id=period.id, unit_id=unit.id, reason="经验被推广", points=2))
        db.session.commit()
    rescored = runner.invoke(args=["score", "--period", city])
    assert rescored.exit_code == 0, rescored.output
    assert "U4 单位U4: rank 3 -> 2" in rescored.output
    assert "U2 单位U2: rank 2 -> 3" in rescored.output

    with app.app_context():
        results = db.session.scalars(sa.select(Result).order_by(Result.version)).all()
        assert [(r.version, r.state.value) for r in results] == [(1, "published"), (2, "draft")]
        v1 = {row.unit_code: (row.rank, row.composite) for row in results[0].rows}
        assert v1["U4"] == (3, 75.0) and v1["U2"] == (2, 75.0)
        assert results[0].data_fingerprint != results[1].data_fingerprint

    old = tmp_path / "v1.csv"
    assert (
        runner.invoke(
            args=["export", "--period", city, "--format", "csv", "--out", str(old), "--version", "1"]
        ).exit_code
        == 0
    )
    assert old.read_text(encoding="utf-8-sig") == EXPECTED_CSV


def test_same_data_same_fingerprint(runner, app, city):
    """Does the same input data always give the same data fingerprint?"""
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    with app.app_context():
        prints = db.session.scalars(sa.select(Result.data_fingerprint)).all()
    assert len(prints) == 2 and prints[0] == prints[1]


def test_flagged_units_block_publishing_until_acknowledged(runner, app, client, auth, make_user, city):
    """Is publishing refused while a unit flagged by the sensitivity analysis is not reviewed?"""
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    assert runner.invoke(args=["period", "close", city]).exit_code == 0
    with app.app_context():  # the hand-made city is too stable to be flagged; flag one as the engine would
        db.session.execute(sa.update(ResultRow).where(ResultRow.unit_code == "U2").values(review_flag=True))
        db.session.commit()
    make_user("office", role="operator")
    auth.login()
    page = client.post("/office/periods/2026/publish", follow_redirects=True).get_data(as_text=True)
    assert "无法发布" in page and "U2" in page
    unit_page = client.get("/office/periods/2026/results/1/units/U2").get_data(as_text=True)
    assert "需人工复核" in unit_page
    client.post("/office/periods/2026/results/1/units/U2", data={"note": "已核实，数据无误"})
    page = client.post("/office/periods/2026/publish", follow_redirects=True).get_data(as_text=True)
    assert "已发布并冻结" in page
    with app.app_context():
        row = db.session.scalars(sa.select(ResultRow).filter_by(unit_code="U2")).one()
        assert row.reviewed_by == "office" and row.review_note == "已核实，数据无误"


def test_results_pages(client, auth, make_user, runner, city):
    """Can the office see the ranking, a unit's explanation, and download the CSV from the console?"""
    make_user("office", role="viewer")
    auth.login()
    empty = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "尚未计算评价结果" in empty
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "政府部门（5 个单位）" in page
    assert page.index("单位U1") < page.index("单位U2") < page.index("单位U4") < page.index("单位U3")
    assert "暂停受理" in page
    assert "计算新版本" not in page  # a viewer cannot score
    unit = client.get("/office/periods/2026/results/1/units/U3").get_data(as_text=True)
    assert "推诿扯皮" in unit and "超期" in unit and "46.00" in unit
    download = client.get("/office/periods/2026/results.csv")
    assert download.status_code == 200
    assert download.get_data().decode("utf-8-sig") == EXPECTED_CSV
    workbook = client.get("/office/periods/2026/results.xlsx?version=1")
    assert workbook.status_code == 200 and workbook.get_data()[:2] == b"PK"
    pending = client.get("/office/periods/2026/results.pdf")  # built by the report worker, not the request
    assert pending.status_code == 202 and "排队" in pending.get_data(as_text=True)
    worker = runner.invoke(args=["report-worker", "--once", "--processes", "1"])
    assert worker.exit_code == 0 and "Report jobs run: 1." in worker.output, worker.output
    assert client.get("/office/periods/2026/results.pdf").get_data()[:4] == b"%PDF"
    assert client.get("/office/periods/2026/results.doc").status_code == 404
    assert client.post("/office/periods/2026/score").status_code == 403
    assert client.get("/office/periods/2099/results").status_code == 404


def test_scheme_page_validates_and_versions(client, auth, make_user, app, city):
    """Does the scheme page refuse an invalid scheme and store each valid save as a new version?"""
    make_user("office", role="operator")
    auth.login()
    page = client.get("/office/periods/2026/scheme").get_data(as_text=True)
    assert "默认方案（尚未保存）" in page and "checkpoints" in page
    import scoring

    text = scoring.default_scheme_text()
    bad = text.replace("source: checkpoints, weight: 25", "source: checkpoints, weight: 20")
    page = client.post("/office/periods/2026/scheme", data={"text": bad, "note": ""}).get_data(as_text=True)
    assert "处错误，未保存" in page and "positive weights add up to 95, expected 100" in page
    with app.app_context():
        from assessment.models import Scheme

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Scheme)) == 0
    good = text.replace("review_below: 0.8", "review_below: 0.75")
    page = client.post(
        "/office/periods/2026/scheme", data={"text": good, "note": "放宽复核线"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "第 2 版" in page  # version 1 is the default the edit started from


def test_csv_neutralises_formulas_in_names(runner, app, city, tmp_path):
    """Are unit names that look like spreadsheet formulas made inert in the CSV?"""
    with app.app_context():
        db.session.execute(sa.update(Unit).where(Unit.code == "U1").values(name="=HYPERLINK(1)"))
        db.session.commit()
    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    out = tmp_path / "r.csv"
    assert runner.invoke(args=["export", "--period", city, "--format", "csv", "--out", str(out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0]["unit_name"] == "'=HYPERLINK(1)"


def test_xlsx_export_has_the_results_sheet_and_the_explanations(runner, city, tmp_path):
    """Does the workbook carry the CSV's table as numbers, and the sheets interfaces.md lists?"""
    import pandas as pd

    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    out = tmp_path / "results.xlsx"
    result = runner.invoke(args=["export", "--period", city, "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    # People's sheets first, the contract sheet "results", then the explanations under Chinese names.
    assert list(sheets) == [
        "评价结果",
        "指标说明",
        "results",
        "样本量",
        "分来源指标得分",
        "敏感性分析",
        "问题台账",
        "差评工单",
        "参评率",
        "评分方案",
    ]
    results = sheets["results"]
    expected = pd.read_csv(io.StringIO(EXPECTED_CSV))
    assert list(results.columns) == list(expected.columns)
    assert results["unit_code"].tolist() == ["U1", "U2", "U4", "U5", "U3"]
    assert results["composite"].tolist() == [100.0, 75.0, 75.0, 50.0, 46.0]
    assert results["assessment_points"].tolist() == [4.0, 3.0, 3.0, 2.0, 1.84]
    assert sheets["问题台账"]["问题"].tolist() == ["推诿扯皮"]
    assert sheets["问题台账"]["超期"].iloc[0] == "是"
    assert sheets["样本量"].set_index("单位编码").loc["U2", "问效点落实"] == 4


def test_pdf_report_names_every_unit_in_chinese(runner, city, tmp_path):
    """Is the printed report a PDF whose text (not boxes) names the units, grades and suspension?"""
    import shutil
    import subprocess

    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["export", "--period", city, "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed; make test installs it")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "2026 年度市直机关事业单位职能运行监管评价结果" in text
    for code in CITY:
        assert f"单位{code}（{code}）" in text
    assert "暂停受理机构编制事项申请" in text and "优秀" in text and "较差" in text
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    import re

    # The summary (概况, 样本与回收, the category's ranking, the heat map), then one page per unit.
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) == 4 + len(CITY)
    for page, code in enumerate(["U1", "U2", "U4", "U5", "U3"], start=5):
        one = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert f"单位{code}（{code}）" in one and f"第{page}页/共9页" in re.sub(r"\s", "", one)


def test_data_quality_names_straight_liners_only_to_data_admins(app, client, auth, make_user, runner, city):
    """Are straight-lining raters counted for all, but named (with their repeated answer) only to data admins?"""
    from assessment.models import Result

    assert runner.invoke(args=["score", "--period", city]).exit_code == 0
    with app.app_context():
        result = db.session.scalars(sa.select(Result)).one()
        extras = dict(result.extras)
        extras["quality"] = {
            "response_rates": [
                {
                    "instrument": "grassroots",
                    "town": "密州街道",
                    "group": "grassroots",
                    "assigned": 10,
                    "submitted": 8,
                    "rate": 0.8,
                }
            ],
            "alpha": [{"instrument": "grassroots", "alpha": 0.61}],
            "straight_liners": [{"rater": "G0007", "instrument": "grassroots", "n_answers": 16, "value": 5.0}],
        }
        result.extras = extras
        db.session.commit()
    make_user("viewer", role="viewer")
    make_user("steward", role="data_admin")
    auth.login("viewer")
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "数据质量" in page and "8 / 10" in page and "80.0%" in page and "0.61" in page
    assert "G0007" not in page
    auth.logout()
    auth.login("steward")
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    assert "G0007" in page
