"""A rater on a phone in a real browser: personal link, matrix page, autosave (offline too), submit."""

import os

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import Assignment, Response
from assessment.services import responses
from tests.web.helpers import assignments_of, build_city, issue

SHOTS = os.environ.get("ASSESSMENT_SCREENSHOTS")
#: Names of inputs that neither sit in a <label> nor have one pointing at them.
UNLABELED = """() => [...document.querySelectorAll('input:not([type=hidden])')]
    .filter(i => !i.closest('label') && !(i.id && document.querySelector(`label[for="${i.id}"]`)))
    .map(i => i.name)"""


def _shot(page, name, full_page=False):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=full_page)


def _leaf_n(app, unit_code, leaf="grassroots_territorial"):
    """Score the period and return the leaf's sample size for the unit (0 when the leaf has no answer)."""
    from assessment.services.scoring import score_period

    with app.app_context():
        run = score_period("2026", actor="test")
        db.session.commit()
        row = next(r for r in run.result.rows if r.unit_code == unit_code)
        return (row.leaves.get(leaf) or {}).get("n") or 0


def _others_submit(app, codes):
    with app.app_context():
        for code in codes:
            for aid, *_ in assignments_of(app, code, "grassroots"):
                a = db.session.get(Assignment, aid)
                responses.save_draft(a, {f"g{q:02d}": str(2 + (q + aid) % 4) for q in range(1, 17)})
                responses.submit(a)
        db.session.commit()


def _saved(page, aid, question="g01"):
    page.wait_for_selector(f'.answer.saved[data-assignment="{aid}"][data-question="{question}"]', timeout=10000)


#: The name of the page's answer queue in localStorage (one queue per access key, rater.js).
QUEUE = "'assessment-rater-queue-v2-' + document.body.dataset.key"
QUEUED = f"Object.keys(JSON.parse(localStorage.getItem({QUEUE}) || '{{}}')).length"


def test_rater_fills_a_matrix_on_a_phone_and_submits_once(app, live_server, page):
    """At 390 px: link, matrix answers kept over reload and offline, one submission, answers reach scoring?"""
    app.config["WTF_CSRF_ENABLED"] = True
    period_id = build_city(app, extra_grassroots=5)
    _others_submit(app, [f"G{n:02d}" for n in range(2, 8)])
    before = _leaf_n(app, "U01")
    token, _ = issue(app, period_id, "G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]

    page.goto(f"{live_server}/r/")
    assert page.locator("label[for=code]").inner_text() == "访问码"
    _shot(page, "rater-code-390")
    page.goto(f"{live_server}/r/{token}")
    assert page.url.endswith("/rater/")
    assert "张镇干" in page.locator("h1").inner_text()
    assert page.locator(".targets li").count() == 4
    _shot(page, "rater-home-390", full_page=True)

    page.click("text=逐题评价全部单位")
    assert "第 1 / 16 题" in page.locator("h1").inner_text()
    for n, aid in enumerate(ids):
        page.locator(f'[data-assignment="{aid}"] label.opt-{5 - n}').click()
        _saved(page, aid)
    assert page.locator("[data-count-answered]").first.inner_text() == "4"
    assert page.evaluate("document.body.dataset.key")  # the queue below is this key's
    assert page.evaluate(QUEUED) == 0
    _shot(page, "rater-matrix-390")

    page.reload()
    for n, aid in enumerate(ids):
        assert page.locator(f'input[name="a{aid}.g01"][value="{5 - n}"]').is_checked()

    # The network drops: the answer waits in the browser and is sent when the network returns.
    page.click("button[value=next]")
    assert "第 2 / 16 题" in page.locator("h1").inner_text()
    page.context.set_offline(True)
    page.locator(f'[data-assignment="{ids[0]}"] label.opt-na').click()
    page.wait_for_selector(f'.answer.queued[data-assignment="{ids[0]}"]')
    assert page.locator("#net-status").is_visible() and "暂存在本机" in page.locator("#net-status").inner_text()
    page.context.set_offline(False)
    _saved(page, ids[0], "g02")
    with app.app_context():
        draft = db.session.execute(sa.select(Response).filter_by(assignment_id=ids[0])).scalar_one().draft
        assert draft == {"g01": 5.0, "g02": None}

    page.goto(f"{live_server}/rater/grassroots/submit")
    assert "以下单位还有题目未作答" in page.content()
    _shot(page, "rater-submit-390", full_page=True)
    page.click("button:has-text('确认提交')")
    assert "我已确认" in page.locator(".errors").inner_text()  # the tick is needed
    page.check("input[name=confirm]")
    page.click("button:has-text('确认提交')")
    page.wait_for_url(f"{live_server}/rater/")
    assert "已提交 4 份问卷" in page.content()
    assert page.locator(".targets .state-submitted").count() == 4
    _shot(page, "rater-home-submitted-390")

    page.goto(f"{live_server}/rater/grassroots/submit")
    assert "无需重复提交" in page.content()
    page.goto(f"{live_server}/rater/grassroots/q/1")
    assert page.locator(f'input[name="a{ids[0]}.g01"]').first.is_disabled()

    after = _leaf_n(app, "U01")
    assert after == before + 1


def test_answers_queued_before_the_per_key_queue_are_sent_once_and_the_old_queue_goes(app, live_server, page):
    """Is an answer left in the old browser-wide queue (v1, before queues belonged to a key) sent under this
    rater's session and stored, while another rater's queued answer is refused and dropped, and v1 removed?"""
    period_id = build_city(app, extra_grassroots=1)
    token, _ = issue(app, period_id, "G01")
    mine = assignments_of(app, "G01", "grassroots")[0][0]
    theirs = assignments_of(app, "G02", "grassroots")[0][0]
    page.goto(f"{live_server}/r/{token}")
    old = {
        f"{mine}:g03": {"a": mine, "q": "g03", "v": "4", "t": 1},
        f"{theirs}:g03": {"a": theirs, "q": "g03", "v": "1", "t": 1},
    }
    page.evaluate("q => localStorage.setItem('assessment-rater-queue-v1', JSON.stringify(q))", old)
    page.goto(f"{live_server}/rater/grassroots/q/3")
    for _ in range(100):  # page.evaluate, not wait_for_function: its polling evaluates strings, which CSP forbids
        if page.evaluate(QUEUED) == 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(QUEUED) == 0
    assert page.evaluate("localStorage.getItem('assessment-rater-queue-v1')") is None
    with app.app_context():
        drafts = dict(db.session.execute(sa.select(Response.assignment_id, Response.draft)).all())
    assert drafts[mine] == {"g03": 4.0}
    assert theirs not in drafts or "g03" not in (drafts[theirs] or {})


def test_screens_of_the_single_unit_page_and_wide_screens(app, live_server, browser):
    """Do the home, matrix and single-unit pages render at 390 and 1280 px with every control labelled?"""
    period_id = build_city(app)
    token, _ = issue(app, period_id, "E01")
    expert = assignments_of(app, "E01", "expert")[0][0]
    g_token, _ = issue(app, period_id, "G01")
    for width in (390, 1280):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server}/r/{token}")
        page.goto(f"{live_server}/rater/unit/{expert}")
        assert page.locator('input[type="number"]').count() == 2
        unlabeled = page.evaluate(UNLABELED)
        assert unlabeled == []
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
        _shot(page, f"rater-unit-{width}", full_page=True)
        page.goto(f"{live_server}/r/{g_token}")
        _shot(page, f"rater-home-{width}" if width != 390 else "rater-home-390-empty")
        page.goto(f"{live_server}/rater/grassroots/q/1")
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        _shot(page, f"rater-matrix-{width}" if width != 390 else "rater-matrix-390-empty")
        context.close()


def test_answers_kept_offline_survive_a_lost_session_and_leave_with_exit(app, live_server, page):
    """Does an answer queued offline stay through a lost session (401, the code page) and go with 退出?"""
    app.config["WTF_CSRF_ENABLED"] = True
    period_id = build_city(app)
    token, code = issue(app, period_id, "G01")
    aid = [i for i, *_ in assignments_of(app, "G01", "grassroots")][0]
    page.goto(f"{live_server}/r/{token}")
    page.goto(f"{live_server}/rater/grassroots/q/1")
    queue = page.evaluate(QUEUE)

    page.context.set_offline(True)
    page.locator(f'[data-assignment="{aid}"] label.opt-4').click()
    page.wait_for_selector(f'.answer.queued[data-assignment="{aid}"]')
    # The phone kills the browser, and its session cookie with it; the network returns: the answer gets a 401.
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('net-status').textContent.includes('尚未保存')")
    assert page.evaluate(f"Object.keys(JSON.parse(localStorage.getItem('{queue}') || '{{}}')).length") == 1

    # The rater types the code: the code page sends nothing, the rater's home sends the kept answer.
    page.goto(f"{live_server}/r/")
    assert page.evaluate("document.body.dataset.key") is None
    page.fill("#code", code)
    page.click("button:has-text('进入问卷')")
    page.wait_for_url(f"{live_server}/rater/")
    page.wait_for_function(f"() => !Object.keys(JSON.parse(localStorage.getItem('{queue}') || '{{}}')).length")
    with app.app_context():
        draft = db.session.execute(sa.select(Response).filter_by(assignment_id=aid)).scalar_one().draft
        assert draft == {"g01": 4.0}

    # On a shared PC the next person must not find (or send) this rater's unsent answers.
    page.goto(f"{live_server}/rater/grassroots/q/1")
    page.context.set_offline(True)
    page.locator(f'[data-assignment="{aid}"] label.opt-2').click()
    page.wait_for_selector(f'.answer.queued[data-assignment="{aid}"]')
    page.context.set_offline(False)
    page.route("**/rater/answer", lambda route: route.abort())  # keep it unsent until 退出
    page.click("button:has-text('退出')")
    page.wait_for_url(f"{live_server}/r/")
    assert page.evaluate(f"localStorage.getItem('{queue}')") is None
