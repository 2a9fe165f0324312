"""Invitations: `assessment invitations` and the console's issue / re-issue / revoke, CSV and PDF sheets."""

import csv
import io
import re
import subprocess
import zipfile
from datetime import UTC

import pytest

from assessment.extensions import db
from assessment.models import AccessKey, Period, Rater
from assessment.services import access

COLUMNS = ["rater_code", "name", "group", "town_code", "link", "access_code"]
NAMES = {"G1": "张晓红", "G2": "李建国", "G3": "王海燕", "L1": "陈市长", "D1": "周科长"}


def _csv(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, row, strict=False)) for row in rows[1:]]


def _pdf_pages(path):
    """The text of each page of a PDF (pdftotext separates pages with form feeds)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def _token(link):
    match = re.fullmatch(r"https?://[^/]+(?:/[^/]+)*/r/([A-Za-z0-9_-]{32})", link)
    assert match, link
    return match.group(1)


def test_invitations_command_writes_csv_and_pdf(app, runner, city, tmp_path):
    """Does `assessment invitations` give every rater with assignments a working link and code, in a CSV
    (BOM, the columns of interfaces.md) and a PDF with one page per rater showing name and code?"""
    out, pdf = tmp_path / "inv.csv", tmp_path / "inv.pdf"
    result = runner.invoke(
        args=[
            "invitations",
            "--period",
            "2026",
            "--out",
            str(out),
            "--pdf",
            str(pdf),
            "--base-url",
            "https://pj.example.gov.cn/",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = _csv(out.read_bytes())
    # G9 is inactive and has no assignments; everyone else, by group, town and code.
    assert [r["rater_code"] for r in rows] == ["G1", "G2", "G3", "L1", "D1"]
    assert {r["rater_code"]: r["name"] for r in rows} == NAMES
    assert rows[0]["group"] == "grassroots" and rows[0]["town_code"] == "T1" and rows[3]["town_code"] == ""
    with app.app_context():
        for row in rows:
            assert row["link"].startswith("https://pj.example.gov.cn/r/")
            assert re.fullmatch(
                r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}", row["access_code"]
            )
            by_link = access.resolve_token(_token(row["link"]))
            by_code = access.resolve_code(row["access_code"].lower().replace("-", " "))
            assert by_link.id == by_code.id and by_link.rater.code == row["rater_code"]
    assert len({r["access_code"] for r in rows}) == 5 and len({r["link"] for r in rows}) == 5

    pages = _pdf_pages(pdf)
    assert len(pages) == 5
    for page, row in zip(pages, rows, strict=False):
        assert row["name"] in page and row["access_code"] in page and row["rater_code"] in page
        assert "2026年12月31日" in page and "https://pj.example.gov.cn/r/" in page
    assert "Issued 5 invitation(s)" in result.output


def test_reissue_revokes_the_previous_link(app, runner, city, tmp_path):
    """Does issuing again to one rater revoke their previous link and code (and leave the others alone)?"""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert runner.invoke(args=["invitations", "--period", "2026", "--out", str(first)]).exit_code == 0
    result = runner.invoke(args=["invitations", "--period", "2026", "--out", str(second), "--rater", "G2"])
    assert result.exit_code == 0, result.output
    old = {r["rater_code"]: r for r in _csv(first.read_bytes())}
    new = _csv(second.read_bytes())
    assert [r["rater_code"] for r in new] == ["G2"]
    assert new[0]["link"].startswith("http://127.0.0.1:5000/r/")  # the default base URL
    with app.app_context():
        with pytest.raises(access.AccessError) as exc:
            access.resolve_token(_token(old["G2"]["link"]))
        assert exc.value.reason == "revoked" and "已停用" in exc.value.message
        with pytest.raises(access.AccessError):
            access.resolve_code(old["G2"]["access_code"])
        assert access.resolve_token(_token(new[0]["link"])).rater.code == "G2"
        assert access.resolve_token(_token(old["G1"]["link"])).rater.code == "G1"


def test_invitations_filters(app, runner, city, tmp_path):
    """Do --group and repeated --rater choose exactly those raters, and --only-new skip live holders?"""
    out = tmp_path / "g.csv"
    assert (
        runner.invoke(args=["invitations", "--period", "2026", "--out", str(out), "--group", "grassroots"]).exit_code
        == 0
    )
    assert [r["rater_code"] for r in _csv(out.read_bytes())] == ["G1", "G2", "G3"]
    result = runner.invoke(
        args=["invitations", "--period", "2026", "--out", str(out), "--rater", "L1", "--rater", "D1"]
    )
    assert result.exit_code == 0
    assert [r["rater_code"] for r in _csv(out.read_bytes())] == ["L1", "D1"]
    result = runner.invoke(args=["invitations", "--period", "2026", "--out", str(out), "--only-new"])
    assert result.exit_code != 0 and "already holds a live link" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "1999"], "period '1999' does not exist"),
        (["--period", "2026", "--rater", "G9"], "G9"),  # inactive
        (["--period", "2026", "--rater", "NOPE"], "NOPE"),
        (["--period", "2026", "--group", "mayor"], "unknown rater group 'mayor'"),
        (["--period", "2026", "--group", "expert"], "no rater has assignments"),
    ],
)
def test_invitations_refused_issue_nothing(app, runner, city, tmp_path, args, message):
    """Is a bad selection refused with a clear message, no file written and no key issued?"""
    out = tmp_path / "x.csv"
    result = runner.invoke(args=["invitations", *args, "--out", str(out)])
    assert result.exit_code != 0 and message in result.output
    assert not out.exists()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AccessKey)) == 0


def test_unwritable_pdf_issues_nothing(app, runner, city, tmp_path):
    """When the PDF cannot be written, does the command fail and roll back the keys it made?"""
    result = runner.invoke(
        args=[
            "invitations",
            "--period",
            "2026",
            "--out",
            str(tmp_path / "ok.csv"),
            "--pdf",
            str(tmp_path / "missing" / "x.pdf"),
        ]
    )
    assert result.exit_code != 0 and "cannot write" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AccessKey)) == 0


def test_console_issue_for_a_group_as_zip(app, city, login_as, tmp_path):
    """Does an operator's 生成并下载 for a group return the CSV and the A4 PDF together, shown only once?"""
    client = login_as("operator")
    response = client.post(
        "/office/surveys/2026/invitations", data={"group": "grassroots", "output": "zip", "page_size": "A4"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["invitations_2026.csv", "invitations_2026.pdf"]
    rows = _csv(archive.read("invitations_2026.csv"))
    assert [r["rater_code"] for r in rows] == ["G1", "G2", "G3"]
    assert rows[0]["link"].startswith("http://localhost/r/")  # the request's own host without BASE_URL
    pdf = tmp_path / "sheets.pdf"
    pdf.write_bytes(archive.read("invitations_2026.pdf"))
    pages = _pdf_pages(pdf)
    assert len(pages) == 3 and all(r["name"] in p and r["access_code"] in p for r, p in zip(rows, pages, strict=False))
    size = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "595.28 x 841.89" in size or "595.276 x 841.89" in size  # A4 in points

    # The list now shows their links as live; "only new" then has nobody left in the group.
    page = client.get("/office/surveys/2026/invitations?group=grassroots").get_data(as_text=True)
    assert page.count('<span class="badge ok">有效</span>') == 3
    response = client.post(
        "/office/surveys/2026/invitations",
        data={"group": "grassroots", "only_new": "1", "output": "csv"},
        follow_redirects=True,
    )
    assert "所选评价人都已有有效的个人链接" in response.get_data(as_text=True)


def test_console_reissue_one_rater_on_the_page(app, city, login_as):
    """Does 重新发放 for one rater show their new link and code once (no-store) and stop the old ones?"""
    app.config["BASE_URL"] = "https://pj.example.gov.cn"
    client = login_as("operator")
    first = client.post("/office/surveys/2026/invitations", data={"rater": "L1", "output": "csv"})
    old = _csv(first.data)[0]
    response = client.post("/office/surveys/2026/invitations", data={"rater": "L1", "output": "page"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    link = re.search(r"https://pj\.example\.gov\.cn/r/[A-Za-z0-9_-]{32}", page).group(0)
    code = re.search(r'<td class="key">([A-Z2-9]{4}-[A-Z2-9]{4})</td>', page).group(1)
    assert "陈市长" in page and "只显示这一次" in page
    with app.app_context():
        assert access.resolve_token(_token(link)).rater.code == "L1"
        assert access.resolve_code(code).rater.code == "L1"
        with pytest.raises(access.AccessError):
            access.resolve_token(_token(old["link"]))


def test_console_revoke(app, city, login_as):
    """Do 停用 (one rater) and 停用全部 (a group) stop links at once?"""
    client = login_as("operator")
    rows = _csv(client.post("/office/surveys/2026/invitations", data={"output": "csv"}).data)
    links = {r["rater_code"]: _token(r["link"]) for r in rows}
    page = client.post("/office/surveys/2026/invitations/revoke", data={"rater": "D1"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "已停用 1 个" in page
    page = client.post(
        "/office/surveys/2026/invitations/revoke", data={"group": "grassroots"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已停用 3 个" in page
    with app.app_context():
        for code in ("D1", "G1", "G2", "G3"):
            with pytest.raises(access.AccessError):
                access.resolve_token(links[code])
        assert access.resolve_token(links["L1"]).rater.code == "L1"
    page = client.post("/office/surveys/2026/invitations/revoke", data={}, follow_redirects=True)
    assert "请选择评价人或评价人类别" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "form, message",
    [
        ({"output": "exe"}, "输出方式：请选择"),
        ({"output": "pdf", "page_size": "B5"}, "纸张：请选择 A5 或 A4"),
        ({"group": "mayor"}, "评价人类别：请选择"),
        ({"rater": "NOPE"}, "评价人编码：NOPE 不存在"),
    ],
)
def test_console_issue_bad_input(app, city, login_as, form, message):
    """Is a bad issue form answered with a Chinese message naming the field, and no key issued?"""
    client = login_as("operator")
    page = client.post("/office/surveys/2026/invitations", data=form, follow_redirects=True)
    assert message in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AccessKey)) == 0


def test_invitation_list_shows_use(app, city, login_as):
    """Does the invitations page show who holds a live link and who has opened it?"""
    from datetime import datetime

    client = login_as("viewer")
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        raters = db.session.execute(db.select(Rater).where(Rater.code.in_(["G1", "G2"]))).scalars().all()
        issued = access.issue(raters, period, "test")
        issued[0].key.last_used_at = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
        db.session.commit()
    page = client.get("/office/surveys/2026/invitations").get_data(as_text=True)
    assert page.count('<span class="badge ok">有效</span>') == 2 and "2026-11-20 09:30" in page
    assert "生成并下载" not in page and "停用</button>" not in page  # viewers cannot act


def test_demo_access_prints_a_working_link_and_code(app, runner, city):
    """Does `assessment demo-access` (run by `make run`) print a link and a code that open a rater's page?"""
    result = runner.invoke(args=["demo-access", "--base-url", "http://127.0.0.1:5000"])
    assert result.exit_code == 0, result.output
    link = re.search(r"personal link: (\S+)", result.output).group(1)
    code = re.search(r"access code:   (\S+)  at http://127.0.0.1:5000/r/", result.output).group(1)
    with app.app_context():
        # G3 has opened nothing: the newcomer starts from an empty questionnaire.
        assert access.resolve_token(_token(link)).rater.code == "G3"
        assert access.resolve_code(code).rater.code == "G3"  # no leader or expert with work left
    assert "王海燕" in result.output


def test_demo_access_without_an_open_period(app, runner, city, login_as):
    """Does demo-access succeed quietly, issuing nothing, when no period is open?"""
    login_as("operator").post("/office/surveys/2026/move/close")
    result = runner.invoke(args=["demo-access"])
    assert result.exit_code == 0 and "no open period" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AccessKey)) == 0
