"""The problem ledger's services: numbering, the state machine, close-out evidence, look-back, escalation, the
CSV, the suspension rule, imports with class and numbers."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from assessment.extensions import db
from assessment.models import (
    AuditEntry,
    LedgerCounter,
    Participant,
    Period,
    Problem,
    ProblemAction,
    ProblemClass,
    ProblemState,
    ProblemStep,
    StepFile,
)
from assessment.services import ledger, ledger_lists
from assessment.services.ledger import LedgerError, ProblemInput
from tests.network.helpers import PDF, upload


def _period():
    return db.session.scalar(select(Period).filter_by(name="2026"))


def _file(net, unit="U01", title="窗口推诿", found="2026-03-02", deadline="", **kw):
    data = ProblemInput(unit_id=net.units[unit], title=title, found_on=found, deadline=deadline, **kw)
    return ledger.file_problem(_period(), data, "office")


def test_numbers_per_year_in_order(net, ctx):
    """Do problems get 2026-0001, 2026-0002 … per year of finding, and a default deadline three months on?"""
    a = _file(net, title="a")
    b = _file(net, title="b", found="2025-12-30")
    c = _file(net, title="c", found="2026-11-30")
    assert (a.number, b.number, c.number) == ("2026-0001", "2025-0001", "2026-0002")
    assert a.deadline == date(2026, 6, 2)
    assert c.deadline == date(2027, 2, 28)
    assert db.session.get(LedgerCounter, 2026).last == 2


def test_rolled_back_filing_leaves_no_gap(net, app):
    """Does a filing that is rolled back give its number back, so the next one has no gap?"""
    with app.app_context():
        _file(net, title="a")
        db.session.commit()
        _file(net, title="b")
        db.session.rollback()
        third = _file(net, title="c")
        db.session.commit()
        assert third.number == "2026-0002"


def test_bad_input_names_the_field(net, ctx):
    """Are a deadline before the finding, a missing title, an unknown category and a repeat refused in Chinese?"""
    with pytest.raises(LedgerError, match="整改期限"):
        _file(net, deadline="2026-03-01")
    with pytest.raises(LedgerError, match="问题标题"):
        _file(net, title=" ")
    with pytest.raises(LedgerError, match="问题类别"):
        _file(net, category="杂项")
    with pytest.raises(LedgerError, match="发现日期"):
        _file(net, found="2026-02-30")
    _file(net)
    with pytest.raises(LedgerError, match="同日已登记"):
        _file(net)
    assert db.session.scalar(select(func.count(Problem.id))) == 1


def test_workflow_push_report_close_lookback_reopen(net, ctx):
    """Does a problem go open → rectifying → closed → (回头看) rectifying, each step audited, wrong moves refused?"""
    p = _file(net, category="问题整改")
    with pytest.raises(LedgerError, match="不能报送整改情况"):
        ledger.report_rectification(p, "liaison:liaison1", note="已整改")
    ledger.push(p, "office")
    assert p.state is ProblemState.RECTIFYING and p.pushed_at is not None
    with pytest.raises(LedgerError, match="佐证材料"):
        ledger.close(p, "office", note="同意销号", on="2026-04-01")
    ledger.report_rectification(
        p, "liaison:liaison1", note="已建立首问负责制", on="2026-03-20", files=[upload(PDF, "整改报告.pdf")]
    )
    with pytest.raises(LedgerError, match="销号日期"):
        ledger.close(p, "office", note="同意", on="2026-03-01")
    ledger.close(p, "office", note="经核查已整改到位", on="2026-04-01")
    assert (p.state, p.closed_on) == (ProblemState.CLOSED, date(2026, 4, 1))
    with pytest.raises(LedgerError, match="不能约谈"):
        ledger.escalate(p, "office", "interview", on="2026-04-02")
    ledger.look_back(p, "office", note="巩固良好", on="2026-06-01")
    ledger.look_back(p, "office", note="问题反弹", on="2026-07-01", reopen=True)
    assert (p.state, p.closed_on, p.deadline) == (ProblemState.RECTIFYING, None, date(2026, 10, 1))
    actions = [s.action for s in p.steps]
    assert actions == [
        ProblemAction.FILE,
        ProblemAction.PUSH,
        ProblemAction.REPORT,
        ProblemAction.CLOSE,
        ProblemAction.LOOKBACK,
        ProblemAction.REOPEN,
    ]
    audited = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "problem")).all()
    assert {
        "problem.file",
        "problem.push",
        "problem.report",
        "problem.close",
        "problem.reopen",
        "problem.file_added",
    } <= set(audited)


def test_office_class_is_not_pushed_and_bad_file_leaves_nothing(net, ctx, app):
    """Is an office-class problem never pushed, and does a bad evidence file leave neither a step nor a file?"""
    office = _file(net, problem_class="office")
    with pytest.raises(LedgerError, match="无需推送"):
        ledger.push(office, "office")
    p = _file(net, title="b")
    ledger.push(p, "office")
    assert len(p.steps) == 2  # filed, pushed
    state_before = p.state
    with pytest.raises(LedgerError, match="不接受此类型"):
        ledger.report_rectification(
            p, "liaison:liaison1", note="整改", files=[upload(PDF, "ok.pdf"), upload(b"MZ", "x.exe")]
        )
    # Before any rollback: the refusal flushed no step and no file row, and the state did not move.
    db.session.flush()
    assert db.session.scalar(select(func.count(StepFile.id))) == 0
    assert db.session.scalar(select(func.count(ProblemStep.id)).filter_by(problem_id=p.id)) == 2
    assert p.state is state_before
    folder = __import__("pathlib").Path(app.instance_path) / "uploads" / "problems"
    assert not folder.exists() or not any(folder.iterdir())


def test_escalation_steps_with_dates(net, ctx):
    """Are 约谈, 函告 and 通报 recorded with their dates on an open problem?"""
    p = _file(net)
    ledger.push(p, "office")
    for action, on in (("interview", "2026-06-10"), ("letter", "2026-06-20"), ("notice", "2026-07-01")):
        ledger.escalate(p, "office", action, on=on, note="督办")
    assert [(s.action.value, s.on.isoformat()) for s in p.steps[2:]] == [
        ("interview", "2026-06-10"),
        ("letter", "2026-06-20"),
        ("notice", "2026-07-01"),
    ]
    with pytest.raises(LedgerError, match="督办方式"):
        ledger.escalate(p, "office", "push", on="2026-07-02")


def test_csv_and_suspension(net, ctx):
    """Does the ledger CSV have interfaces.md's columns with a BOM, and the open-past-deadline unit suspended?"""
    late = _file(net, title="逾期未改", found="2026-01-05", deadline="2026-03-31", category="机构编制审批")
    _file(net, unit="U02", title="按期", found="2026-01-05", deadline="2026-03-31")
    closed_late = _file(net, unit="U03", title="逾期后整改", found="2026-01-05", deadline="2026-02-01")
    ledger.push(closed_late, "office")
    ledger.report_rectification(closed_late, "x", note="改了", files=[upload(PDF, "a.pdf")])
    ledger.close(closed_late, "office", note="销号", on="2026-02-10")
    u02 = db.session.scalar(select(Problem).filter_by(title="按期"))
    ledger.push(u02, "office")
    ledger.report_rectification(u02, "x", note="改了", files=[upload(PDF, "b.pdf")])
    ledger.close(u02, "office", note="销号", on="2026-03-01")
    data = ledger_lists.build_csv(_period())
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ledger_lists.LEDGER_COLUMNS
    by_title = {r[3]: r for r in rows[1:]}
    assert by_title["逾期未改"][0] == late.number == "2026-0001"
    assert by_title["逾期未改"][5:7] == ["unit", "机构编制审批"]
    assert by_title["逾期未改"][-2:] == ["true", "true"]
    assert by_title["逾期后整改"][-2:] == ["true", "false"]
    assert by_title["按期"][-2:] == ["false", "false"]
    assert {r.problem.unit_id for r in ledger_lists.ledger_rows(_period()) if r.suspends} == {net.units["U01"]}


def test_unit_cannot_reach_another_units_problem(net, ctx):
    """Does a unit's list hold only its own pushed problems, and another unit's problem read as not found?"""
    mine, other, unpushed = _file(net, title="a"), _file(net, unit="U02", title="b"), _file(net, title="c")
    ledger.push(mine, "office")
    ledger.push(other, "office")
    assert [p.title for p in ledger_lists.unit_problems(net.units["U01"])] == ["a"]
    assert ledger_lists.get_unit_problem(other.id, net.units["U01"]) is None
    assert ledger_lists.get_unit_problem(unpushed.id, net.units["U01"]) is None
    assert ledger_lists.get_unit_problem(mine.id, net.units["U01"]) is mine


def test_expert_comment_in_any_state(net, ctx):
    """Can an expert comment on an open and on a closed problem, the comment keeping the expert?"""
    p = _file(net)
    expert = db.session.get(Participant, net.people["E1"])
    step = ledger.comment(p, expert, "建议明确整改时限")
    assert step.participant_id == expert.id and p.state is ProblemState.OPEN
    with pytest.raises(LedgerError, match="点评意见"):
        ledger.comment(p, expert, "")
    ledger.close(p, "office", note="已整改", on="2026-04-01", files=[upload(PDF, "a.pdf")])
    step = ledger.comment(p, expert, "销号后仍需回头看")
    assert step.participant_id == expert.id and p.state is ProblemState.CLOSED


def test_import_numbers_class_and_reporter(net, app, tmp_path):
    """Does the problems import number new rows in file order, read the optional class, and keep the reporter?"""
    from assessment.services.imports import ImportFailed, run_import

    lines = [
        "unit_code,title,source,severity,found_on,deadline,class",
        "U01,一,linkage,general,2026-02-01,2026-05-01,reserve",
        "U02,二,linkage,serious,2026-02-02,2026-05-01,",
        "U03,三,linkage,general,2025-02-02,2026-05-01,office",
    ]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with app.app_context():
        _file(net, title="先登记")
        db.session.commit()
        report = run_import("problems", path, "2026", "office", options={"reporter": net.people["K1"]})
        assert report.counts["created"] == 3
        db.session.commit()
        got = {p.title: (p.number, p.problem_class, p.reporter_id) for p in db.session.scalars(select(Problem))}
        assert got["一"] == ("2026-0002", ProblemClass.RESERVE, net.people["K1"])
        assert got["二"] == ("2026-0003", ProblemClass.UNIT, net.people["K1"])
        assert got["三"] == ("2025-0001", ProblemClass.OFFICE, net.people["K1"])
        path.write_text("\n".join([lines[0], "U01,一,linkage,general,2026-02-01,2026-05-01,unit"]), encoding="utf-8")
        assert run_import("problems", path, "2026", "office").counts["updated"] == 1
        db.session.commit()
        assert db.session.scalar(select(Problem.problem_class).filter_by(title="一")) is ProblemClass.UNIT
        bad = tmp_path / "bad.csv"
        bad.write_text("\n".join([lines[0], "U01,四,linkage,general,2026-02-01,2026-05-01,later"]), encoding="utf-8")
        with pytest.raises(ImportFailed):
            run_import("problems", bad, "2026", "office")
        db.session.rollback()
        assert db.session.get(LedgerCounter, 2026).last == 3


def test_a_reopen_deadline_before_the_look_back_is_refused(net, ctx):
    """Is a reopened problem refused a new deadline before the look-back day (it would be overdue at once)?"""
    p = _file(net)
    ledger.close(p, "office", note="已整改", on="2026-04-01", files=[upload(PDF, "a.pdf")])
    with pytest.raises(LedgerError, match="新整改期限：2026-06-01 早于回头看日期 2026-07-01"):
        ledger.look_back(p, "office", note="反弹", on="2026-07-01", reopen=True, deadline="2026-06-01")
    assert p.state is ProblemState.CLOSED


def test_escalation_takes_only_an_escalation_step(net, ctx):
    """Is an action that is not 约谈、函告 or 通报 (a close, a comment) refused as an escalation, by name?"""
    p = _file(net)
    for action in ("close", ProblemAction.COMMENT, "bogus"):
        with pytest.raises(LedgerError, match="督办方式：请选择（约谈、函告、通报）"):
            ledger.escalate(p, "office", action, on="2026-04-02")
    ledger.escalate(p, "office", ProblemAction.LETTER, on="2026-04-02")
    assert p.steps[-1].action is ProblemAction.LETTER
