"""The console under its Content-Security-Policy in a real browser: nothing refused, confirmations still asked."""

from datetime import date

from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointStatus, Period, PeriodState, Unit, UnitKind

PAGES = [
    "/office/",
    "/office/units",
    "/office/raters",
    "/office/imports",
    "/office/surveys",
    "/office/surveys/2026",
    "/office/surveys/2026/progress",
    "/office/surveys/2026/invitations",
    "/office/periods/2026/results",
    "/office/periods/2026/results/1/units/U1",
    "/office/periods/2026/scheme",
    "/office/ratings",
    "/office/ratings/flagged",
    "/office/devices",
    "/office/cases",
    "/office/calendar",
    "/office/audit",
    "/office/users",
    "/office/login",
    "/",
    "/r/",
]


def test_console_pages_break_no_rule_of_the_policy(app, live_server, page, make_user, runner):
    """Does every console page load in Chromium without a CSP refusal, and do confirm and auto-submit work?"""
    with app.app_context():
        period = Period(
            name="2026",
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
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("office", role="admin")
    refused = []
    page.on(
        "console",
        lambda msg: (
            refused.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/office/")
    for path in PAGES:
        response = page.goto(f"{live_server}{path}")
        assert response.status < 400, path
        assert response.headers["content-security-policy"], path
    assert refused == []

    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.goto(f"{live_server}/office/periods/2026/results")
    page.click("form[data-confirm] button[type=submit]")
    assert dialogs and "发布后该版本将冻结" in dialogs[0]
    assert page.url.endswith("/office/periods/2026/results")  # dismissed: nothing sent

    page.goto(f"{live_server}/office/cases")
    with page.expect_navigation():
        page.select_option("select[name=state]", index=1)
    assert "state=" in page.url
    assert refused == []
