"""Ledger numbers under concurrent filing: parallel sessions, each filing and committing (or rolling back)."""

import threading

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Period, Problem
from assessment.services import ledger
from assessment.services.ledger import ProblemInput

WORKERS = 6
EACH = 5


def test_concurrent_filings_number_without_gaps(net, app):
    """Do six sessions filing at once get 2026-0001 … 2026-00NN, no gap and no repeat, rollbacks included?"""
    barrier = threading.Barrier(WORKERS)
    errors = []

    def worker(n):
        try:
            with app.app_context():
                period = db.session.scalar(select(Period).filter_by(name="2026"))
                barrier.wait(timeout=30)
                for i in range(EACH):
                    data = ProblemInput(unit_id=net.units["U01"], title=f"问题{n}-{i}", found_on="2026-05-01")
                    ledger.file_problem(period, data, f"worker{n}")
                    if i == 2:
                        db.session.rollback()  # an abandoned filing gives its number back
                    else:
                        db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with app.app_context():
        seqs = sorted(db.session.scalars(select(Problem.seq).where(Problem.year == 2026)))
        titles = set(db.session.scalars(select(Problem.title)))
    assert seqs == list(range(1, WORKERS * (EACH - 1) + 1))
    assert len(titles) == WORKERS * (EACH - 1)


def test_concurrent_filings_through_the_console(net, app, live_server):
    """Do parallel office requests against a running server take consecutive numbers, none twice?"""
    import requests

    def login():
        s = requests.Session()
        s.post(f"{live_server}/office/login", data={"username": "office", "password": "correct-horse-1"})
        return s

    sessions = [login() for _ in range(4)]
    barrier = threading.Barrier(len(sessions))
    statuses = []

    def worker(n, s):
        barrier.wait(timeout=30)
        for i in range(4):
            r = s.post(
                f"{live_server}/office/ledger/new",
                data={
                    "unit_id": str(net.units["U02"]),
                    "title": f"并发{n}-{i}",
                    "severity": "general",
                    "source": "supervision",
                    "problem_class": "unit",
                    "found_on": "2026-05-01",
                    "deadline": "",
                },
                allow_redirects=False,
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=worker, args=(n, s)) for n, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [302] * 16
    with app.app_context():
        seqs = sorted(db.session.scalars(select(Problem.seq)))
    assert seqs == list(range(1, 17))


def _period():
    return db.session.scalar(select(Period).filter_by(name="2026"))


def test_a_duplicate_filing_racing_the_first_is_refused_not_a_500(net, app):
    """When a second session files the same unit, title and day while the first has written but not yet
    committed, is the second refused with the duplicate message (not an IntegrityError), one problem kept?"""
    import pytest

    filed, outcome = threading.Event(), {}

    def first():
        with app.app_context():
            ledger.file_problem(
                _period(), ProblemInput(unit_id=net.units["U01"], title="双击", found_on="2026-05-01"), "a"
            )
            filed.set()
            threading.Event().wait(0.5)  # the second has passed its check and waits on the write lock
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    assert filed.wait(timeout=30)
    with app.app_context():
        with pytest.raises(ledger.LedgerError) as refused:
            ledger.file_problem(
                _period(), ProblemInput(unit_id=net.units["U01"], title="双击", found_on="2026-05-01"), "b"
            )
        outcome["message"] = refused.value.message_zh
        db.session.rollback()
    thread.join(timeout=60)
    assert outcome["message"] == ledger.DUPLICATE_ZH
    with app.app_context():
        assert list(db.session.scalars(select(Problem.seq).where(Problem.title == "双击"))) == [1]


def test_double_submit_through_the_console_is_one_302_and_one_400(net, app, live_server):
    """Do two sessions posting the same problem at once get one 302 and one 400, with one problem stored?"""
    import requests

    def login():
        s = requests.Session()
        s.post(f"{live_server}/office/login", data={"username": "office", "password": "correct-horse-1"})
        return s

    sessions = [login() for _ in range(2)]
    barrier = threading.Barrier(2)
    statuses = []
    form = {"unit_id": str(net.units["U02"]), "title": "重复提交", "severity": "general", "found_on": "2026-05-01"}

    def worker(s):
        barrier.wait(timeout=30)
        statuses.append(s.post(f"{live_server}/office/ledger/new", data=form, allow_redirects=False).status_code)

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [302, 400]
    with app.app_context():
        assert list(db.session.scalars(select(Problem.seq))) == [1]


def _behind_the_session(sql, **params):
    """Another clerk's committed write, on its own connection, after this session has read the row."""
    from sqlalchemy import text

    with db.engine.begin() as other:
        other.execute(text(sql), params)


def _suggestion(app, net, status="pending"):
    from assessment.models import Suggestion, SuggestionKind, SuggestionStatus

    with app.app_context():
        s = Suggestion(
            period_id=net.period,
            participant_id=net.people["I1"],
            unit_id=net.units["U01"],
            kind=SuggestionKind.REPORT,
            text="窗口午休无人",
            status=SuggestionStatus(status),
        )
        db.session.add(s)
        db.session.commit()
        return s.id


def test_a_screening_from_a_stale_read_is_refused(net, app):
    """When another clerk screened the suggestion after this page read it, is this screening refused and the
    first verdict kept?"""
    import pytest

    from assessment.models import Suggestion, SuggestionStatus
    from assessment.services import network

    sid = _suggestion(app, net)
    with app.app_context():
        stale = db.session.get(Suggestion, sid)
        assert stale.status is SuggestionStatus.PENDING
        _behind_the_session("UPDATE suggestions SET status = 'invalid', screen_note = '重复' WHERE id = :id", id=sid)
        with pytest.raises(ledger.LedgerError, match="不能重复甄别"):
            network.screen(stale, "second", valid=True, note=None)
        db.session.rollback()
        kept = db.session.get(Suggestion, sid)
        assert kept.status is SuggestionStatus.INVALID and kept.screened_by is None


def test_a_conversion_from_a_stale_read_is_refused_and_files_nothing(net, app):
    """When another clerk turned the suggestion into a problem after this page read it, is this conversion
    refused, its problem rolled back, and the first link kept?"""
    import pytest

    from assessment.models import Suggestion
    from assessment.services import network

    sid = _suggestion(app, net, status="valid")
    with app.app_context():
        first = ledger.file_problem(_period(), ProblemInput(unit_id=net.units["U01"], title="第一位转办"), "first")
        db.session.commit()
        first_id = first.id
        stale = db.session.get(Suggestion, sid)
        assert stale.problem_id is None
        _behind_the_session("UPDATE suggestions SET problem_id = :p WHERE id = :id", p=first_id, id=sid)
        with pytest.raises(ledger.LedgerError, match="不能重复转办"):
            network.to_problem(stale, "second", ProblemInput(unit_id=net.units["U01"], title="第二位转办"))
        db.session.rollback()
        assert db.session.get(Suggestion, sid).problem_id == first_id
        assert list(db.session.scalars(select(Problem.title))) == ["第一位转办"]


def test_a_close_from_a_stale_read_is_refused(net, app):
    """When another clerk closed the problem after this page read it, is this close refused, with one CLOSE step
    recorded, not two?"""
    import io

    import pytest
    from werkzeug.datastructures import FileStorage

    from assessment.models import ProblemAction, ProblemStep
    from tests.network.helpers import PDF

    with app.app_context():
        problem = ledger.file_problem(_period(), ProblemInput(unit_id=net.units["U01"], title="双人销号"), "office")
        ledger.push(problem, "office")
        db.session.commit()
        ledger.close(problem, "first", note="同意", files=[FileStorage(io.BytesIO(PDF), "a.pdf")])
        db.session.commit()
        pid = problem.id
        # The second clerk's page read the problem before the first close: its version is the old one.
        db.session.expire_all()
        stale = db.session.get(Problem, pid)
        from sqlalchemy.orm.attributes import set_committed_value

        from assessment.models import ProblemState

        set_committed_value(stale, "state", ProblemState.RECTIFYING)
        set_committed_value(stale, "version", stale.version - 1)
        with pytest.raises(ledger.LedgerError) as refused:
            ledger.close(stale, "second", note="同意", files=[FileStorage(io.BytesIO(PDF), "b.pdf")])
        assert refused.value.message_zh == ledger.STALE_ZH
        db.session.rollback()
        closes = db.session.scalars(
            select(ProblemStep).where(ProblemStep.problem_id == pid, ProblemStep.action == ProblemAction.CLOSE)
        ).all()
        assert [s.actor for s in closes] == ["first"]
