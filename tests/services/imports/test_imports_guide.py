"""Templates with their 填写说明 (notes), the example row, and the reference lists (参考清单) of codes."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Unit, UnitKind
from assessment.services.imports import (
    COLUMNS,
    KINDS,
    ImportFailed,
    guide_csv,
    reference_bytes,
    run_import,
    template_bytes,
)
from assessment.services.imports.guide import GUIDE_SHEET, example_row, notes
from tests.services.imports.helpers import count, write_csv


def _xlsx_rows(data, sheet=0):
    book = load_workbook(io.BytesIO(data))
    ws = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("kind", KINDS)
def test_notes_explain_every_column_in_template_order(kind):
    """Does the 填写说明 of each kind explain exactly its columns, in the template's order, required first?"""
    required, optional = COLUMNS[kind]
    listed = notes(kind)
    assert [n["name"] for n in listed] == required + optional
    assert [n["required"] for n in listed] == [True] * len(required) + [False] * len(optional)
    assert all(n["title"] and n["rule"] for n in listed)
    assert all(example_row(kind)[c] != "" for c in required), "the example fills every required column"


@pytest.mark.parametrize("kind", KINDS)
def test_xlsx_template_has_an_example_row_and_a_notes_sheet(kind):
    """Does the XLSX template carry the example row (marked) on line 2 and a second sheet 填写说明?"""
    required, optional = COLUMNS[kind]
    data = template_bytes(kind, "xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [kind, GUIDE_SHEET]
    first = book[kind]
    assert [c.value for c in first[1]] == required + optional
    assert first["A2"].font.italic and "示例行" in first["A2"].comment.text
    example = example_row(kind)
    shown = [("" if c.value is None else str(c.value)) for c in first[2]]
    assert shown == [example[c] for c in required + optional]
    guide = _xlsx_rows(data, GUIDE_SHEET)
    table = guide.index(["列名", "中文名称", "是否必填", "填写要求 / 允许的值", "示例"])
    assert [r[0] for r in guide[table + 1 :]] == required + optional
    assert any("示例行" in (r[0] or "") for r in guide[:table])


def test_choice_columns_list_codes_and_labels():
    """Does the note of a choice column name each code with the Chinese label that is also accepted?"""
    kind = {n["name"]: n for n in notes("units")}["kind"]
    assert "government（政府部门）" in kind["rule"] and "party（党委部门）" in kind["rule"]
    channel = {n["name"]: n for n in notes("ratings")}["channel"]
    assert "window（窗口评价器）" in channel["rule"]


def test_guide_csv_is_a_separate_file_with_a_bom(city):
    """Is the CSV 填写说明 a file of its own (with a BOM), and the CSV template still a header row only?"""
    data = guide_csv("raters")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    table = rows.index(["列名", "中文名称", "是否必填", "填写要求 / 允许的值", "示例"])
    assert [r[0] for r in rows[table + 1 :]] == ["code", "name", "group", "town_code", "unit_code", "phone"]
    template = template_bytes("raters", "csv").decode("utf-8-sig")
    assert template.strip() == "code,name,group,town_code,unit_code,phone"


def test_unchanged_xlsx_template_skips_its_example_row(city):
    """Does the XLSX template, uploaded as downloaded, import nothing and say the example row was left out?"""
    report = run_import("units", io.BytesIO(template_bytes("units", "xlsx")), "2026", filename="units.xlsx")
    assert report.rows == 0 and report.example_skipped
    assert "example row (line 2) was left out" in report.summary()
    assert "模板示例行（第2行）未改动，已跳过" in report.summary_zh()
    assert count(Unit) == 3


def _filled_template(kind, rows, keep_example=True, edit=None):
    """The XLSX template of `kind` with `rows` added below the example (or the example edited by `edit`)."""
    book = load_workbook(io.BytesIO(template_bytes(kind, "xlsx")))
    ws = book.worksheets[0]
    if edit:
        for column, value in edit.items():
            ws.cell(row=2, column=COLUMNS[kind][0].index(column) + 1, value=value)
    elif not keep_example:
        ws.delete_rows(2)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_filled_below_the_example_imports_the_clerks_rows(city):
    """Are the rows a clerk writes below the untouched example imported, and the example not?"""
    data = _filled_template("units", [["U10", "市民政局", "政府部门", "政府部门", 30, 28, 4, 4]])
    report = run_import("units", io.BytesIO(data), "2026", filename="units.xlsx")
    db.session.commit()
    assert report.rows == 1 and report.counts["created"] == 1 and report.example_skipped
    codes = db.session.execute(select(Unit.code).where(Unit.code.in_(["U10", "U001"]))).scalars().all()
    assert codes == ["U10"]


def test_an_edited_example_row_is_data(city):
    """Is the example row, once the clerk changed it, imported like any row?"""
    data = _filled_template("units", [], edit={"code": "U20", "name": "市统计局"})
    report = run_import("units", io.BytesIO(data), "2026", filename="units.xlsx")
    db.session.commit()
    assert report.rows == 1 and not report.example_skipped
    assert db.session.execute(select(Unit.name).filter_by(code="U20")).scalar_one() == "市统计局"


def test_the_example_elsewhere_than_line_2_is_data(city, tmp_path):
    """Is a row equal to the example but not on line 2 imported (only the template's own line is skipped)?"""
    example = example_row("towns")
    lines = ["code,name", "T05,舜王街道", f"{example['code']},{example['name']}"]
    report = run_import("towns", write_csv(tmp_path, lines), "2026")
    assert report.rows == 2 and not report.example_skipped and report.counts["unchanged"] == 1


def test_a_filled_csv_template_imports(city):
    """Does the downloaded CSV template, with rows added, import as it is?"""
    data = template_bytes("towns", "csv") + "T06,相州镇\r\nT07,昌城镇\r\n".encode()
    report = run_import("towns", io.BytesIO(data), "2026", filename="towns.csv")
    assert report.counts == {"created": 2, "updated": 0, "unchanged": 0}


ORDER = ("towns", "units", "raters", "responses", "ratings", "checkpoints", "problems", "bonuses", "institution_scores")


def test_every_example_row_is_valid_data(city, tmp_path):
    """Is every kind's example row accepted by the import when it is data (so it shows what a good row is)?"""
    assert sorted(ORDER) == sorted(KINDS)
    for kind in ORDER:
        required, optional = COLUMNS[kind]
        example = example_row(kind)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(required + optional)
        writer.writerow([])  # the example moves to line 3: data, not the template's example
        writer.writerow([example[c] for c in required + optional])
        if kind == "responses":  # a response answers every question of its instrument: g02-g04 too
            for question, answer in (("g02", "80"), ("g03", "4"), ("g04", "na")):
                writer.writerow([{**example, "question": question, "answer": answer}[c] for c in required + optional])
        try:
            report = run_import(kind, io.BytesIO(out.getvalue().encode()), "2026", filename=f"{kind}.csv")
        except ImportFailed as exc:
            pytest.fail(f"{kind}: {[e.english() for e in exc.errors]}")
        assert report.rows == (4 if kind == "responses" else 1) and not report.example_skipped, kind
    db.session.commit()


# --- reference lists ----------------------------------------------------------------------------------------


def _csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_reference_lists_of_towns_units_and_categories(city):
    """Do the towns, units (with category) and categories lists hold what is stored, in CSV and XLSX alike?"""
    towns = _csv_rows(reference_bytes("towns", "csv"))
    assert towns == [["镇街编码（town_code）", "镇街名称"], ["T01", "密州街道"], ["T02", "龙都街道"]]
    units = _csv_rows(reference_bytes("units", "csv"))
    assert units[0][0] == "单位编码（unit_code）" and "分类（category）" in units[0]
    assert ["U01", "市发展和改革局", "government", "政府部门", "政府部门", "在用"] in units
    categories = _csv_rows(reference_bytes("categories", "csv"))
    assert categories[1:] == [
        ["事业单位", "1", "事业单位"],
        ["党委部门", "1", "党委部门"],
        ["政府部门", "1", "政府部门"],
    ]
    for name in ("towns", "units", "categories"):
        sheet = _xlsx_rows(reference_bytes(name, "xlsx"))
        assert [[("" if c is None else str(c)) for c in row] for row in sheet] == _csv_rows(
            reference_bytes(name, "csv")
        )


def test_reference_list_of_instruments_with_question_ids(city):
    """Does the instruments list give each question id with its instrument, theme, type and answers?"""
    rows = _csv_rows(reference_bytes("instruments", "csv"))
    header = rows[0]
    assert header[0] == "问卷代码（instrument）" and header[3] == "题目编号（question）"
    by_question = {(r[0], r[3]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_question) == {
        ("grassroots", "g01"),
        ("grassroots", "g02"),
        ("grassroots", "g03"),
        ("grassroots", "g04"),
        ("peer", "p01"),
        ("self", "s01"),
    }
    g01 = by_question[("grassroots", "g01")]
    assert g01["题型"] == "五级满意度"
    assert g01["答案（answer）"] == "1-5（5=非常满意，1=非常不满意）；不了解填na"
    assert by_question[("grassroots", "g02")]["答案（answer）"].startswith("0-100")
    assert by_question[("self", "s01")]["答案（answer）"] == "1-5（5=非常满意，1=非常不满意）"
    assert g01["评价人类别"] == "镇街干部" and g01["主题代码"] == "territorial" and g01["主题"] == "属地管理"


def test_reference_lists_neutralise_formulas(city):
    """Does a unit name starting with "=" come out inert in the CSV and XLSX lists?"""
    db.session.add(Unit(code="U09", name='=HYPERLINK("x")', kind=UnitKind.PARTY, category="党委部门"))
    db.session.commit()
    units = _csv_rows(reference_bytes("units", "csv"))
    assert ["U09", '\'=HYPERLINK("x")'] == next(r for r in units if r[0] == "U09")[:2]
    sheet = load_workbook(io.BytesIO(reference_bytes("units", "xlsx"))).worksheets[0]
    cell = next(row[1] for row in sheet.iter_rows() if row[0].value == "U09")
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_unknown_reference_list_is_refused():
    """Is an unknown list name refused rather than answered with an empty file?"""
    with pytest.raises(ValueError):
        reference_bytes("people", "csv")


def test_cli_imports_a_filled_xlsx_template(app, runner, tmp_path):
    """Does `assessment import` take a filled XLSX template, leaving out the example row and saying so?"""
    path = tmp_path / "towns.xlsx"
    path.write_bytes(_filled_template("towns", [["T05", "舜王街道"], ["T06", "相州镇"]]))
    result = runner.invoke(args=["import", "towns", str(path), "--period", "2026"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 towns into 2026: 2 new, 0 updated, 0 unchanged." in result.output
    assert "The template's example row (line 2) was left out." in result.output
