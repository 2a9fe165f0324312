"""The imports service (interfaces.md "Import files"): files, headers, encodings, templates, periods, errors,
progress, the package's shape and the command line."""

import ast
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from assessment.extensions import db
from assessment.models import AuditEntry, CheckPoint, Period, PeriodState, Unit
from assessment.services import imports as imports_package
from assessment.services.imports import COLUMNS, KINDS, ImportFailed, run_import, template_bytes
from tests.services.imports.helpers import UNITS_OK, count, failed, imported, snapshot, write_csv, xlsx_bytes


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
    assert failed("units", tmp_path, ["code,kind", "U10,party"]) == ["line 1: missing required columns: name, category"]
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
    assert db.session.execute(select(CheckPoint.due).filter_by(item="清单动态调整")).scalar_one() == date(2026, 6, 30)


def test_xlsx_bad_cell_reports_its_row(city):
    """Is a bad XLSX cell reported with the row number Excel shows?"""
    data = xlsx_bytes([["code", "name", "kind", "category"], ["U20", "a", "party", "党委部门"], ["U21", "b", 7, "c"]])
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
    assert entry.detail["kind"] == "towns" and entry.detail["created"] == 1 and entry.detail["file"] == "data.csv"


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


# --- the package --------------------------------------------------------------------------------------------


def test_every_kind_has_a_handler_in_the_order_of_columns():
    """Does every kind of COLUMNS have a class that checks and writes it, and only those kinds?"""
    from assessment.services.imports import HANDLERS

    assert list(HANDLERS) == list(KINDS) == list(COLUMNS)


def test_run_import_leaves_the_commit_to_the_caller(city, tmp_path):
    """Does a rollback after run_import returns undo the whole import (it flushes, the caller commits)?"""
    before = snapshot()
    report = run_import("units", write_csv(tmp_path, UNITS_OK), "2026", actor="tester")
    assert report.counts["created"] == 2 and count(Unit) == 5
    db.session.rollback()
    assert snapshot() == before
    assert db.session.execute(select(Period).filter_by(name="2026")).scalar_one_or_none() is None


def _package_imports():
    """module name -> the modules of the imports package it imports (module level and inside functions)."""
    root = Path(imports_package.__file__).parent
    base = imports_package.__name__
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            package = ".".join([base, *parts])
        else:
            package = ".".join([base, *parts[:-1]])
        names[".".join([base, *parts])] = (path, package)
    edges = {}
    for name, (path, package) in names.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    target = f"{anchor}.{node.module}" if node.module else anchor
                else:
                    target = node.module
                for alias in node.names:
                    if f"{target}.{alias.name}" in names:
                        found.add(f"{target}.{alias.name}")
                    elif target in names:
                        found.add(target)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in names)
        edges[name] = found - {name}
    return edges


def test_the_imports_package_has_no_import_cycles():
    """Does no module of the imports package import back from its __init__, or around a cycle?"""
    edges = _package_imports()
    package = imports_package.__name__
    assert len(edges) >= 11
    assert [name for name, targets in edges.items() if package in targets] == []
    state = {}

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(edges[name]):
            assert state.get(target) != "open", f"import cycle: {' -> '.join([*trail, target])}"
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
