"""Against a running server: concurrent submits store exactly one version; concurrent saves lose no answer."""

import http.cookiejar
import json
import threading
import urllib.parse
import urllib.request
from collections import Counter

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import Response, ResponseVersion
from tests.web.helpers import assignments_of


def _opener(base, token):
    """A browser of its own (cookie jar) inside the rater's pages."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/r/{token}", timeout=60) as response:
        assert response.status == 200
    return opener


def _race(n, work):
    """Run work(i) in n threads started together; returns their results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def test_concurrent_submits_store_exactly_one_version(app, city, live_server, issue_link):
    """Do 8 tabs/devices submitting the same questionnaire at once store one version per assignment, once?"""
    token, _ = issue_link("G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    openers = [_opener(live_server, token) for _ in range(8)]
    first = openers[0]
    request = urllib.request.Request(
        f"{live_server}/rater/answer",
        method="POST",
        data=json.dumps({"assignment": ids[0], "question": "g01", "value": "5"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with first.open(request, timeout=60) as response:
        assert response.status == 200

    def submit(i):
        body = urllib.parse.urlencode({"confirm": "1"}).encode()
        with openers[i].open(f"{live_server}/rater/grassroots/submit", data=body, timeout=60) as response:
            return response.status, response.read().decode()

    results = _race(8, submit)
    assert all(not isinstance(r, Exception) for r in results), results
    assert all(status == 200 for status, _ in results)
    pages = Counter(
        "已提交 4 份" if "已提交 4 份" in page else "无需重复提交" if "无需重复提交" in page else page[:300]
        for _, page in results
    )
    assert pages == Counter({"已提交 4 份": 1, "无需重复提交": 7})
    with app.app_context():
        versions = db.session.execute(
            sa.select(Response.assignment_id, ResponseVersion.version).join(
                ResponseVersion, ResponseVersion.response_id == Response.id
            )
        ).all()
        assert sorted(versions) == sorted((i, 1) for i in ids)
        first_answer = (
            db.session.execute(sa.select(Response).filter_by(assignment_id=ids[0])).scalar_one().versions[0].answers
        )
        assert {a.question: a.value for a in first_answer}["g01"] == 5.0


def test_concurrent_answers_to_one_questionnaire_are_all_kept(app, city, live_server, issue_link):
    """Do 16 answers saved at the same moment (two tabs, a phone coming back online) all reach the draft?"""
    token, _ = issue_link("G01")
    aid = assignments_of(app, "G01", "grassroots")[0][0]
    openers = [_opener(live_server, token) for _ in range(4)]

    def save(i):
        body = json.dumps({"assignment": aid, "question": f"g{i + 1:02d}", "value": str(1 + i % 5)}).encode()
        request = urllib.request.Request(
            f"{live_server}/rater/answer",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with openers[i % 4].open(request, timeout=60) as response:
            return response.status

    results = _race(16, save)
    assert results == [200] * 16
    with app.app_context():
        draft = db.session.execute(sa.select(Response).filter_by(assignment_id=aid)).scalar_one().draft
        assert draft == {f"g{i + 1:02d}": float(1 + i % 5) for i in range(16)}
