"""The audit log in the console: who, when, what, before/after; filters; the export; who may see it."""

import csv
import io
from datetime import UTC, datetime

from assessment.extensions import db
from assessment.models import AuditEntry


def _entry(app, at, actor, action, object_type=None, object_id=None, **detail):
    with app.app_context():
        db.session.add(
            AuditEntry(
                at=at, actor=actor, action=action, object_type=object_type, object_id=object_id, detail=detail or None
            )
        )
        db.session.commit()


def _seed(app):
    _entry(
        app, datetime(2026, 3, 1, 1, 0, tzinfo=UTC), "alice", "period.move", "period", "7", before="draft", after="open"
    )
    _entry(
        app,
        datetime(2026, 3, 2, 17, 30, tzinfo=UTC),
        "bob",
        "setting.change",
        "setting",
        "case_days",
        before="5",
        after="15",
    )
    _entry(
        app,
        datetime(2026, 3, 5, 2, 0, tzinfo=UTC),
        '=HYPERLINK("http://e/","x")',
        "user.lock",
        "user",
        "3",
        username="clerk",
    )


def test_data_admin_sees_who_when_what_before_after(app, login_as):
    """Does the audit page show each entry's actor, China time, action, object and before/after values?"""
    _seed(app)
    page = login_as("data_admin").get("/office/audit").get_data(as_text=True)
    assert "共 " in page and "period.move" in page and "setting.change" in page
    assert "2026-03-01 09:00:00" in page  # 01:00 UTC is 09:00 in China
    assert "2026-03-03 01:30:00" in page  # the next day in China
    assert '<td>"draft"</td>' in page and '<td>"open"</td>' in page
    assert "username</span>=clerk" in page


def test_filters_narrow_the_log(app, login_as):
    """Do the actor, action (exact or prefix), object and China-date filters each narrow the list?"""
    _seed(app)
    client = login_as("data_admin")

    def shown(query):
        page = client.get("/office/audit?" + query).get_data(as_text=True)
        return sorted(a for a in ("period.move", "setting.change", "user.lock") if f"<td>{a}</td>" in page)

    assert shown("actor=alice") == ["period.move"]
    assert shown("action=user.") == ["user.lock"]
    assert shown("action=setting.change") == ["setting.change"]
    assert shown("action=setting") == []  # no dot: exact
    assert shown("object_type=period&object_id=7") == ["period.move"]
    assert shown("since=2026-03-03&until=2026-03-03") == ["setting.change"]  # 17:30 UTC on the 2nd
    assert shown("until=2026-03-01") == ["period.move"]


def test_bad_dates_are_a_message_not_a_500(app, login_as):
    """Is a date that is not a date explained in Chinese, naming the field, on the page and the export?"""
    client = login_as("data_admin")
    page = client.get("/office/audit?since=2026-13-45")
    assert page.status_code == 200 and "起始日期" in page.get_data(as_text=True)
    export = client.get("/office/audit.csv?until=yesterday")
    assert export.status_code == 400 and "截止日期" in export.get_data(as_text=True)


def test_dates_at_the_ends_of_the_calendar_are_a_message_not_a_500(app, login_as):
    """Are the first and last dates Python knows (whose China midnight overflows) refused with a message?"""
    client = login_as("data_admin")
    for query, field in (("until=9999-12-31", "截止日期"), ("since=0001-01-01", "起始日期")):
        page = client.get(f"/office/audit?{query}")
        assert page.status_code == 200 and f"{field}“{query[6:]}”超出范围" in page.get_data(as_text=True)
        export = client.get(f"/office/audit.csv?{query}")
        assert export.status_code == 400 and field in export.get_data(as_text=True)


def test_export_is_filtered_csv_with_formulas_neutralised(app, login_as):
    """Does the export hold the filtered entries as UTF-8 CSV with BOM, China time, and no live formula?"""
    _seed(app)
    response = login_as("data_admin").get("/office/audit.csv?action=user.")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["at", "actor", "action", "object_type", "object_id", "before", "after", "detail"]
    actions = [r[2] for r in rows[1:]]
    assert "user.lock" in actions and "period.move" not in actions
    lock = next(r for r in rows[1:] if r[2] == "user.lock" and r[4] == "3")
    assert lock[0] == "2026-03-05 10:00:00" and lock[1].startswith("'=") and '"username": "clerk"' in lock[7]
    full = list(csv.reader(io.StringIO(login_as("admin").get("/office/audit.csv").get_data().decode("utf-8-sig"))))
    move = next(r for r in full if r[2] == "period.move")
    assert move[5:7] == ['"draft"', '"open"']


def test_only_data_admins_and_admins_open_the_log(app, login_as, client):
    """Do operators, viewers and unit liaisons get 403 on the audit log and its export, data admins 200?"""
    for role, status in (("operator", 403), ("viewer", 403), ("data_admin", 200), ("admin", 200)):
        c = login_as(role)
        assert c.get("/office/audit").status_code == status, role
        assert c.get("/office/audit.csv").status_code == status, role
        c.post("/office/logout")
