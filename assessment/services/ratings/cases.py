"""Bad-rating cases (差评工单): opening, the handling workflow, deadlines in working days, and the rates.

Every non-default rating at level 1-2 opens a case for the unit that served the person (谁办理谁负责). The unit
assigns a handler, calls the person back (回访; required for real-name ratings), classifies the rating
(reasonable / mistaken 误评 / malicious 恶意 / out of scope), rectifies or explains, and feeds back to the person
— within the office's deadline in working days. A unit that judged the rating unfounded may appeal (申诉); the
office reviews (复核): an upheld appeal excludes the rating from scoring, with the reason, and closes the case.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, exists, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import BadRatingCase, CaseClass, CaseState, PublicRating, Role, Unit
from .. import audit
from ..bulk import CHUNK
from ..workdays import calendar_around, case_working_days, china_date, china_today, load_calendar
from .exclusions import set_excluded

STATE_LABELS = {
    CaseState.OPEN: "待分派",
    CaseState.ASSIGNED: "待回访",
    CaseState.CALLED_BACK: "已回访",
    CaseState.CLASSIFIED: "已定性",
    CaseState.RECTIFIED: "已整改",
    CaseState.FED_BACK: "已反馈",
    CaseState.APPEALED: "申诉中",
    CaseState.CLOSED: "已办结",
}
CLASS_LABELS = {
    CaseClass.REASONABLE: "合理差评",
    CaseClass.MISTAKEN: "误评",
    CaseClass.MALICIOUS: "恶意差评",
    CaseClass.OUT_OF_SCOPE: "不属于受理范围",
}
STEP_LABELS = {
    "assign": "分派",
    "callback": "回访",
    "classify": "定性",
    "rectify": "整改/说明",
    "feedback": "反馈",
    "appeal": "申诉",
    "review": "复核",
    "close": "办结",
}
#: Steps the unit takes (its liaison, or the office on its behalf) and steps only the office takes.
UNIT_STEPS = ("assign", "callback", "classify", "rectify", "feedback", "appeal")
OFFICE_STEPS = ("review", "close")
#: Classifications that say the bad rating is unfounded, so the unit may appeal.
APPEALABLE = (CaseClass.MISTAKEN, CaseClass.MALICIOUS, CaseClass.OUT_OF_SCOPE)


class CaseError(ValueError):
    """A step that cannot be taken now; the message is in Chinese (console)."""


# --- opening ----------------------------------------------------------------------------------------------


def due_on(opened: date, working_days: int | None = None, calendar=None, connection=None) -> date:
    """The deadline of a case opened on `opened` (China date): that many working days later (default:
    setting).
    """
    n = case_working_days(connection) if working_days is None else working_days
    calendar = calendar or calendar_around(opened, n, connection)
    return calendar.add_workdays(opened, n)


def _insert(rows: list[dict], connection=None) -> int:
    if not rows:
        return 0
    table = BadRatingCase.__table__
    connection = connection or db.session.connection()
    statement = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)
    # RETURNING counts what was inserted (executemany's rowcount is not reliable across drivers).
    statement = statement.on_conflict_do_nothing(index_elements=["rating_id"]).returning(table.c.id)
    total = 0
    for start in range(0, len(rows), CHUNK):
        total += len(connection.execute(statement, rows[start : start + CHUNK]).all())
    return total


def insert_cases(ratings: list[tuple[int, int]], opened_at: datetime, connection=None, due: date | None = None) -> int:
    """Open cases for freshly stored (rating id, unit id) pairs, all opened at `opened_at`, in one statement
    on `connection` (the ratings' own transaction; default: the session's). `due` is the deadline when the
    caller already knows it (the device API caches it per day), else computed here."""
    due = due or due_on(china_date(opened_at), connection=connection)
    return _insert(
        [
            {"rating_id": rating_id, "unit_id": unit_id, "state": CaseState.OPEN, "due_on": due, "opened_at": opened_at}
            for rating_id, unit_id in ratings
        ],
        connection,
    )


def gets_a_case(level: int, is_default: bool) -> bool:
    """The one rule for which ratings get a bad-rating case: level 1-2, not a system default (`_gets_a_case`
    is the same rule as SQL)."""
    return level <= 2 and not is_default


def _gets_a_case():
    """gets_a_case as a clause on public_ratings."""
    return and_(PublicRating.level <= 2, PublicRating.is_default.is_(False))


def open_cases_for_ratings(rating_ids, opened_at: datetime | None = None, from_rated_at: bool = False) -> int:
    """Open the bad-rating cases of stored ratings (for imports and the demo city), in bulk; returns how many.

    Only non-default ratings at level 1-2 get a case; a rating that already has one is skipped (so calling it
    twice is harmless). A case is opened at `opened_at` (default now) — or, with `from_rated_at`, at the time
    of its rating, for history loaded after the fact — and is due the setting's number of working days
    (default 5) later by the office's holiday calendar. Runs in the caller's transaction (call it in the one
    that stored the ratings).
    """
    ids = list(rating_ids)
    if not ids:
        return 0
    now = opened_at or datetime.now(UTC)
    found = []
    for start in range(0, len(ids), CHUNK):
        found.extend(
            db.session.execute(
                select(PublicRating.id, PublicRating.unit_id, PublicRating.rated_at).where(
                    PublicRating.id.in_(ids[start : start + CHUNK]), _gets_a_case()
                )
            ).all()
        )
    if not found:
        return 0
    n = case_working_days()
    moments = [r.rated_at if from_rated_at else now for r in found]
    days = [china_date(m) for m in moments]
    calendar = load_calendar(min(days), max(days) + timedelta(days=2 * n + 40))
    dues = {}
    rows = []
    for (rating_id, unit_id, _), moment, day in zip(found, moments, days, strict=True):
        if day not in dues:
            dues[day] = calendar.add_workdays(day, n)
        rows.append(
            {
                "rating_id": rating_id,
                "unit_id": unit_id,
                "state": CaseState.OPEN,
                "due_on": dues[day],
                "opened_at": moment,
            }
        )
    return _insert(rows)


def open_cases_where(condition, opened_at: datetime) -> int:
    """Open the bad-rating cases of the stored ratings matching `condition` (a clause on public_ratings), in
    one INSERT … SELECT on the session's connection; returns how many were opened.

    The rules of `open_cases_for_ratings`: `_gets_a_case`, none twice, due the setting's
    number of working days after `opened_at`'s China date; cases take the ratings' id order. For the import,
    which knows its new ratings by event id and need not read their ids back.
    """
    cases = BadRatingCase.__table__
    ratings = PublicRating.__table__
    due = due_on(china_date(opened_at))
    chosen = (
        select(
            ratings.c.id,
            ratings.c.unit_id,
            literal(CaseState.OPEN, cases.c.state.type),
            literal(due, cases.c.due_on.type),
            literal(opened_at, cases.c.opened_at.type),
        )
        .where(condition, _gets_a_case(), ~exists().where(cases.c.rating_id == ratings.c.id))
        .order_by(ratings.c.id)
    )
    statement = insert(cases).from_select(["rating_id", "unit_id", "state", "due_on", "opened_at"], chosen)
    # RETURNING counts what was inserted (psycopg gives no rowcount for an INSERT … SELECT here).
    return len(db.session.connection().execute(statement.returning(cases.c.id)).all())


# --- the workflow -----------------------------------------------------------------------------------------


def may_see(user, case: BadRatingCase) -> bool:
    """Office users see every case; a unit liaison only the cases of their own unit."""
    if user.role is Role.UNIT_LIAISON:
        return user.unit_id is not None and case.unit_id == user.unit_id
    return True


def may_take(user, case: BadRatingCase, step: str) -> bool:
    """Whether `user` may take `step` on `case`: unit steps for the unit's liaison and the office's writers,
    review and close for the office's writers (admins, data admins, operators) only."""
    if not may_see(user, case):
        return False
    writer = user.has_role(Role.DATA_ADMIN, Role.OPERATOR)
    if step in OFFICE_STEPS:
        return writer
    return writer or user.role is Role.UNIT_LIAISON


def next_steps(case: BadRatingCase) -> list[str]:
    """The steps the case's state allows now, in workflow order."""
    state = case.state
    steps = []
    if state in (CaseState.OPEN, CaseState.ASSIGNED):
        steps.append("assign")
    if state in (CaseState.ASSIGNED, CaseState.CALLED_BACK):
        steps.append("callback")
    if state is CaseState.CALLED_BACK or (state is CaseState.ASSIGNED and not case.rating.real_name):
        steps.append("classify")
    if state is CaseState.CLASSIFIED:
        steps.append("rectify")
    if state is CaseState.RECTIFIED:
        steps.append("feedback")
    if state is CaseState.FED_BACK:
        if case.classification in APPEALABLE:
            steps.append("appeal")
        steps.append("close")
    if state is CaseState.APPEALED:
        steps.append("review")
    return steps


def _require(case, step, text=None, what=None):
    if step not in next_steps(case):
        if step == "classify" and case.state is CaseState.ASSIGNED:
            raise CaseError("实名差评必须先回访，才能定性")
        if step == "appeal" and case.state is CaseState.FED_BACK:
            raise CaseError("只有定性为误评、恶意差评或不属于受理范围的工单可以申诉")
        raise CaseError(f"工单当前为“{STATE_LABELS[case.state]}”，不能{STEP_LABELS[step]}")
    if what is not None:
        text = (text or "").strip()
        if not text:
            raise CaseError(f"请填写{what}")
        return text
    return None


def _now():
    return datetime.now(UTC)


def assign(case: BadRatingCase, assignee: str, actor: str) -> BadRatingCase:
    """分派: name who handles the case in the unit (again to reassign before the callback)."""
    assignee = _require(case, "assign", assignee, "承办人")[:100]
    before = case.assignee
    case.assignee = assignee
    case.assigned_at = _now()
    case.state = CaseState.ASSIGNED
    audit.record(actor, "case.assign", "bad_rating_case", case.id, assignee=assignee, before=before)
    return case


def record_callback(case: BadRatingCase, reached: bool, note: str, actor: str) -> BadRatingCase:
    """回访: the call to the person, reached or not, with a note (a further attempt replaces the record)."""
    note = _require(case, "callback", note, "回访情况")
    case.called_back_at = _now()
    case.callback_reached = bool(reached)
    case.callback_note = note
    case.state = CaseState.CALLED_BACK
    audit.record(actor, "case.callback", "bad_rating_case", case.id, reached=bool(reached), note=note)
    return case


def classify(case: BadRatingCase, classification: CaseClass | str, actor: str) -> BadRatingCase:
    """定性: reasonable, mistaken (误评), malicious (恶意) or out of scope; a real-name rating needs its callback
    first."""
    _require(case, "classify")
    try:
        classification = CaseClass(classification)
    except ValueError:
        raise CaseError("请选择定性结果") from None
    case.classification = classification
    case.classified_at = _now()
    case.state = CaseState.CLASSIFIED
    audit.record(actor, "case.classify", "bad_rating_case", case.id, classification=classification.value)
    return case


def rectify(case: BadRatingCase, text: str, actor: str) -> BadRatingCase:
    """整改 (a reasonable rating) or 情况说明 (otherwise): what the unit did or why the rating is unfounded."""
    text = _require(case, "rectify", text, "整改措施或情况说明")
    case.rectification = text
    case.rectified_at = _now()
    case.state = CaseState.RECTIFIED
    audit.record(actor, "case.rectify", "bad_rating_case", case.id, text=text)
    return case


def feed_back(case: BadRatingCase, note: str, actor: str) -> BadRatingCase:
    """反馈: what the person was told; the deadline counts to this step."""
    note = _require(case, "feedback", note, "反馈情况")
    case.feedback_note = note
    case.fed_back_at = _now()
    case.state = CaseState.FED_BACK
    audit.record(actor, "case.feedback", "bad_rating_case", case.id, note=note)
    return case


def appeal(case: BadRatingCase, text: str, actor: str) -> BadRatingCase:
    """申诉: the unit asks the office not to count a rating it judged mistaken, malicious or out of scope."""
    text = _require(case, "appeal", text, "申诉理由")
    case.appeal = text
    case.appealed_at = _now()
    case.state = CaseState.APPEALED
    audit.record(actor, "case.appeal", "bad_rating_case", case.id, text=text)
    return case


def review(case: BadRatingCase, upheld: bool, result: str, actor: str) -> BadRatingCase:
    """复核: the office decides an appeal and closes the case; if upheld, the rating is excluded, with the
    reason."""
    result = _require(case, "review", result, "复核意见")
    now = _now()
    case.review_upheld = bool(upheld)
    case.review_result = result
    case.reviewed_at = now
    case.reviewed_by = actor
    case.state = CaseState.CLOSED
    case.closed_at = now
    audit.record(actor, "case.review", "bad_rating_case", case.id, upheld=bool(upheld), result=result)
    if upheld and not case.rating.excluded:
        label = CLASS_LABELS.get(case.classification, "")
        set_excluded(case.rating_id, True, f"申诉复核成立（{label}）：{result}", actor)
    return case


def close(case: BadRatingCase, actor: str) -> BadRatingCase:
    """办结: the office closes a case the unit has fed back on."""
    _require(case, "close")
    case.state = CaseState.CLOSED
    case.closed_at = _now()
    audit.record(actor, "case.close", "bad_rating_case", case.id)
    return case


def take_step(case: BadRatingCase, step: str, form: dict, user) -> BadRatingCase:
    """Take one workflow step from a console form, checking the user may; raises CaseError in Chinese."""
    if not may_take(user, case, step):
        raise CaseError("您没有权限执行此操作")
    actor = user.username
    if step == "assign":
        result = assign(case, form.get("assignee"), actor)
    elif step == "callback":
        reached = form.get("reached") in ("1", "true", "on", True)
        result = record_callback(case, reached, form.get("note"), actor)
    elif step == "classify":
        result = classify(case, form.get("classification") or "", actor)
    elif step == "rectify":
        result = rectify(case, form.get("text"), actor)
    elif step == "feedback":
        result = feed_back(case, form.get("note"), actor)
    elif step == "appeal":
        result = appeal(case, form.get("text"), actor)
    elif step == "review":
        if form.get("upheld") not in ("1", "0"):
            raise CaseError("请选择复核结论")
        result = review(case, form.get("upheld") == "1", form.get("result"), actor)
    elif step == "close":
        result = close(case, actor)
    else:
        raise CaseError("未知的操作")
    db.session.flush()
    return result


# --- lists and rates --------------------------------------------------------------------------------------


#: States in which a case is no longer waiting for the unit (it fed back, or the office settled the case).
SETTLED = (CaseState.FED_BACK, CaseState.APPEALED, CaseState.CLOSED)


def is_overdue(case: BadRatingCase, today: date | None = None) -> bool:
    """Still waiting for the unit's feedback to the person and past its due date (China date)."""
    return case.fed_back_at is None and case.state not in SETTLED and case.due_on < (today or china_today())


def case_query(period_id=None, unit_id=None, state=None, overdue=False, today=None):
    """Cases (with their rating) of a period and unit, optionally one state or only the overdue ones."""
    query = select(BadRatingCase).join(PublicRating, BadRatingCase.rating_id == PublicRating.id)
    if period_id is not None:
        query = query.where(PublicRating.period_id == period_id)
    if unit_id is not None:
        query = query.where(BadRatingCase.unit_id == unit_id)
    if state is not None:
        query = query.where(BadRatingCase.state == state)
    if overdue:
        query = query.where(
            BadRatingCase.fed_back_at.is_(None),
            BadRatingCase.state.not_in(SETTLED),
            BadRatingCase.due_on < (today or china_today()),
        )
    return query


def list_cases(period_id=None, unit_id=None, state=None, overdue=False, page=1, per_page=50):
    """A page of cases, overdue and oldest deadlines first."""
    query = case_query(period_id, unit_id, state, overdue).order_by(
        BadRatingCase.fed_back_at.is_not(None), BadRatingCase.due_on, BadRatingCase.id
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def case_rates(period_id=None, unit_id=None, today: date | None = None) -> dict:
    """The handling rates, each as (numerator, denominator), and counts.

    - callback (回访率): real-name cases called back / real-name cases (the rule is 100%);
    - rectification (整改率): cases rectified / cases not judged unfounded (unclassified ones count as due);
    - on_time (按时办结率): cases fed back by their due date / cases fed back or past due;
    - overdue: still waiting for the unit's feedback and past due; open: not closed; total.
    """
    today = today or china_today()
    query = select(
        BadRatingCase.state,
        BadRatingCase.called_back_at,
        BadRatingCase.classification,
        BadRatingCase.rectification,
        BadRatingCase.fed_back_at,
        BadRatingCase.due_on,
        PublicRating.real_name,
    ).join(PublicRating, BadRatingCase.rating_id == PublicRating.id)
    if period_id is not None:
        query = query.where(PublicRating.period_id == period_id)
    if unit_id is not None:
        query = query.where(BadRatingCase.unit_id == unit_id)
    callback = [0, 0]
    rectification = [0, 0]
    on_time = [0, 0]
    overdue = still_open = total = 0
    for state, called_back_at, klass, rect, fed_back_at, due, real_name in db.session.execute(query):
        total += 1
        if real_name:
            callback[1] += 1
            callback[0] += called_back_at is not None
        if klass not in APPEALABLE:
            rectification[1] += 1
            rectification[0] += rect is not None
        if fed_back_at is not None:
            on_time[1] += 1
            on_time[0] += china_date(fed_back_at) <= due
        elif due < today:
            on_time[1] += 1
            overdue += state not in SETTLED
        still_open += state is not CaseState.CLOSED
    return {
        "callback": tuple(callback),
        "rectification": tuple(rectification),
        "on_time": tuple(on_time),
        "overdue": overdue,
        "open": still_open,
        "total": total,
    }


def counts_by_unit(period_id, today: date | None = None) -> dict:
    """{unit id: {"total", "open", "overdue"}} for the period's cases."""
    today = today or china_today()
    out = {}
    query = (
        select(BadRatingCase.unit_id, BadRatingCase.state, BadRatingCase.fed_back_at, BadRatingCase.due_on)
        .join(PublicRating, BadRatingCase.rating_id == PublicRating.id)
        .where(PublicRating.period_id == period_id)
    )
    for unit_id, state, fed_back_at, due in db.session.execute(query):
        row = out.setdefault(unit_id, {"total": 0, "open": 0, "overdue": 0})
        row["total"] += 1
        row["open"] += state is not CaseState.CLOSED
        row["overdue"] += fed_back_at is None and state not in SETTLED and due < today
    return out


def units_with_cases(period_id=None) -> list[Unit]:
    """Units that have cases (for the console's filter)."""
    query = select(Unit).where(Unit.id.in_(select(BadRatingCase.unit_id).distinct())).order_by(Unit.code)
    return list(db.session.execute(query).scalars())


def get_case(case_id: int) -> BadRatingCase | None:
    """The case with this id, or None."""
    return db.session.get(BadRatingCase, case_id)
