"""Security headers on every response, no inline script in any page, and file names in any language."""

import re
from datetime import date
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from assessment.downloads import attachment
from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointStatus, Period, PeriodState, Unit, UnitKind

ROOT = Path(__file__).resolve().parents[2]


def _check_headers(response, path):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives.get("script-src", "") and directives.get("script-src"), path
    assert "'unsafe-inline'" not in directives.get("style-src", ""), path
    assert directives.get("frame-ancestors") == "'none'", path
    assert directives.get("object-src") == "'none'", path
    assert response.headers.get("X-Frame-Options") == "DENY", path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), path
    assert response.headers.get("Cache-Control") == "no-store", path


def test_every_kind_of_response_carries_the_headers(app, client, make_user, auth):
    """Do pages, errors, API answers, downloads and the sign-in form all carry CSP, framing and no-store?"""
    paths = ["/", "/office/login", "/r/", "/api/v1/health", "/api/v1/openapi.json", "/no-such-page", "/office/"]
    for path in paths:
        _check_headers(client.get(path), path)
    make_user("office", role="data_admin")
    auth.login()
    for path in [
        "/office/",
        "/office/units",
        "/office/imports/template/units.csv",
        "/office/audit",
        "/office/audit.csv",
        "/office/cases/99",
    ]:
        _check_headers(client.get(path), path)
    _check_headers(client.post("/api/v1/ratings", data="x"), "POST /api/v1/ratings")
    static = client.get("/static/app.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    static.close()


def test_raters_pages_allow_no_inline_style_either(client):
    """Do the raters' pages keep the strict policy (no inline style attributes), unlike the console?"""
    rater = client.get("/r/").headers["Content-Security-Policy"]
    console = client.get("/office/login").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in rater
    assert "style-src-attr 'unsafe-inline'" in console


def test_no_template_has_inline_script():
    """Does any page template hold inline <script> or <style>, an on…= handler or a javascript: URL?"""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.parent.name == "report":  # printed by WeasyPrint, never served to a browser
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b[^>]*>", text, re.I):
            if "src=" not in match.group(0):
                found.append(f"{path.name}: {match.group(0)}")
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text, re.I)]
        found += [f"{path.name}: javascript:" for _ in re.finditer(r"javascript:", text, re.I)]
        found += [f"{path.name}: <style>" for _ in re.finditer(r"<style\b", text, re.I)]
    assert found == []


@pytest.mark.parametrize(
    "name, ascii_part",
    [
        ("results_2026_v1.csv", "filename=results_2026_v1.csv"),
        ("results_二〇二六年度_v1.xlsx", "filename=results__v1.xlsx"),
        ('a"b;c\r\n.csv', 'filename="a\\"b;c__.csv"'),
    ],
)
def test_attachment_names_any_file(app, name, ascii_part):
    """Is every download named per RFC 6266: a safe ASCII fallback and the exact name in filename*, no line break?"""
    with app.test_request_context():
        response = attachment(b"x", name, "text/csv")
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # an HTTP header must be Latin-1: this is what raised before
    assert header.startswith("attachment; ") and ascii_part in header
    assert "\r" not in header and "\n" not in header
    if not name.isascii():
        assert unquote(header.split("filename*=UTF-8''")[1]) == name
    response.direct_passthrough = False
    assert response.get_data() == b"x"


def test_a_period_named_in_chinese_downloads(app, client, make_user, auth, runner):
    """Does a period named in Chinese download its results (CSV, xlsx) and reminders, instead of a 500?"""
    name = "二〇二六年度"
    with app.app_context():
        period = Period(
            name=name,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        unit = Unit(code="U1", name="市民政局", kind=UnitKind.GOVERNMENT, category="政府部门")
        db.session.add_all([period, unit])
        db.session.flush()
        db.session.add(
            CheckPoint(
                period_id=period.id, unit_id=unit.id, item="事项", due=date(2026, 6, 1), status=CheckPointStatus.ON_TIME
            )
        )
        db.session.commit()
    assert runner.invoke(args=["score", "--period", name]).exit_code == 0
    make_user("office", role="operator")
    auth.login()
    for path, expected in [
        (f"/office/periods/{quote(name)}/results.csv", f"results_{name}_v1.csv"),
        (f"/office/periods/{quote(name)}/results.xlsx", f"results_{name}_v1.xlsx"),
        (f"/office/surveys/{quote(name)}/reminders.csv", f"reminders_{name}.csv"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        header = response.headers["Content-Disposition"]
        assert unquote(header.split("filename*=UTF-8''")[1]) == expected
        assert response.headers["Cache-Control"] == "no-store"
