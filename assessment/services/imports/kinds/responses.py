"""Paper questionnaires keyed in (纸质问卷答案): one row per answer; one rater's rows about one unit with one
instrument make one response, stored as a new submitted version only when its answers changed."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, select

from surveys import ANSWER_TYPES

from ....extensions import db
from ....models import (
    Answer,
    Assignment,
    AssignmentState,
    Instrument,
    Question,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Unit,
)
from ...bulk import bulk_insert, bulk_update, insert_ids
from ...responses import definition as stored_definition
from ..spool import CHUNK
from .base import Kind


@dataclass
class _StoredInstrument:
    """What a response row is checked against: an instrument's newest stored version."""

    id: int
    key: str
    rater_group: str
    targets: str
    allow_na: bool
    #: question id -> answer type
    questions: dict


class Responses(Kind):
    """Paper questionnaires keyed in: one rater's rows about one unit with one instrument are one response."""

    def prepare(self):
        self.answer_types = ANSWER_TYPES
        self.counts = {"responses": 0, "created": 0, "updated": 0, "unchanged": 0}
        self.raters = {r.code: r for r in db.session.execute(select(Rater.code, Rater.id, Rater.group, Rater.unit_id))}
        self.units = self.code_map(Unit)
        self.unit_codes = {v: k for k, v in self.units.items()}
        self.instruments = _stored_instruments()
        #: (rater id, instrument id, unit id) -> {"line", "codes", "answered": set of question ids}
        self.groups = {}
        #: (rater id, instrument id, unit id, question) -> line
        self.first_line = {}

    def check(self, row):
        """Check one answer row: rater, instrument, unit, question known; pairing allowed; answer valid."""
        rater_code = row.text("rater_code", True)
        rater = None
        if rater_code is not None:
            rater = self.raters.get(rater_code)
            if rater is None:
                row.bad("rater_code", rater_code, "unknown rater code '{v}'", "评价人编码“{v}”不存在")
        key = row.text("instrument", True)
        instrument = None
        if key is not None:
            instrument = self.instruments.get(key)
            if instrument is None:
                if self.instruments:
                    known = ", ".join(self.instruments)
                    row.bad(
                        "instrument",
                        key,
                        f"unknown instrument '{{v}}' (known: {known})",
                        f"问卷“{{v}}”不存在（已有：{known}）",
                    )
                else:
                    row.bad(
                        "instrument",
                        key,
                        "no instruments are stored yet: run `assessment init-db` to load the definitions",
                        "数据库中还没有问卷：请先运行 assessment init-db 载入问卷定义",
                    )
        unit_id = self.lookup(row, "unit_code", self.units, "unit code", "单位编码")
        qid = row.text("question", True)
        qtype = None
        if instrument is not None and qid is not None:
            qtype = instrument.questions.get(qid)
            if qtype is None:
                row.bad(
                    "question",
                    qid,
                    f"instrument '{instrument.key}' has no question '{{v}}'",
                    f"问卷“{instrument.key}”中没有题目“{{v}}”",
                )
        value = None
        raw = row.raw("answer")
        if qtype is not None:
            answer_type = self.answer_types[qtype]
            try:
                value = answer_type.parse(raw)
            except ValueError:
                if raw == "":
                    row.bad(
                        "answer",
                        "",
                        "a value is required (write na for don't know)",
                        "不能为空（不了解请填na）",
                    )
                else:
                    low, high = getattr(answer_type, "min", ""), getattr(answer_type, "max", "")
                    row.bad(
                        "answer",
                        raw,
                        f"'{{v}}' is not a {qtype} answer ({low}-{high}, or na)",
                        f"“{{v}}”不是有效答案（应为{low}-{high}，不了解请填na）",
                    )
            else:
                if value is None and not instrument.allow_na:
                    row.bad(
                        "answer",
                        raw,
                        f"instrument '{instrument.key}' has no don't-know option",
                        f"问卷“{instrument.key}”不设“不了解”选项",
                    )
        pairing_ok = True
        if rater is not None and instrument is not None:
            if rater.group.value != instrument.rater_group:
                pairing_ok = False
                row.bad(
                    "instrument",
                    key,
                    f"instrument '{{v}}' is for {instrument.rater_group} raters; "
                    f"rater {rater_code} is in group {rater.group.value}",
                    f"问卷“{{v}}”供{_group_zh(instrument.rater_group)}填写，评价人{rater_code}属于{rater.group.label}",
                )
            elif unit_id is not None:
                pairing_ok = self._check_target(row, rater, rater_code, instrument, unit_id)
        if rater is None or instrument is None or unit_id is None or qid is None or not pairing_ok:
            return None
        group_key = (rater.id, instrument.id, unit_id)
        group = self.groups.get(group_key)
        if group is None:
            group = self.groups[group_key] = {
                "line": row.line,
                "codes": (rater_code, instrument.key, row.raw("unit_code")),
                "answered": set(),
            }
        if qtype is not None:
            first = self.first_line.get(group_key + (qid,))
            if first is not None:
                row.bad(
                    "question",
                    qid,
                    f"question '{{v}}' is answered twice by rater {rater_code} for this unit (first on line {first})",
                    f"评价人{rater_code}对该单位的题目“{{v}}”重复作答（首次出现在第{first}行）",
                )
                return None
            self.first_line[group_key + (qid,)] = row.line
            group["answered"].add(qid)
        if not row.ok:
            return None
        return (row.line, group_key, qid, value)

    def _check_target(self, row, rater, rater_code, instrument, unit_id) -> bool:
        """May this rater rate this unit with this instrument? Peer review never about one's own unit, self
        review only about it (a department rater's unit is where they work)."""
        own = rater.unit_id
        if instrument.targets == "other_units":
            if own is None:
                row.bad(
                    "rater_code",
                    rater_code,
                    "rater '{v}' has no unit, so cannot take part in peer review",
                    "评价人“{v}”没有所属单位，不能参加部门互评",
                )
                return False
            if own == unit_id:
                row.bad(
                    "unit_code",
                    row.raw("unit_code"),
                    f"rater {rater_code} belongs to unit '{{v}}': a department does not rate itself in peer review",
                    f"评价人{rater_code}属于单位“{{v}}”：部门互评不评本单位",
                )
                return False
        elif instrument.targets == "own_unit" and own != unit_id:
            own_code = self.unit_codes.get(own, "—")
            row.bad(
                "unit_code",
                row.raw("unit_code"),
                f"self review is only about the rater's own unit ({own_code}), not '{{v}}'",
                f"自评只能评本单位（{own_code}），不能评“{{v}}”",
            )
            return False
        return True

    def finish(self):
        """Every response must answer every question of its instrument."""
        for group in self.groups.values():
            rater_code, key, unit_code = group["codes"]
            missing = [q for q in self.instruments[key].questions if q not in group["answered"]]
            if missing:
                shown = ", ".join(missing)
                self.errors.add(
                    group["line"],
                    "question",
                    None,
                    f"the response of rater {rater_code} about unit {unit_code} ({key}) has no answer to "
                    f"{shown}; every question needs a row (na for don't know)",
                    f"评价人{rater_code}对单位{unit_code}的答卷（{key}）缺少题目{shown}的答案；每题都须有一行（不了解填na）",
                )

    def write(self, spool, tick):
        """One submitted version per (rater, instrument, unit), added only when the answers changed."""
        answers_by_group = {}
        for _line, group_key, qid, value in spool:
            answers_by_group.setdefault(group_key, {})[qid] = value
        period_id = self.period.id
        assignments = {
            (a.rater_id, a.instrument_id, a.unit_id): a
            for a in db.session.execute(
                select(
                    Assignment.id,
                    Assignment.rater_id,
                    Assignment.instrument_id,
                    Assignment.unit_id,
                    Assignment.state,
                ).where(Assignment.period_id == period_id)
            )
        }
        responses = {
            r.assignment_id: r
            for r in db.session.execute(
                select(Response.id, Response.assignment_id, Response.current_version)
                .join(Assignment, Assignment.id == Response.assignment_id)
                .where(Assignment.period_id == period_id)
            )
        }
        latest = {}
        for response_id, question, value in db.session.execute(
            select(ResponseVersion.response_id, Answer.question, Answer.value)
            .join(Answer, Answer.version_id == ResponseVersion.id)
            .join(
                Response,
                and_(
                    Response.id == ResponseVersion.response_id,
                    Response.current_version == ResponseVersion.version,
                ),
            )
            .join(Assignment, Assignment.id == Response.assignment_id)
            .where(Assignment.period_id == period_id)
        ):
            latest.setdefault(response_id, {})[question] = value

        self.counts["responses"] = len(answers_by_group)
        pending = []
        for group_key, answers in answers_by_group.items():
            assignment = assignments.get(group_key)
            response = responses.get(assignment.id) if assignment else None
            if response is not None and response.current_version > 0 and latest.get(response.id) == answers:
                self.counts["unchanged"] += 1
                continue
            pending.append(_Pending(group_key, answers, assignment, response))
        now = datetime.now(UTC)
        submitted = AssignmentState.SUBMITTED

        # Assignments: add the missing ones as submitted, mark the others submitted.
        fresh = [p for p in pending if p.assignment is None]
        ids = insert_ids(
            Assignment,
            [
                {
                    "period_id": period_id,
                    "rater_id": p.key[0],
                    "instrument_id": p.key[1],
                    "unit_id": p.key[2],
                    "state": submitted,
                    "created_at": now,
                }
                for p in fresh
            ],
            key=("rater_id", "period_id", "instrument_id", "unit_id"),
        )
        for p, assignment_id in zip(fresh, ids, strict=True):
            p.assignment_id = assignment_id
        for p in pending:
            if p.assignment is not None:
                p.assignment_id = p.assignment.id
        bulk_update(
            Assignment,
            [
                {"id": p.assignment.id, "state": submitted}
                for p in pending
                if p.assignment is not None and p.assignment.state is not submitted
            ],
        )

        # Responses: one per assignment; its current version moves to the version added now.
        fresh = [p for p in pending if p.response is None]
        ids = insert_ids(
            Response,
            [{"assignment_id": p.assignment_id, "current_version": 1} for p in fresh],
            key=("assignment_id",),
        )
        for p, response_id in zip(fresh, ids, strict=True):
            p.response_id, p.version = response_id, 1
        for p in pending:
            if p.response is not None:
                p.response_id, p.version = p.response.id, p.response.current_version + 1
        bulk_update(
            Response,
            [{"id": p.response_id, "current_version": p.version} for p in pending if p.response is not None],
        )
        for p in pending:
            self.counts["updated" if p.version > 1 else "created"] += 1

        version_ids = insert_ids(
            ResponseVersion,
            [
                {
                    "response_id": p.response_id,
                    "version": p.version,
                    "submitted_at": now,
                    "source": ResponseSource.IMPORT,
                    "recorded_by": self.actor,
                    "reason": f"import {self.filename}",
                }
                for p in pending
            ],
            key=("response_id", "version"),
        )
        rows, done = [], 0
        for p, version_id in zip(pending, version_ids, strict=True):
            rows.extend({"version_id": version_id, "question": q, "value": v} for q, v in p.answers.items())
            if len(rows) >= CHUNK:
                bulk_insert(Answer, rows)
                done += len(rows)
                rows = []
                tick(done)
        if rows:
            bulk_insert(Answer, rows)
        tick(spool.count)


@dataclass
class _Pending:
    """A response whose answers differ from its latest submitted version (or that has none yet)."""

    key: tuple
    answers: dict
    assignment: object
    response: object
    assignment_id: int | None = None
    response_id: int | None = None
    version: int = 1


def _group_zh(group):
    try:
        return RaterGroup(group).label
    except ValueError:
        return group


def _stored_instruments():
    """The newest stored version of each instrument, with its questions' answer types."""
    rows = db.session.execute(select(Instrument).order_by(Instrument.key, Instrument.version)).scalars().all()
    newest = {row.key: row for row in rows}
    result = {}
    for key, row in newest.items():
        allow_na = stored_definition(row).allow_na
        questions = dict(
            db.session.execute(
                select(Question.qid, Question.type).where(Question.instrument_id == row.id).order_by(Question.position)
            ).all()
        )
        result[key] = _StoredInstrument(row.id, key, row.rater_group, row.targets, allow_na, questions)
    return result
