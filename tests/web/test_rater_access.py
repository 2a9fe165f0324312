"""Personal links and access codes: hashed, normalised, revocable, only while the period is open, slowed."""

import re

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import AccessKey, Participant, ParticipantKind, Period, PeriodState, SigninFailure
from assessment.services import access, throttle


def test_issued_token_and_code_are_strong_and_stored_only_as_hashes(app, city, issue_link):
    """Is the token at least 128 bits, the code 8 characters of the alphabet, and neither stored in clear?"""
    token, code = issue_link("G01")
    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # token_urlsafe(24): 192 bits
    assert len(code) == 8 and set(code) <= set(access.CODE_ALPHABET)
    with app.app_context():
        key = db.session.execute(sa.select(AccessKey)).scalar_one()
        assert key.token_hash == access.hash_token(token) and key.code_hash == access.hash_code(code)
        assert len(key.token_hash) == 64 and len(key.code_hash) == 64
        dump = " ".join(str(row) for row in db.session.execute(sa.text("SELECT * FROM access_keys")).all())
        assert token not in dump and code not in dump


@pytest.mark.parametrize("typed", ["{c}", "{lower}", "{c4} {c8}", "{c4}-{c8}", " {lower4} - {c8} ", "{c4}－{c8}"])
def test_access_code_is_read_case_insensitively_ignoring_spaces_and_hyphens(app, client, issue_link, typed):
    """Does the code open the rater's page whatever the case, spaces and hyphens?"""
    _, code = issue_link("G01")
    text = typed.format(c=code, lower=code.lower(), c4=code[:4], c8=code[4:], lower4=code[:4].lower())
    response = client.post("/r/", data={"code": text})
    assert response.status_code == 302 and response.headers["Location"].endswith("/rater/")
    assert "张镇干" in client.get("/rater/").get_data(as_text=True)


def test_malformed_and_unknown_codes_are_explained_in_chinese(client, city):
    """Does a wrong code get a plain Chinese explanation and no way in?"""
    page = client.post("/r/", data={"code": "ab"}).get_data(as_text=True)
    assert "访问码应为 8 位" in page
    page = client.post("/r/", data={"code": "2345-6789"}).get_data(as_text=True)
    assert "链接或访问码无效" in page
    assert client.get("/rater/").status_code == 302


def test_wrong_codes_are_slowed_down_per_client(app, client, issue_link):
    """After a few wrong codes, must the client wait, even with the right code, counted in the database?"""
    _, code = issue_link("G01")
    for _ in range(access.FREE_FAILURES - 1):
        assert client.post("/r/", data={"code": "2345-6789"}).status_code == 200
    page = client.post("/r/", data={"code": "2345-6789"}).get_data(as_text=True)
    assert "秒后再试" in page
    blocked = client.post("/r/", data={"code": code})
    assert blocked.status_code == 429 and "秒后再试" in blocked.get_data(as_text=True)
    other = app.test_client()  # another client (address) is not slowed
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert other.post("/r/", data={"code": code}).status_code == 302
    with app.app_context():
        rows = db.session.execute(sa.select(SigninFailure).filter_by(scope=access.THROTTLE_SCOPE)).scalars().all()
        assert [r.failures for r in rows] == [access.FREE_FAILURES]
        assert "127.0.0.1" not in rows[0].key  # only an HMAC of the address is kept


def _wrong_code(address, now):
    """The refusal of an unknown code typed from this address at this moment."""
    with pytest.raises(access.AccessError) as refused:
        access.resolve_code("2345-6789", address, now=now)
    return refused.value


def test_waits_grow_with_each_further_failure(ctx):
    """Does each wrong code past the free ones double the wait, up to the cap, and no code get checked meanwhile?"""
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    waits = []
    for _ in range(access.FREE_FAILURES + 3):
        refused = _wrong_code("10.1.1.1", now)
        assert refused.reason == "unknown"
        waits.append(refused.wait_seconds)
        now += timedelta(seconds=refused.wait_seconds)  # wait as told, then try again
    assert waits[: access.FREE_FAILURES - 1] == [0] * (access.FREE_FAILURES - 1)
    tail = waits[access.FREE_FAILURES - 1 :]
    assert tail == [access.FIRST_WAIT_SECONDS * 2**i for i in range(len(tail))]
    assert _wrong_code("10.1.1.1", now - timedelta(seconds=1)).reason == "throttled"
    assert _wrong_code("10.1.1.2", now).reason == "unknown" and _wrong_code("10.1.1.2", now).wait_seconds == 0
    throttle.clear(access.THROTTLE_SCOPE, throttle.hashed(access.THROTTLE_SCOPE, "10.1.1.1"))
    assert _wrong_code("10.1.1.1", now - timedelta(seconds=1)).reason == "unknown"


def test_link_opens_the_page_and_leaves_the_address_bar(client, issue_link):
    """Does /r/<token> start the session and redirect, so the token is not left in the address or Referer?"""
    token, _ = issue_link("G01")
    response = client.get(f"/r/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/rater/")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/rater/")
    assert page.status_code == 200 and token not in page.get_data(as_text=True)


def test_unknown_link_explains_itself(client, city):
    """Does a mistyped link say in Chinese what to do, with a 404?"""
    response = client.get("/r/" + "x" * 32)
    assert response.status_code == 404
    assert "链接或访问码无效" in response.get_data(as_text=True)


def test_reissue_revokes_the_old_link_and_a_revoked_link_explains_itself(app, client, issue_link):
    """After re-issuing, does the old link stop — also in a session already open — and say why in Chinese?"""
    old_token, old_code = issue_link("G01")
    assert client.get(f"/r/{old_token}").status_code == 302
    new_token, _ = issue_link("G01")
    page = client.get("/rater/")
    assert page.status_code == 403 and "已停用" in page.get_data(as_text=True)
    response = app.test_client().get(f"/r/{old_token}")
    assert response.status_code == 410 and "已停用" in response.get_data(as_text=True)
    assert "已停用" in app.test_client().post("/r/", data={"code": old_code}).get_data(as_text=True)
    assert app.test_client().get(f"/r/{new_token}").status_code == 302
    with app.app_context():
        keys = db.session.execute(sa.select(AccessKey).order_by(AccessKey.id)).scalars().all()
        assert [k.revoked_at is not None for k in keys] == [True, False]
        assert keys[0].revoked_by == "test"


def test_revoke_stops_a_rater(app, client, city, issue_link):
    """Does revoke() stop the link at once?"""
    token, _ = issue_link("G01")
    client.get(f"/r/{token}")
    with app.app_context():
        from assessment.models import Rater

        rater = db.session.execute(sa.select(Rater).filter_by(code="G01")).scalar_one()
        assert access.revoke([rater], db.session.get(Period, city.period_id), "office") == 1
        db.session.commit()
    assert client.get("/rater/").status_code == 403


def test_an_inactive_rater_or_participant_is_stopped(app, client, city, issue_link):
    """When the office marks a holder inactive, do the link, the code and an open session stop at once?"""
    from assessment.models import Rater

    token, code = issue_link("G01")
    assert client.get(f"/r/{token}").status_code == 302
    with app.app_context():
        db.session.execute(sa.update(Rater).where(Rater.code == "G01").values(active=False))
        informant = Participant(code="I01", name="信息员甲", kind=ParticipantKind.INFORMANT, active=False)
        db.session.add(informant)
        db.session.flush()
        p_token = access.issue([informant], db.session.get(Period, city.period_id), "office")[0].token
        db.session.commit()
    page = client.get("/rater/")
    assert page.status_code == 403 and "不在本年度" in page.get_data(as_text=True)
    assert app.test_client().get(f"/r/{token}").status_code == 410
    assert "不在本年度" in app.test_client().post("/r/", data={"code": code}).get_data(as_text=True)
    assert app.test_client().get(f"/p/{p_token}").status_code == 410


def test_a_code_typed_at_either_page_opens_its_holders_pages(app, city, issue_link):
    """Do /r/ and /p/ take any code to its holder's pages (a rater's code at /p/ also read-only after closing),
    while a link opens only the pages it was made for?"""
    token, code = issue_link("G01")
    with app.app_context():
        informant = Participant(code="I01", name="信息员甲", kind=ParticipantKind.INFORMANT)
        db.session.add(informant)
        db.session.flush()
        p_issued = access.issue([informant], db.session.get(Period, city.period_id), "office")[0]
        db.session.commit()
    rater = app.test_client()
    response = rater.post("/p/", data={"code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/rater/")
    with app.app_context():  # entering counts as a use, before any page is seen
        assert db.session.execute(sa.select(AccessKey.last_used_at).where(AccessKey.rater_id.is_not(None))).scalar()
    assert "张镇干" in rater.get("/rater/").get_data(as_text=True)
    participant = app.test_client()
    response = participant.post("/r/", data={"code": p_issued.code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/p/home")
    assert participant.get("/p/home").status_code == 200 and participant.get("/rater/").status_code == 302
    assert app.test_client().get(f"/p/{token}").status_code == 403
    _set_state(app, city.period_id, PeriodState.CLOSED)
    late = app.test_client()
    assert late.post("/p/", data={"code": code}).headers["Location"].endswith("/rater/")
    assert "已截止" in late.get("/rater/").get_data(as_text=True)


def _set_state(app, period_id, state):
    with app.app_context():
        db.session.get(Period, period_id).state = state
        db.session.commit()


def test_a_draft_period_does_not_open(app, city, issue_link):
    """Before the period opens, does the link say the evaluation has not started?"""
    token, _ = issue_link("G01")
    _set_state(app, city.period_id, PeriodState.DRAFT)
    response = app.test_client().get(f"/r/{token}")
    assert response.status_code == 403 and "尚未开始" in response.get_data(as_text=True)


def test_a_closed_period_is_read_only_and_says_so(app, rater_client, city):
    """After closing, can the rater still look, read-only, with the pages saying so, and change nothing?"""
    from tests.web.helpers import assignments_of

    client = rater_client("G01")
    aid = assignments_of(app, "G01", "grassroots")[0][0]
    _set_state(app, city.period_id, PeriodState.CLOSED)
    home = client.get("/rater/").get_data(as_text=True)
    assert "已截止" in home and "逐题评价全部单位" not in home
    page = client.get(f"/rater/unit/{aid}").get_data(as_text=True)
    assert "已截止" in page and "disabled" in page and 'value="submit"' not in page
    answer = client.post("/rater/answer", json={"assignment": aid, "question": "g01", "value": "5"})
    assert answer.status_code == 409 and "已截止" in answer.get_json()["error"]["message"]
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.g01": "5", "go": "stay"})
    submit = client.post("/rater/grassroots/submit", data={"confirm": "1"}, follow_redirects=True)
    assert "已截止" in submit.get_data(as_text=True)
    with app.app_context():
        from assessment.models import Response

        assert db.session.execute(sa.select(Response)).first() is None


def test_a_key_belongs_to_exactly_one_holder(app, city):
    """Does the database refuse a key with both a rater and a participant, or with neither?"""
    with app.app_context():
        from assessment.models import Rater

        rater = db.session.execute(sa.select(Rater).filter_by(code="G01")).scalar_one()
        informant = Participant(code="I01", name="信息员甲", kind=ParticipantKind.INFORMANT)
        db.session.add(informant)
        db.session.flush()
        for rater_id, participant_id in ((rater.id, informant.id), (None, None)):
            db.session.add(
                AccessKey(
                    period_id=city.period_id,
                    rater_id=rater_id,
                    participant_id=participant_id,
                    token_hash="t" * 64,
                    code_hash="c" * 64,
                    issued_by="test",
                )
            )
            with pytest.raises(sa.exc.IntegrityError):
                db.session.flush()
            db.session.rollback()


def test_participants_use_the_same_mechanism(app, city):
    """Can an informant be issued a key that resolves by token and code (the rater pages refuse it)?"""
    with app.app_context():
        informant = Participant(code="I01", name="信息员甲", kind=ParticipantKind.INFORMANT)
        db.session.add(informant)
        db.session.flush()
        issued = access.issue([informant], db.session.get(Period, city.period_id), "office")[0]
        assert access.resolve_token(issued.token).participant_id == informant.id
        assert access.resolve_code(access.format_code(issued.code)).holder is informant
        db.session.commit()
    response = app.test_client().get(f"/r/{issued.token}")
    assert response.status_code == 403 and "不用于填写问卷" in response.get_data(as_text=True)


def test_rater_pages_forbid_inline_script(app, rater_client):
    """Do rater pages send a CSP without inline script, and contain no inline script or style attribute?"""
    client = rater_client("G01")
    for url in ("/rater/", "/rater/grassroots/q/1", "/r/"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        html = response.get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
        assert " style=" not in html and " onclick=" not in html
        assert response.headers["Cache-Control"] == "no-store"


def test_an_hour_without_failures_forgets_the_client(ctx):
    """Does the counter start again after FAILURE_MEMORY without a wrong code?"""
    from datetime import UTC, datetime

    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    for _ in range(access.FREE_FAILURES):
        _wrong_code("10.2.2.2", start)
    assert _wrong_code("10.2.2.2", start).reason == "throttled"
    later = start + access.FAILURE_MEMORY + access.FAILURE_MEMORY
    assert _wrong_code("10.2.2.2", later).wait_seconds == 0
    assert db.session.execute(sa.select(SigninFailure.failures)).scalar_one() == 1
