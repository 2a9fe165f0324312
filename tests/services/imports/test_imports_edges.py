"""Edge inputs that must be row errors, never a 500 (issue 10 item 1): dates at the ends of the calendar, NUL
bytes, invisible and direction characters, XLSX sheets that expand past the row and column caps."""

import io
import re
import zipfile

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import PublicRating, Town
from assessment.services.imports import ImportFailed, run_import
from assessment.services.imports.reading import xlsx_extent
from tests.services.imports.helpers import RATINGS_HEADER, failed, imported, write_csv, xlsx_bytes


def test_rated_at_near_year_1_or_9999_is_a_row_error(city, tmp_path):
    """Is a rated_at at the ends of the calendar an out-of-range row error, on the plain path and the slow one?"""
    errors = failed(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "a1,U01,5,window,0001-01-01T00:00:00,0,,,,",  # plain row: the fast path
            "a2,U01,5,window,9999-12-31T23:59:59-05:00,0,,,,",
            "a3,U01,5,窗口,0001-01-01T02:00:00+08:00,0,,,,",  # a Chinese channel: the cell getters
            "a4,U01,5,window,9999-12-31T20:00:00Z,0,,,,",  # fits UTC, not Beijing time
        ],
    )
    assert errors == [
        f"line {line}, column rated_at: '{value}' is outside the dates the platform can store"
        for line, value in (
            (2, "0001-01-01T00:00:00"),
            (3, "9999-12-31T23:59:59-05:00"),
            (4, "0001-01-01T02:00:00+08:00"),
            (5, "9999-12-31T20:00:00Z"),
        )
    ]


def test_nul_byte_in_any_cell_is_a_row_error(city, tmp_path):
    """Is a NUL byte refused naming line and column, in a plain rating and in a name?"""
    errors = failed("ratings", tmp_path, [RATINGS_HEADER, "n1,U01,5,window,2026-03-01T09:30:00+08:00,0,,1号\x00,,"])
    assert errors == ["line 2, column window: '1号\\0' contains a NUL byte"]
    errors = failed("towns", tmp_path, ["code,name", "T03,舜王\x00街道"])
    assert errors == ["line 2, column name: '舜王\\0街道' contains a NUL byte"]


def test_invisible_characters_are_refused_in_codes_and_stripped_from_names(city, tmp_path):
    """Is U+200B or U+202E in a code a row error, while names and free text lose them?"""
    errors = failed(
        "ratings",
        tmp_path,
        [
            RATINGS_HEADER,
            "z1,U01\u200b,5,window,2026-03-01T09:30:00+08:00,0,,,,",
            "z2\u202e,U01,5,window,2026-03-01T09:30:00+08:00,0,,,,",
        ],
    )
    assert errors == [
        "line 2, column unit_code: 'U01' contains invisible or direction characters (e.g. U+200B, U+202E); "
        "type the code again",
        "line 3, column event_id: 'z2' contains invisible or direction characters (e.g. U+200B, U+202E); "
        "type the code again",
    ]
    assert failed("towns", tmp_path, ["code,name", "T\ufeff03,舜王街道"])[0].startswith("line 2, column code:")
    imported("towns", tmp_path, ["code,name", "T03,舜王\u200b街道\u202e"])
    assert db.session.execute(select(Town.name).filter_by(code="T03")).scalar_one() == "舜王街道"
    imported("ratings", tmp_path, [RATINGS_HEADER, "w1,U01,5,window,2026-03-01T09:30:00+08:00,0,,1号\u200d窗口,,"])
    assert db.session.execute(select(PublicRating.window).filter_by(event_id="w1")).scalar_one() == "1号窗口"


def test_xlsx_hidden_characters_and_far_dates(city, tmp_path):
    """Are the same refusals made for an XLSX file?"""
    path = tmp_path / "r.xlsx"
    path.write_bytes(
        xlsx_bytes(
            [
                RATINGS_HEADER.split(","),
                ["x1", "U01\u200b", 5, "window", "2026-03-01T09:30:00+08:00", 0],
                ["x2", "U01", 5, "window", "0001-01-01T00:00:00", 0],
            ]
        )
    )
    try:
        run_import("ratings", path, "2026", actor="tester")
    except ImportFailed as exc:
        errors = [e.english() for e in exc.errors]
    else:
        raise AssertionError("the import did not fail")
    db.session.rollback()
    assert [e.split(":")[0] for e in errors] == ["line 2, column unit_code", "line 3, column rated_at"]


def test_cli_refuses_nul_and_far_dates_in_english(app, runner, tmp_path):
    """Does `assessment import` name a NUL byte and a year-9999 rated_at in English, exit 1, and write nothing?"""
    path = write_csv(tmp_path, ["code,name", "T03,舜王\x00街道"])
    result = runner.invoke(args=["import", "towns", str(path), "--period", "2026"])
    assert result.exit_code == 1 and "line 2, column name: '舜王\\0街道' contains a NUL byte" in result.output
    path = write_csv(tmp_path, [RATINGS_HEADER, "a1,U01,5,window,9999-12-31T23:59:59-05:00,0,,,,"], name="r.csv")
    result = runner.invoke(args=["import", "ratings", str(path), "--period", "2026"])
    assert result.exit_code == 1, result.output
    assert "line 2, column rated_at: '9999-12-31T23:59:59-05:00' is outside the dates the platform" in result.output


def _sheet(path, cells):
    """An XLSX file whose first sheet holds `cells` {(row, column): value}."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for (row, column), value in cells.items():
        ws.cell(row=row, column=column, value=value)
    wb.save(path)
    return path


def test_xlsx_past_the_row_or_column_cap_is_refused_before_it_is_read(app, city, tmp_path, monkeypatch):
    """Is a small XLSX that spans a million rows or hundreds of columns refused with a clear message, unread?"""
    from assessment.services.imports import reading

    def no_reading(*args, **kwargs):
        raise AssertionError("the sheet was read")

    monkeypatch.setattr(reading.Table, "_open_openpyxl", no_reading)
    import python_calamine

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", no_reading)
    app.config["IMPORT_MAX_ROWS"] = 1_000_000  # an XLSX sheet holds at most 1,048,576 rows
    far_down = _sheet(tmp_path / "down.xlsx", {(1, 1): "code", (1, 2): "name", (1_048_576, 1): "T09"})
    assert far_down.stat().st_size < 20_000
    far_right = _sheet(tmp_path / "right.xlsx", {(1, 1): "code", (1, 2): "name", (2, 300): "x"})
    messages = []
    for path in (far_down, far_right):
        try:
            run_import("towns", path, "2026", actor="tester")
        except ImportFailed as exc:
            messages.append((exc.errors[0].english(), exc.errors[0].chinese()))
        db.session.rollback()
    assert messages == [
        (
            "the sheet has 1048575 rows; at most 1000000 can be imported at once: split the file "
            "(or delete the empty rows Excel keeps at its end)",
            "工作表有1048575行，一次最多导入1000000行：请拆分文件（或删除表格末尾的空行）",
        ),
        (
            "the sheet has 300 columns; at most 64 are read: delete the columns right of the data",
            "工作表有300列，最多读取64列：请删除数据右侧多余的列",
        ),
    ]


def test_xlsx_row_cap_is_a_setting_and_a_sheet_within_it_imports(app, city, tmp_path):
    """Does IMPORT_MAX_ROWS set the cap, with a sheet at the cap imported as before?"""
    path = _sheet(tmp_path / "t.xlsx", {(1, 1): "code", (1, 2): "name", (2, 1): "T03", (2, 2): "舜王街道"})
    app.config["IMPORT_MAX_ROWS"] = 1
    assert run_import("towns", path, "2026", actor="tester").counts["created"] == 1
    db.session.rollback()
    path = _sheet(tmp_path / "t2.xlsx", {(1, 1): "code", (1, 2): "name", (2, 1): "T03", (3, 1): "T04"})
    errors = []
    try:
        run_import("towns", path, "2026", actor="tester")
    except ImportFailed as exc:
        errors = [e.english() for e in exc.errors]
    db.session.rollback()
    assert errors and errors[0].startswith("the sheet has 2 rows; at most 1 can be imported at once")


def _without_dimension(path, cells: bytes | None = None):
    """The XLSX at `path` with no <dimension> in its sheet, and its <sheetData> replaced by `cells` if given."""
    source, out = zipfile.ZipFile(path), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
                assert b"dimension" not in data
                if cells is not None:
                    data = re.sub(
                        rb"<sheetData>.*</sheetData>", b"<sheetData>" + cells + b"</sheetData>", data, flags=re.S
                    )
            target.writestr(item, data)
    out.seek(0)
    return out


def test_extent_without_a_dimension_scans_cell_references(tmp_path):
    """Is a sheet without a <dimension> measured from its largest cell reference?"""
    path = _sheet(tmp_path / "d.xlsx", {(1, 1): "a", (40, 70): "b"})
    assert xlsx_extent(_without_dimension(path)) == (40, 70)
    assert xlsx_extent(io.BytesIO(path.read_bytes())) == (40, 70)


def test_extent_reads_every_spelling_of_a_reference(tmp_path):
    """Is a sheet measured right however its references are spelled — namespace prefixes, rows without r,
    any white space or none before r, single quotes, spaces around =, cells placed only by their row's r —
    so that no crafted spelling makes a large sheet look small (the scan's patterns are tuned for speed)?"""
    path = _sheet(tmp_path / "p.xlsx", {(1, 1): "a", (3, 2): "b"})
    cases = [
        (b'<x:row><x:c\nr="C1"><x:v>1</x:v></x:c></x:row><x:row><x:c\tr="AB9"/></x:row>' + b"<x:row/>" * 18, (20, 28)),
        (b'<row r="1"><c t="n"r="C500"><v>1</v></c></row>', (500, 3)),
        (b"<row r='1'><c r = 'XFD1048576'><v>1</v></c></row>", (1048576, 16384)),
        (b'<row r="1"><c \x0cr="D7"/></row>', (7, 4)),
        (b'<row spans="1:3" r="500"><c t="n"><v>1</v></c></row>', (500, 0)),
        (b'<row customHeight="1"r="70000"><c><v>1</v></c></row>', (70000, 0)),
    ]
    for cells, extent in cases:
        assert xlsx_extent(_without_dimension(path, cells)) == extent, cells


def _lying(path, dimension=b'<dimension ref="A1:B2"/>'):
    """The XLSX at `path` with its sheet's <dimension> rewritten to `dimension` (the uploader writes it)."""
    source, out = zipfile.ZipFile(path), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", dimension, data)
                assert dimension in data
            target.writestr(item, data)
    out.seek(0)
    return out


def test_a_lying_dimension_does_not_let_a_large_sheet_in(app, city, tmp_path):
    """Is a sheet whose <dimension> claims A1:B2 still measured, and refused, from its real cells?"""
    far = _lying(_sheet(tmp_path / "far.xlsx", {(1, 1): "code", (1, 2): "name", (60_000, 300): "x"}))
    assert xlsx_extent(far) == (60_000, 300)
    app.config["IMPORT_MAX_ROWS"] = 10
    messages = []
    for cells in ({(1, 1): "code", (1, 2): "name", (60_000, 300): "x"}, {(1, 1): "code", (40, 2): "T09"}):
        try:
            run_import("towns", _lying(_sheet(tmp_path / "l.xlsx", cells)), "2026", actor="tester", filename="l.xlsx")
        except ImportFailed as exc:
            messages.append(exc.errors[0].english())
        db.session.rollback()
    assert messages == [
        "the sheet has 59999 rows; at most 10 can be imported at once: split the file "
        "(or delete the empty rows Excel keeps at its end)",
        "the sheet has 39 rows; at most 10 can be imported at once: split the file "
        "(or delete the empty rows Excel keeps at its end)",
    ]


def test_the_reader_stops_past_the_caps_when_the_scan_is_fooled(app, tmp_path, monkeypatch):
    """When the extent scan is fooled, does the reader itself still refuse a sheet past the caps?"""
    from assessment.services.imports import reading

    monkeypatch.setattr(reading, "xlsx_extent", lambda fh: (2, 2))
    path = _sheet(tmp_path / "t.xlsx", {(1, 1): "code", (1, 2): "name", (30, 1): "T09"})
    try:
        reading.Table(path, None, max_rows=10, max_columns=64)
    except ImportFailed as exc:
        message = exc.errors[0].english()
    assert message.startswith("the sheet has 29 rows; at most 10 can be imported at once")


def test_bulk_insert_clash_is_sqlalchemy_integrity_error(city):
    """Does a unique clash in bulk_insert raise SQLAlchemy's IntegrityError on every engine (COPY included)?"""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from assessment.services.bulk import bulk_insert

    code = db.session.scalars(select(Town.code)).first()
    with pytest.raises(IntegrityError):
        bulk_insert(Town, [{"code": code}], constants={"name": "重复"})
    db.session.rollback()
