"""Imports of the ledger kinds: check points, problems, bonuses and institution scores."""

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointStatus, InstitutionScore, Problem, ProblemState
from assessment.models.ledger import LedgerCounter, ProblemAction, ProblemStep
from tests.services.imports.helpers import failed, imported


def test_checkpoints_good_reimport_and_bad(city, tmp_path):
    """Do check points upsert on (period, unit, item), and are bad dates, statuses and units reported?"""
    lines = [
        "unit_code,item,due,status",
        "U01,项目审批提速,2026-06-30,on_time",
        "U02,干部培训,2026/9/30,late",
    ]
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    lines[2] = "U02,干部培训,2026-09-30,not_done"
    assert imported("checkpoints", tmp_path, lines).counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert db.session.execute(select(CheckPoint.status).filter_by(item="干部培训")).scalar_one() is (
        CheckPointStatus.NOT_DONE
    )
    assert failed(
        "checkpoints",
        tmp_path,
        [
            "unit_code,item,due,status",
            "U01,a,2026-02-30,on_time",
            "U09,b,2026-03-01,done",
            "U01,a,2026-03-01,late",
        ],
    ) == [
        "line 2, column due: '2026-02-30' is not a date (YYYY-MM-DD)",
        "line 3, column status: 'done' is not one of: on_time / late / not_done / waived",
        "line 3, column unit_code: unknown unit code 'U09'",
    ]


def test_checkpoints_are_per_period(city, tmp_path):
    """Does the same item in another period make a new check point?"""
    lines = ["unit_code,item,due,status", "U01,项目审批提速,2026-06-30,on_time"]
    imported("checkpoints", tmp_path, lines)
    assert imported("checkpoints", tmp_path, lines, period="2027").counts["created"] == 1


PROBLEMS_HEADER = "unit_code,title,source,severity,found_on,deadline,closed_on,category,responsible"


def test_problems_good_reimport_and_bad(city, tmp_path):
    """Do problems upsert on (period, unit, title, found_on), closing them when closed_on is given?"""
    lines = [
        PROBLEMS_HEADER,
        "U01,审批超时,audit,serious,2026-02-01,2026-05-01,,流程,张科长",
        "U02,台账不全,linkage,general,2026-03-01,2026-04-01,2026-03-20,,",
    ]
    assert imported("problems", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("problems", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    states = dict(db.session.execute(select(Problem.title, Problem.state)).all())
    assert states == {"审批超时": ProblemState.OPEN, "台账不全": ProblemState.CLOSED}
    lines[1] = "U01,审批超时,audit,serious,2026-02-01,2026-05-01,2026-04-15,流程,张科长"
    assert imported("problems", tmp_path, lines).counts == {"created": 0, "updated": 1, "unchanged": 1}
    assert db.session.execute(select(Problem.state).filter_by(title="审批超时")).scalar_one() is ProblemState.CLOSED
    assert _history() == {
        "审批超时": [(ProblemAction.FILE, ProblemState.OPEN), (ProblemAction.CLOSE, ProblemState.CLOSED)],
        "台账不全": [(ProblemAction.FILE, ProblemState.OPEN), (ProblemAction.CLOSE, ProblemState.CLOSED)],
    }
    assert failed(
        "problems",
        tmp_path,
        [
            PROBLEMS_HEADER,
            "U01,a,audit,general,2026-02-01,2026-01-01,,,",
            "U01,b,audit,general,2026-02-01,2026-03-01,2026-01-15,,",
            "U01,c,rumour,minor,2026-02-01,2026-03-01,,,",
        ],
    ) == [
        "line 2, column deadline: deadline 2026-01-01 is before found_on 2026-02-01",
        "line 3, column closed_on: closed_on 2026-01-15 is before found_on 2026-02-01",
        "line 4, column severity: 'minor' is not one of: general / serious / grave",
        (
            "line 4, column source: 'rumour' is not one of: supervision / linkage / informant / expert / "
            "evaluation / audit / inspection / petition / other"
        ),
    ]


def _history():
    """title -> [(action, state after)] of every problem's steps, in order."""
    rows = db.session.execute(
        select(Problem.title, ProblemStep.action, ProblemStep.state_after)
        .join(ProblemStep, ProblemStep.problem_id == Problem.id)
        .order_by(ProblemStep.id)
    )
    history = {}
    for title, action, state in rows:
        history.setdefault(title, []).append((action, state))
    return history


def test_problems_are_numbered_per_year_in_file_order(city, tmp_path):
    """Do imported problems take consecutive ledger numbers of their own year, in file order, once each?"""
    lines = [
        PROBLEMS_HEADER,
        "U01,甲,audit,general,2026-02-01,2026-05-01,,,",
        "U01,乙,audit,general,2025-12-01,2026-05-01,,,",
        "U02,丙,audit,general,2026-03-01,2026-05-01,,,",
    ]
    imported("problems", tmp_path, lines)
    numbers = dict(db.session.execute(select(Problem.title, Problem.year * 10000 + Problem.seq)).all())
    counters = dict(db.session.execute(select(LedgerCounter.year, LedgerCounter.last)).all())
    first_2026 = numbers["甲"] - 20260000
    assert numbers == {"甲": 20260000 + first_2026, "乙": numbers["乙"], "丙": 20260000 + first_2026 + 1}
    assert numbers["乙"] == 20250000 + counters[2025]
    assert counters[2026] == first_2026 + 1


def test_problems_import_does_not_reopen_a_closed_problem(city, tmp_path):
    """Is a blank closed_on on a problem closed in the ledger a row error, the problem staying closed?"""
    lines = [PROBLEMS_HEADER, "U01,审批超时,audit,serious,2026-02-01,2026-05-01,2026-03-01,,"]
    imported("problems", tmp_path, lines)
    lines[1] = "U01,审批超时,audit,serious,2026-02-01,2026-05-01,,,"
    errors = failed("problems", tmp_path, lines)
    assert errors == [
        "line 2, column closed_on: problem '审批超时' is closed in the ledger: an import cannot reopen it, "
        "use the look-back"
    ]
    problem = db.session.execute(select(Problem)).scalar_one()
    assert problem.state is ProblemState.CLOSED and str(problem.closed_on) == "2026-03-01"
    assert _history() == {
        "审批超时": [(ProblemAction.FILE, ProblemState.OPEN), (ProblemAction.CLOSE, ProblemState.CLOSED)]
    }


def test_bonuses_good_reimport_and_bad(city, tmp_path):
    """Do bonus items upsert on (period, unit, reason), with points above 0 and at most 100?"""
    lines = ["unit_code,reason,points", "U01,改革创新,1.5", "U02,经验推广,2"]
    assert imported("bonuses", tmp_path, lines).counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert imported("bonuses", tmp_path, lines).counts == {"created": 0, "updated": 0, "unchanged": 2}
    assert failed("bonuses", tmp_path, ["unit_code,reason,points", "U01,a,0", "U01,b,abc", "U01,c,1", "U01,c,2"]) == [
        "line 2, column points: '0' must be more than 0 and at most 100",
        "line 3, column points: 'abc' is not a number",
        "line 5, column reason: bonus reason 'c' of this unit appears twice in the file (first on line 4)",
    ]


def test_institution_scores_good_reimport_and_bad(city, tmp_path):
    """Do appraisal scores upsert on (period, unit), within 0-100?"""
    lines = ["unit_code,score", "U03,92.5"]
    assert imported("institution_scores", tmp_path, lines).counts == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
    }
    assert imported("institution_scores", tmp_path, lines).counts == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
    }
    assert imported("institution_scores", tmp_path, ["unit_code,score", "U03,88"]).counts["updated"] == 1
    assert db.session.execute(select(InstitutionScore.score)).scalar_one() == 88
    assert failed("institution_scores", tmp_path, ["unit_code,score", "U01,101", "U02,50", "U02,60"]) == [
        "line 2, column score: '101' is not between 0 and 100",
        "line 4, column unit_code: unit 'U02' appears twice in the file (first on line 3)",
    ]
