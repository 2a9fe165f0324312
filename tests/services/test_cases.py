"""Bad-rating cases (差评工单): deadlines in working days across holidays, the workflow, rates, who sees what."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    AuditEntry,
    BadRatingCase,
    CalendarDay,
    CaseClass,
    CaseState,
    Channel,
    CodeSystem,
    Period,
    PeriodState,
    PublicRating,
    Unit,
    UnitKind,
    User,
)
from assessment.services import workdays
from assessment.services.ratings import cases
from assessment.timefmt import CST


@pytest.fixture
def calendar(ctx):
    """The shipped calendar, present whatever the test database did before (PostgreSQL tests truncate it)."""
    workdays.install_defaults("test")
    db.session.commit()


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=CST)


# --- working days ------------------------------------------------------------------------------------------------


def test_the_migration_ships_china_2026_holidays(calendar):
    """Are the 2026 holidays and adjusted working days in the calendar (39 special days)?"""
    days = {d.day: d.is_workday for d in workdays.list_days(2026)}
    assert len(days) == 39 and sum(days.values()) == 6
    assert days[date(2026, 1, 4)] and days[date(2026, 2, 14)] and days[date(2026, 2, 28)]
    assert days[date(2026, 5, 9)] and days[date(2026, 9, 20)] and days[date(2026, 10, 10)]
    assert not days[date(2026, 2, 16)] and not days[date(2026, 10, 5)] and not days[date(2026, 6, 19)]
    assert workdays.install_defaults("test") == 0


@pytest.mark.parametrize(
    "opened, n, due",
    [
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 国庆: Oct 1-7 off, Sat Oct 10 worked
        (date(2026, 9, 18), 5, date(2026, 9, 24)),  # Sun Sep 20 worked: Sep 20-24
        (date(2026, 2, 13), 5, date(2026, 2, 27)),  # 春节: Sat Feb 14 worked, Feb 15-23 off
        (date(2026, 2, 13), 15, date(2026, 3, 12)),  # Sat Feb 28 worked too
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # 元旦: Jan 1-3 off, Sun Jan 4 worked
        (date(2026, 4, 30), 5, date(2026, 5, 11)),  # 劳动节: May 1-5 off, Sat May 9 worked
        (date(2026, 3, 6), 5, date(2026, 3, 13)),  # an ordinary week
        (date(2026, 3, 7), 5, date(2026, 3, 13)),  # opened on a Saturday: counting starts Monday
    ],
)
def test_deadlines_count_working_days_across_holidays(calendar, opened, n, due):
    """Does the n-th working day after opening skip holidays and count adjusted working days?"""
    assert workdays.add_workdays(opened, n) == due
    assert cases.due_on(opened, n) == due


def test_the_office_edits_the_calendar_and_the_deadline_setting(calendar):
    """Do an added holiday, a removed one and a 15-day setting change new deadlines, with an audit trail?"""
    assert cases.due_on(date(2026, 3, 6)) == date(2026, 3, 13)
    workdays.set_day(date(2026, 3, 10), False, "临时调整", "office")
    assert cases.due_on(date(2026, 3, 6)) == date(2026, 3, 16)
    assert workdays.remove_day(date(2026, 3, 10), "office") and not workdays.remove_day(date(2026, 3, 10), "office")
    workdays.set_case_working_days(15, "office")
    assert workdays.case_working_days() == 15 and cases.due_on(date(2026, 3, 6)) == date(2026, 3, 27)
    with pytest.raises(workdays.CalendarError):
        workdays.set_case_working_days(0, "office")
    actions = list(db.session.execute(sa.select(AuditEntry.action).where(AuditEntry.actor == "office")).scalars())
    assert actions == ["calendar.set", "calendar.remove", "setting.change"]


# --- opening cases -----------------------------------------------------------------------------------------------


@pytest.fixture
def world(ctx, calendar):
    """Two units, an open 2026 period and a way to store ratings."""
    u1 = Unit(code="U01", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门")
    u2 = Unit(code="U02", name="市医疗保障局", kind=UnitKind.GOVERNMENT, category="政府部门")
    period = Period(
        name="2026",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        as_of=date(2026, 12, 31),
        state=PeriodState.OPEN,
    )
    db.session.add_all([u1, u2, period])
    db.session.commit()
    counter = iter(range(1, 10_000))

    def rate(unit=u1, level=1, when=None, real_name=True, is_default=False):
        n = next(counter)
        rating = PublicRating(
            period_id=period.id,
            unit_id=unit.id,
            origin="import",
            event_id=f"e{n}",
            level=level,
            raw_code=level,
            code_system=CodeSystem.STANDARD,
            channel=Channel.WINDOW,
            rated_at=when or at(date(2026, 9, 30)),
            is_default=is_default,
            content_hash=f"{n:064d}",
            real_name=real_name,
            case_no=f"C{n}" if real_name else None,
        )
        db.session.add(rating)
        db.session.flush()
        return rating

    return type("World", (), {"u1": u1, "u2": u2, "period": period, "rate": staticmethod(rate)})


def test_open_cases_for_ratings_is_bulk_idempotent_and_uses_working_days(world):
    """Do only non-default level 1-2 ratings get a case, once, due in working days from the rating's date?"""
    ratings = [
        world.rate(level=1),
        world.rate(level=2),
        world.rate(level=3),
        world.rate(level=1, is_default=True),
        world.rate(level=2, when=at(date(2026, 2, 13))),
    ]
    ids = [r.id for r in ratings]
    assert cases.open_cases_for_ratings(ids, from_rated_at=True) == 3
    assert cases.open_cases_for_ratings(ids, from_rated_at=True) == 0
    opened = {c.rating_id: c for c in db.session.execute(sa.select(BadRatingCase)).scalars()}
    assert set(opened) == {ids[0], ids[1], ids[4]}
    assert opened[ids[0]].due_on == date(2026, 10, 13) and opened[ids[4]].due_on == date(2026, 2, 27)
    assert opened[ids[0]].opened_at == ratings[0].rated_at and opened[ids[0]].state is CaseState.OPEN
    moment = datetime(2026, 9, 30, 2, tzinfo=UTC)
    later = world.rate(level=1)
    assert cases.open_cases_for_ratings([later.id], opened_at=moment) == 1
    assert db.session.execute(sa.select(BadRatingCase).filter_by(rating_id=later.id)).scalar_one().due_on == date(
        2026, 10, 13
    )


# --- the workflow ------------------------------------------------------------------------------------------------


def new_case(world, **kw):
    rating = world.rate(**kw)
    cases.open_cases_for_ratings([rating.id], from_rated_at=True)
    return db.session.execute(sa.select(BadRatingCase).filter_by(rating_id=rating.id)).scalar_one()


def test_the_full_workflow_with_an_upheld_appeal(world):
    """Assign, call back, classify as malicious, explain, feed back, appeal, review: is the rating excluded?"""
    case = new_case(world)
    assert cases.next_steps(case) == ["assign"]
    cases.assign(case, "张敏", "liaison")
    with pytest.raises(cases.CaseError, match="先回访"):
        cases.classify(case, "malicious", "liaison")
    cases.record_callback(case, True, "已电话联系，评价人表示按错了键", "liaison")
    cases.classify(case, CaseClass.MISTAKEN, "liaison")
    with pytest.raises(cases.CaseError):
        cases.feed_back(case, "已告知", "liaison")
    cases.rectify(case, "经核实为误评，已向评价人说明", "liaison")
    cases.feed_back(case, "已电话告知评价人处理结果", "liaison")
    assert cases.next_steps(case) == ["appeal", "close"]
    cases.appeal(case, "评价人确认误评", "liaison")
    cases.review(case, True, "录音证实误评", "office")
    assert case.state is CaseState.CLOSED and case.review_upheld and case.closed_at is not None
    assert case.rating.excluded and "申诉复核成立（误评）" in case.rating.excluded_reason
    actions = list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
    assert actions[-8:] == [
        "case.assign",
        "case.callback",
        "case.classify",
        "case.rectify",
        "case.feedback",
        "case.appeal",
        "case.review",
        "rating.exclude",
    ]


def test_an_anonymous_rating_may_skip_the_callback_and_a_reasonable_one_cannot_appeal(world):
    """May an anonymous case be classified without a callback? Is a reasonable one closed, not appealed?"""
    case = new_case(world, real_name=False)
    cases.assign(case, "李强", "liaison")
    assert "classify" in cases.next_steps(case)
    cases.classify(case, "reasonable", "liaison")
    cases.rectify(case, "增加午间窗口", "liaison")
    cases.feed_back(case, "已通过平台公示整改情况", "liaison")
    with pytest.raises(cases.CaseError, match="只有定性为误评"):
        cases.appeal(case, "不服", "liaison")
    cases.close(case, "office")
    assert case.state is CaseState.CLOSED and not case.rating.excluded
    with pytest.raises(cases.CaseError, match="已办结"):
        cases.assign(case, "王", "office")


def test_a_rejected_appeal_keeps_the_rating_counted(world):
    """Does an appeal the office turns down close the case with the rating still counted?"""
    case = new_case(world)
    for step in (
        lambda: cases.assign(case, "张", "x"),
        lambda: cases.record_callback(case, False, "未接通", "x"),
        lambda: cases.classify(case, "malicious", "x"),
        lambda: cases.rectify(case, "说明", "x"),
        lambda: cases.feed_back(case, "短信告知", "x"),
        lambda: cases.appeal(case, "恶意", "x"),
    ):
        step()
    with pytest.raises(cases.CaseError, match="复核意见"):
        cases.review(case, False, " ", "office")
    cases.review(case, False, "证据不足", "office")
    assert case.state is CaseState.CLOSED and case.review_upheld is False and not case.rating.excluded


def test_rates_show_numerator_and_denominator(world):
    """Are callback, rectification and on-time rates counted as documented, and overdue cases listed?"""
    today = date(2026, 10, 20)
    done = new_case(world)  # fed back on time
    for step in (
        lambda: cases.assign(done, "a", "x"),
        lambda: cases.record_callback(done, True, "ok", "x"),
        lambda: cases.classify(done, "reasonable", "x"),
        lambda: cases.rectify(done, "改", "x"),
        lambda: cases.feed_back(done, "告知", "x"),
    ):
        step()
    done.fed_back_at = at(date(2026, 10, 9))
    late = new_case(world)  # fed back after its due date
    late.state, late.called_back_at = CaseState.FED_BACK, at(date(2026, 10, 9))
    late.rectification, late.fed_back_at = "改", at(date(2026, 10, 14))
    overdue = new_case(world, real_name=False)  # untouched, past due
    unfounded = new_case(world)  # judged malicious, not yet due
    unfounded.due_on, unfounded.classification, unfounded.state = (
        date(2026, 10, 30),
        CaseClass.MALICIOUS,
        CaseState.CLASSIFIED,
    )
    new_case(world, unit=world.u2)  # another unit
    db.session.flush()
    rates = cases.case_rates(world.period.id, world.u1.id, today=today)
    assert rates["callback"] == (2, 3)  # real-name: done, late, unfounded; unfounded not called back
    assert rates["rectification"] == (2, 3)  # done, late, overdue (unfounded is left out)
    assert rates["on_time"] == (1, 3)  # done on time; late and overdue count against
    assert (rates["overdue"], rates["open"], rates["total"]) == (1, 4, 4)
    listed = cases.case_query(world.period.id, world.u1.id, overdue=True, today=today)
    assert [c.id for c in db.session.execute(listed).scalars()] == [overdue.id]
    assert cases.counts_by_unit(world.period.id, today=today)[world.u2.id]["total"] == 1


# --- the console -------------------------------------------------------------------------------------------------


@pytest.fixture
def console(app, make_user):
    """Two units with one case each, an operator, a viewer and a liaison of unit U01."""
    with app.app_context():
        workdays.install_defaults("test")
        u1 = Unit(code="U01", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门")
        u2 = Unit(code="U02", name="市医疗保障局", kind=UnitKind.GOVERNMENT, category="政府部门")
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add_all([u1, u2, period])
        db.session.flush()
        ids = []
        for n, unit in enumerate((u1, u2)):
            rating = PublicRating(
                period_id=period.id,
                unit_id=unit.id,
                origin="import",
                event_id=f"c{n}",
                level=1,
                raw_code=1,
                code_system=CodeSystem.STANDARD,
                channel=Channel.WINDOW,
                rated_at=at(date(2026, 9, 30)),
                content_hash=f"{n:064d}",
                real_name=True,
                case_no=f"K{n}",
                comment="排队太久",
            )
            db.session.add(rating)
            db.session.flush()
            ids.append(rating.id)
        cases.open_cases_for_ratings(ids, from_rated_at=True)
        db.session.commit()
        case_ids = list(db.session.execute(sa.select(BadRatingCase.id).order_by(BadRatingCase.unit_id)).scalars())
    make_user("office", role="operator")
    make_user("viewer", role="viewer")
    make_user("liaison", role="unit_liaison", unit_code="U01")
    return case_ids


def test_a_liaison_sees_and_works_only_their_units_cases(app, client, auth, console):
    """Does a unit liaison list only their unit's cases, get 404 for others, and take unit steps but not review?"""
    own, other = console
    auth.login("liaison")
    page = client.get("/office/cases").get_data(as_text=True)
    assert f"#{own}" in page and f"#{other}" not in page and "市医疗保障局" not in page
    assert client.get("/office/cases?unit=U02").status_code == 200  # the filter is ignored for liaisons
    assert f"#{other}" not in client.get("/office/cases?unit=U02").get_data(as_text=True)
    assert client.get(f"/office/cases/{other}").status_code == 404
    assert client.post(f"/office/cases/{other}/assign", data={"assignee": "x"}).status_code == 404
    assert client.get("/office/ratings").status_code == 403
    detail = client.get(f"/office/cases/{own}").get_data(as_text=True)
    assert "排队太久" in detail and "分派" in detail
    client.post(f"/office/cases/{own}/assign", data={"assignee": "张敏"})
    client.post(f"/office/cases/{own}/callback", data={"reached": "1", "note": "已联系"})
    client.post(f"/office/cases/{own}/classify", data={"classification": "mistaken"})
    client.post(f"/office/cases/{own}/rectify", data={"text": "已说明"})
    client.post(f"/office/cases/{own}/feedback", data={"note": "已告知"})
    client.post(f"/office/cases/{own}/appeal", data={"text": "误评"})
    refused = client.post(f"/office/cases/{own}/review", data={"upheld": "1", "result": "成立"}, follow_redirects=True)
    assert "您没有权限执行此操作" in refused.get_data(as_text=True)
    with app.app_context():
        case = db.session.get(BadRatingCase, own)
        assert case.state is CaseState.APPEALED and case.assignee == "张敏" and case.callback_reached
        liaison = db.session.execute(sa.select(User).filter_by(username="liaison")).scalar_one()
        assert liaison.unit_id == case.unit_id


def test_the_office_reviews_and_a_viewer_only_reads(app, client, auth, console):
    """May an operator review an appeal and a viewer only look? Do wrong steps show a Chinese message?"""
    own, _ = console
    auth.login("viewer")
    assert client.get(f"/office/cases/{own}").status_code == 200
    denied = client.post(f"/office/cases/{own}/assign", data={"assignee": "x"}, follow_redirects=True)
    assert "您没有权限执行此操作" in denied.get_data(as_text=True)
    assert denied.status_code == 403  # issue 10: a refusal, not a redirect with a flash
    auth.logout()
    auth.login("office")
    wrong = client.post(f"/office/cases/{own}/feedback", data={"note": "x"}, follow_redirects=True)
    assert "不能反馈" in wrong.get_data(as_text=True)
    for step, data in (
        ("assign", {"assignee": "张"}),
        ("callback", {"note": "ok"}),
        ("classify", {"classification": "malicious"}),
        ("rectify", {"text": "说明"}),
        ("feedback", {"note": "告知"}),
        ("appeal", {"text": "恶意"}),
        ("review", {"upheld": "1", "result": "证实恶意"}),
    ):
        client.post(f"/office/cases/{own}/{step}", data=data)
    with app.app_context():
        case = db.session.get(BadRatingCase, own)
        assert case.state is CaseState.CLOSED and case.rating.excluded and case.callback_reached is False
    page = client.get("/office/cases?overdue=1").get_data(as_text=True)
    assert "超期" in page and "回访率" in page


def test_the_calendar_page_edits_days_and_the_setting(app, client, auth, console):
    """Can the office add a holiday, remove it and set 15 working days from the console?"""
    auth.login("office")
    page = client.get("/office/calendar?year=2026").get_data(as_text=True)
    assert "国庆节调休上班" in page and "国务院办公厅" in page
    client.post("/office/calendar/day", data={"day": "2026-03-10", "kind": "holiday", "name": "临时调整"})
    client.post("/office/calendar/setting", data={"working_days": "15"})
    bad = client.post("/office/calendar/setting", data={"working_days": "x"}, follow_redirects=True)
    assert "请填写整数" in bad.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.execute(sa.select(CalendarDay).filter_by(day=date(2026, 3, 10))).scalar_one().name == "临时调整"
        )
        assert workdays.case_working_days() == 15
    client.post("/office/calendar/day", data={"day": "2026-03-10", "action": "remove"})
    with app.app_context():
        assert db.session.execute(sa.select(CalendarDay).filter_by(day=date(2026, 3, 10))).first() is None
    auth.logout()
    auth.login("viewer")
    assert client.post("/office/calendar/setting", data={"working_days": "5"}).status_code == 403


def test_cases_opened_today_are_due_in_working_days(world):
    """Does insert_cases (used by the API in the rating's transaction) compute the due date from opening?"""
    rating = world.rate(level=2)
    opened = datetime(2026, 9, 30, 9, tzinfo=CST)
    assert cases.insert_cases([(rating.id, rating.unit_id)], opened) == 1
    case = db.session.execute(sa.select(BadRatingCase)).scalar_one()
    assert case.due_on == date(2026, 10, 13) and case.opened_at == opened
