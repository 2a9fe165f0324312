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
