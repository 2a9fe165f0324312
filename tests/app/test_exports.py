"""Files for people: the Chinese workbook, the contract sheet, the 4% file, the printed report and one unit alone.

A small city in two categories; only check points, problems and bonuses carry data (as in test_results), plus
free text that would run as a formula, and one unit whose questionnaire group is made to fall below its minimum
sample after scoring (its stored leaf: no value, suppressed).
"""

import csv
import io
import re
import shutil
import subprocess
import zipfile
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import scoring
from assessment.extensions import db
from assessment.models import (
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

# code: (name, category, statuses)
UNITS = {
    "A1": ('=HYPERLINK("http://x","点我")', "政府部门", ["on_time"] * 3 + ["late"]),
    "A2": ("市财政局", "政府部门", ["on_time", "late", "late"]),
    "A3": ("市审计局", "政府部门", ["on_time", "not_done"]),
    "B1": ("市档案馆", "事业单位", ["on_time", "on_time", "late"]),
    "B2": ("市气象服务中心", "事业单位", ["late", "not_done", "on_time"]),
}
FORMULA = '=HYPERLINK("http://x","点我")'
CONTRACT = [
    "period",
    "unit_code",
    "unit_name",
    "category",
    "composite",
    "rank",
    "grade",
    "assessment_points",
    "establishment_action",
    "suggested_reduction",
    "approvals_suspended",
    "coverage",
]


@pytest.fixture
def scored(app, runner):
    """The city scored once, with a formula in a unit name, a problem title and a review note."""
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add(period)
        for code, (name, category, statuses) in UNITS.items():
            unit = Unit(
                code=code, name=name, kind=UnitKind.GOVERNMENT, category=category, establishment=20, actual_staff=18
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
        db.session.add(
            Problem(
                period_id=period.id,
                unit_id=db.session.scalar(sa.select(Unit.id).filter_by(code="A3")),
                title="=1+2 推诿扯皮",
                source=ProblemSource.LINKAGE,
                severity=Severity.SERIOUS,
                found_on=date(2026, 3, 1),
                deadline=date(2026, 6, 1),
            )
        )
        db.session.commit()
    result = runner.invoke(args=["score", "--period", "2026"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalars(sa.select(ResultRow).filter_by(unit_code="B1")).one()
        row.review_note = "=cmd|' /C calc'!A0"
        leaves = dict(row.leaves)
        # Two leaders rated B1 against a minimum of three: no value, and the page must not print one.
        leaves["leader"] = {
            "value": None,
            "raw": 61.5,
            "n": 2,
            "weight": 10.0,
            "contribution": None,
            "suppressed": True,
        }
        row.leaves = leaves
        db.session.commit()
    return "2026"


def _stored(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(ResultRow)).all()
        return {r.unit_code: r for r in rows}


def _export(runner, tmp_path, fmt, *extra):
    out = tmp_path / f"out.{ {'assessment': 'xlsx', 'pdf': 'pdf'}.get(fmt, fmt) }"
    out = out.with_stem(f"out-{fmt}")
    result = runner.invoke(args=["export", "--period", "2026", "--format", fmt, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def _pdf_text(path, first=None, last=None):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed; make test installs it")
    pages = [] if first is None else ["-f", str(first), "-l", str(last or first)]
    return subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _default_shares():
    """The default scheme's excellent and poor shares as the percentages they are ("20%"), written here with
    Python's %g, not the app's formatter."""
    grades = scoring.default_scheme().grades
    return tuple(f"{share * 100:g}%" for share in (grades.excellent_share, grades.poor_share))


def test_chinese_and_contract_sheets_read_back_as_the_stored_results(app, runner, scored, tmp_path):
    """Do 评价结果 and results, read back with pandas, equal the stored results to two decimals, in the contract's
    column order, with Chinese labels on the people's sheet?"""
    out = _export(runner, tmp_path, "xlsx")
    stored = _stored(app)
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    assert list(sheets)[:3] == ["评价结果", "指标说明", "results"]
    contract = sheets["results"]
    assert list(contract.columns)[: len(CONTRACT)] == CONTRACT
    assert list(contract.columns)[-2:] == ["deduction", "bonus"]
    assert contract["unit_code"].tolist() == [
        r.unit_code for r in sorted(stored.values(), key=lambda r: (r.category, r.rank))
    ]
    people = sheets["评价结果"].dropna(subset=["单位编码"])  # the shaded rows head the category groups
    assert "事业单位（2 个单位）" in sheets["评价结果"]["分类"].tolist()
    for frame, code_col, columns in (
        (
            contract,
            "unit_code",
            {
                "composite": "composite",
                "assessment_points": "assessment_points",
                "coverage": "coverage",
                "deduction": "deduction",
                "bonus": "bonus",
            },
        ),
        (
            people,
            "单位编码",
            {
                "综合得分": "composite",
                "综合考核分值": "assessment_points",
                "指标覆盖率": "coverage",
                "扣分合计": "deduction",
                "加分": "bonus",
            },
        ),
    ):
        assert len(frame) == len(stored)
        for _, line in frame.iterrows():
            row = stored[line[code_col]]
            for column, attribute in columns.items():
                assert round(float(line[column]), 2) == pytest.approx(round(getattr(row, attribute), 2), abs=1e-9)
    grades = dict(zip(people["单位编码"], people["等次"], strict=True))
    assert grades == {
        code: {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}[r.grade]
        for code, r in stored.items()
    }
    assert set(people["暂停受理编制事项"]) <= {"是", "否"}
    assert people.set_index("单位编码").loc["A3", "暂停受理编制事项"] == "是"
    assert people.set_index("单位编码").loc["B1", "领导点评"] == "样本不足"
    # The group under its minimum sample: no score, no contribution and no sample size on any sheet.
    assert sheets["样本量"].set_index("单位编码").loc["B1", "领导点评"] == "样本不足"
    detail = sheets["分来源指标得分"].set_index(["单位编码", "指标编号"]).loc[("B1", "leader")]
    assert detail["得分"] == "样本不足" and pd.isna(detail["样本量"]) and pd.isna(detail["贡献（分）"])
    for name in ["样本量", "分来源指标得分", "敏感性分析", "问题台账", "差评工单", "参评率", "评分方案"]:
        assert not re.search(r"[a-z]_[a-z]", " ".join(str(c) for c in sheets[name].columns)), name
    explained = sheets["指标说明"]
    assert {"综合得分", "等次", "综合考核分值", "样本不足"} <= set(explained["名称"])
    grades = explained.set_index("名称").loc["等次"].iloc[-1]
    top, bottom = _default_shares()
    assert f"组内排名前 {top} 为优秀" in grades and f"排名后 {bottom} 为较差" in grades
    assert set(explained.loc[explained["类型"] == "指标", "编号"]) >= {"checkpoints", "public", "overdue"}
    book = load_workbook(out)
    assert book["评价结果"].freeze_panes == "E2" and book["results"]["E2"].number_format == "0.00"


def test_text_starting_with_a_formula_is_inert_in_every_sheet_and_the_csv(app, runner, scored, tmp_path):
    """Does free text starting with "=" (a unit name, a problem title, a review note) come out as inert text in
    every cell of every sheet and in the CSV, which starts with a BOM and reads back as utf-8-sig?"""
    book = load_workbook(_export(runner, tmp_path, "xlsx"))
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    # inert: stored as text with Excel's quote prefix, the characters unchanged
                    assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.value)
                    if cell.value.startswith("="):
                        seen.add(cell.value)
    assert {FORMULA, "=1+2 推诿扯皮", "=cmd|' /C calc'!A0"} <= seen
    raw = _export(runner, tmp_path, "csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT
    assert [r["unit_name"] for r in rows if r["unit_code"] == "A1"] == ["'" + FORMULA]
    assessment = load_workbook(_export(runner, tmp_path, "assessment"))["综合考核"]
    names = {c.value: c for c in assessment["B"]}
    assert FORMULA in names and names[FORMULA].quotePrefix and names[FORMULA].data_type == "s"


def test_sheet_text_keeps_its_characters(tmp_path):
    """Does a sheet keep text that starts like a formula ("- territorial", "=1+2", "+86", "@x") exactly as
    written — inert, without the apostrophe that only the CSV adds?"""
    from openpyxl import Workbook

    from assessment.services.exports.workbook import Sheet, write_sheet

    lines = ["- territorial", "=1+2", "+86 0536", "@x", "plain"]
    book = Workbook()
    book.remove(book.active)
    write_sheet(book, Sheet("评分方案", ["YAML"], [[line] for line in lines]))
    book.save(tmp_path / "x.xlsx")
    cells = [c for (c,) in load_workbook(tmp_path / "x.xlsx")["评分方案"].iter_rows(min_row=2)]
    assert [c.value for c in cells] == lines
    assert [bool(c.quotePrefix) for c in cells] == [True, True, True, True, False]
    assert all(c.data_type == "s" for c in cells)


def test_assessment_file_is_as_interfaces_md_says(app, runner, scored, tmp_path):
    """Is `--format assessment` an xlsx whose first sheet 综合考核 has the eight columns of interfaces.md, grades in
    Chinese, 考核分值 with two decimals and 暂停受理 是/否, one row per unit?"""
    out = _export(runner, tmp_path, "assessment")
    book = load_workbook(out)
    assert book.sheetnames[0] == "综合考核"
    frame = pd.read_excel(out, sheet_name="综合考核", dtype={"单位编码": str}, engine="openpyxl")
    assert list(frame.columns) == ["单位编码", "单位名称", "分类", "综合得分", "排名", "等次", "考核分值", "暂停受理"]
    stored = _stored(app)
    assert sorted(frame["单位编码"]) == sorted(stored)
    for _, line in frame.iterrows():
        row = stored[line["单位编码"]]
        assert line["分类"] == row.category and line["排名"] == row.rank
        assert line["等次"] == {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}[row.grade]
        assert f"{line['考核分值']:.2f}" == f"{round(row.assessment_points, 2):.2f}"
        assert line["暂停受理"] == ("是" if row.approvals_suspended else "否")
    sheet = book["综合考核"]
    assert all(sheet.cell(r, 7).number_format == "0.00" for r in range(2, sheet.max_row + 1))


def test_pdf_is_the_summary_then_one_page_per_unit_with_the_csv_digits(app, runner, scored, tmp_path):
    """Does the PDF have the summary and then exactly one page per unit, naming each unit with the composite the
    CSV writes, and print 样本不足 (never the number) for a group under its minimum?"""
    csv_rows = list(csv.DictReader(io.StringIO(_export(runner, tmp_path, "csv").read_text(encoding="utf-8-sig"))))
    out = _export(runner, tmp_path, "pdf")
    pages = _pages(out)
    summary = pages - len(UNITS)
    assert summary >= 3  # 概况, 样本与回收, the rankings and the heat maps
    text = _pdf_text(out, 1, summary)
    assert "评价怎样进行" in text and "样本与回收" in text and "单位 × 指标得分" in text
    flat = re.sub(r"\s", "", text)
    top, bottom = _default_shares()
    assert f"排名前{top}为优秀" in flat and f"排名后{bottom}为较差" in flat  # as set
    for page, line in enumerate(csv_rows, start=summary + 1):
        one = _pdf_text(out, page)
        assert f"（{line['unit_code']}）" in one and line["composite"] in one
        assert (line["unit_name"].lstrip("'") in one) or line["unit_code"] == "A1"
        assert f"第{page}页/共{pages}页" in re.sub(r"\s", "", one)
    b1 = _pdf_text(out, summary + 1 + [r["unit_code"] for r in csv_rows].index("B1"))
    b1_page = str(summary + 1 + [r["unit_code"] for r in csv_rows].index("B1"))
    table = subprocess.run(
        ["pdftotext", "-layout", "-f", b1_page, "-l", b1_page, str(out), "-"], capture_output=True, text=True
    ).stdout  # -layout keeps a table row on one line
    leader = [line for line in table.splitlines() if "领导点评" in line]
    assert leader and all("样本不足" in line for line in leader), leader
    assert "样本不足" in b1 and "61.5" not in b1
    assert "内部资料" in text and "2026 年度" in text


def test_one_unit_alone_and_all_units_as_a_zip(app, runner, scored, tmp_path):
    """Does `--format pdf --unit CODE` write that unit's page alone (numbered 1 of 1), `--format zip` one PDF per
    unit, and an unknown unit fail clearly?"""
    out = _export(runner, tmp_path, "pdf", "--unit", "B1")
    assert _pages(out) == 1
    text = _pdf_text(out)
    assert "市档案馆（B1）" in text and "市财政局" not in text and "第1页/共1页" in re.sub(r"\s", "", text)
    archive = zipfile.ZipFile(_export(runner, tmp_path, "zip"))
    names = archive.namelist()
    assert len(names) == len(UNITS) and "B1_市档案馆.pdf" in names
    assert all(archive.read(name).startswith(b"%PDF") for name in names)
    bad = runner.invoke(
        args=["export", "--period", "2026", "--format", "pdf", "--unit", "ZZ", "--out", str(tmp_path / "x.pdf")]
    )
    assert bad.exit_code != 0 and "unit ZZ" in bad.output
    wrong = runner.invoke(
        args=["export", "--period", "2026", "--format", "csv", "--unit", "B1", "--out", str(tmp_path / "x.csv")]
    )
    assert wrong.exit_code != 0 and "--unit goes with --format pdf" in wrong.output


def test_console_downloads_the_report_built_once_in_the_background(app, client, auth, make_user, runner, scored):
    """Does the console answer 202 while the report is queued, serve the stored bytes once the worker built them
    (the same bytes again, and a 304 for a known ETag), a unit's PDF, the zip and the 4% file — with Chinese file
    names encoded per RFC 6266?"""
    make_user("office", role="viewer")
    auth.login()
    pending = client.get("/office/periods/2026/results.pdf")
    assert pending.status_code == 202 and "排队" in pending.get_data(as_text=True)
    assert client.get("/office/periods/2026/results/units.zip").status_code == 202
    unit = client.get("/office/periods/2026/results/1/units/B1.pdf")  # laid out on demand, before the worker
    assert unit.status_code == 200 and unit.get_data()[:4] == b"%PDF"
    assert "filename*=UTF-8''" in unit.headers["Content-Disposition"]
    worker = runner.invoke(args=["report-worker", "--once", "--processes", "2"])
    assert worker.exit_code == 0 and "Report jobs run: 1." in worker.output, worker.output
    first = client.get("/office/periods/2026/results.pdf")
    assert first.status_code == 200 and first.get_data()[:4] == b"%PDF"
    assert client.get("/office/periods/2026/results.pdf").get_data() == first.get_data()
    assert (
        client.get("/office/periods/2026/results.pdf", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    with app.app_context():
        result = db.session.scalars(sa.select(Result)).one()
        assert result.id and db.session.scalar(sa.text("SELECT count(*) FROM report_jobs")) == 1
    zipped = client.get("/office/periods/2026/results/units.zip")
    assert zipped.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(zipped.get_data())).namelist()) == 5
    assert client.get("/office/periods/2026/results/1/units/B1.pdf").get_data()[:4] == b"%PDF"
    assert client.get("/office/periods/2026/results/1/units/ZZ.pdf").status_code == 404
    assessment = client.get("/office/periods/2026/results/assessment.xlsx")
    assert assessment.status_code == 200 and assessment.get_data()[:2] == b"PK"
    assert "filename*=UTF-8''" in assessment.headers["Content-Disposition"]
    assert client.get("/office/periods/2099/results.pdf").status_code == 404


def test_console_unit_page_prints_no_sample_size_for_a_group_under_its_minimum(client, auth, make_user, scored):
    """Does the console's unit page show 样本不足 for a group under its minimum sample, and neither its score
    nor its size (two leaders: "2")?"""
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/periods/2026/results/1/units/B1").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, flags=re.S) if "领导点评" in r)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
    assert cells[4] == "样本不足" and cells[5] == "—" and cells[6] == "—", cells
    assert "61.5" not in page


def test_notes_sheet_states_the_schemes_grade_shares_as_set():
    """Does 指标说明 state a 12.5% excellent share and an 82.5% review threshold as set (not 12% / 82%)?"""
    import dataclasses

    import scoring
    from assessment.services.exports.workbook import explanation_sheet

    scheme = scoring.default_scheme()
    scheme = dataclasses.replace(
        scheme,
        grades=dataclasses.replace(scheme.grades, excellent_share=0.125),
        sensitivity=dataclasses.replace(scheme.sensitivity, review_below=0.825),
    )
    notes = {row[1]: row[-1] for row in explanation_sheet(scheme).rows}
    assert "组内排名前 12.5% 为优秀" in notes["等次"] and "低于 82.5% 的单位" in notes["需人工复核"]
