"""Office sign-in: lock-out per account, throttle per client, same time for unknown names, real sign-out."""

import pytest
import sqlalchemy as sa

from assessment import create_app
from assessment.extensions import db
from assessment.models import AuditEntry

WRONG = "wrong-password-1"


def _post(client, username, password, address="10.0.0.1"):
    return client.post(
        "/office/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _audit(app, action):
    with app.app_context():
        return db.session.execute(
            sa.select(AuditEntry.actor, AuditEntry.object_id, AuditEntry.detail)
            .filter_by(action=action)
            .order_by(AuditEntry.id)
        ).all()


def test_account_locks_after_five_failures_from_any_client(app, client, make_user):
    """Do five wrong passwords, each from another address, lock the account even for the right password?"""
    password = make_user("clerk", role="operator")
    for n in range(4):
        page = _post(client, "clerk", WRONG, f"10.0.1.{n}").get_data(as_text=True)
        assert "用户名或密码错误" in page and "锁定" not in page
    page = _post(client, "clerk", WRONG, "10.0.1.9").get_data(as_text=True)
    assert "已被暂时锁定" in page
    response = _post(client, "clerk", password, "10.0.2.1")
    assert response.status_code == 200 and "已被暂时锁定" in response.get_data(as_text=True)
    assert client.get("/office/").status_code == 302  # not signed in
    locks = _audit(app, "user.lock")
    assert len(locks) == 1 and locks[0].detail["username"] == "clerk" and locks[0].object_id is not None


def test_an_admin_lifts_the_lock_in_the_console_and_the_cli(app, client, make_user, runner):
    """Can an admin lift a lock-out (console button, then `assessment unlock-user`), and is it audited?"""
    password = make_user("clerk", role="operator")
    make_user("boss", role="admin")
    for _ in range(5):
        _post(client, "clerk", WRONG)
    admin = app.test_client()
    assert _post(admin, "boss", "correct-horse-1", "10.9.9.9").status_code == 302
    page = admin.get("/office/users").get_data(as_text=True)
    assert "clerk" in page and "已锁定" in page
    assert admin.post("/office/users/clerk/unlock").status_code == 302
    assert "已锁定" not in admin.get("/office/users").get_data(as_text=True)
    assert _post(client, "clerk", password).status_code == 302
    assert client.post("/office/logout").status_code == 302
    for _ in range(5):
        _post(client, "clerk", WRONG, "10.0.3.3")
    result = runner.invoke(args=["unlock-user", "clerk"])
    assert result.exit_code == 0 and "unlocked" in result.output
    unknown = runner.invoke(args=["unlock-user", "nobody"])
    assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output
    assert _post(client, "clerk", password, "10.0.3.3").status_code == 302
    unlocks = _audit(app, "user.unlock")
    assert [u.actor for u in unlocks] == ["boss", "cli"]


def test_unknown_names_lock_like_real_ones(client, make_user):
    """Do an unknown name and a real one get the same answers, so lock-outs do not tell which names exist?"""
    make_user("clerk", role="operator")

    def locks(name, net):
        pages = [_post(client, name, WRONG, f"{net}.{n}").get_data(as_text=True) for n in range(6)]
        return [page.count("锁定") for page in pages]

    real, fake = locks("clerk", "10.1.0"), locks("ghost", "10.2.0")
    assert real == fake and real[-1] > 0 and real[0] == 0


def test_a_client_is_throttled_after_many_failures(app, client, make_user):
    """Does one address that fails on many names get 429 (no password checked), while others still sign in?"""
    password = make_user("clerk", role="operator")
    free = app.config["SIGNIN_CLIENT_FREE"]
    for n in range(free):
        assert _post(client, f"name{n}", WRONG, "10.5.5.5").status_code == 200
    assert _post(client, "name-last", WRONG, "10.5.5.5").status_code == 200  # counted; the wait starts
    response = _post(client, "clerk", password, "10.5.5.5")
    assert response.status_code == 429 and "秒后再试" in response.get_data(as_text=True)
    assert _post(client, "clerk", password, "10.6.6.6").status_code == 302


def test_lockout_holds_in_another_worker(app, client, make_user, database_url, tmp_path):
    """Is an account locked through one app instance (worker) also locked in another on the same database?"""
    password = make_user("clerk", role="operator")
    for _ in range(5):
        _post(client, "clerk", WRONG)
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
        }
    )
    try:
        page = _post(other.test_client(), "clerk", password, "10.7.7.7").get_data(as_text=True)
        assert "已被暂时锁定" in page
    finally:
        with other.app_context():
            db.engine.dispose()


def test_unknown_name_costs_one_hash_of_the_same_kind_as_a_wrong_password(ctx, make_user, monkeypatch):
    """Does an unknown name check one password hash of the same method and work factor as a real account's?"""
    import werkzeug.security

    from assessment.models import User
    from assessment.services import signin

    make_user("clerk", role="operator")
    real = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one().password_hash
    checked = []
    original = werkzeug.security.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash)
        return original(pwhash, password)

    monkeypatch.setattr(werkzeug.security, "check_password_hash", counting)
    assert signin.check_credentials("ghost", WRONG) is None
    assert len(checked) == 1
    method = real.split("$", 1)[0]  # e.g. scrypt:32768:8:1 — the method and its work factor
    assert method.count(":") >= 1 and checked[0].split("$", 1)[0] == method


def test_a_right_password_does_not_reset_the_client_brake(app, client, make_user):
    """Can one valid account clear its client's counter between guesses at other names? (It must not.)"""
    password = make_user("clerk", role="operator")
    free = app.config["SIGNIN_CLIENT_FREE"]
    for n in range(free):
        assert _post(client, f"name{n}", WRONG, "10.7.7.7").status_code == 200
    assert _post(client, "clerk", password, "10.7.7.7").status_code == 302
    app.test_client().post("/office/logout")
    guesser = app.test_client()
    assert _post(guesser, "name-next", WRONG, "10.7.7.7").status_code == 200  # the 11th failure: the wait starts
    assert _post(guesser, "name-after", WRONG, "10.7.7.7").status_code == 429


def test_a_deactivated_account_loses_its_open_sessions(app, client, make_user, auth):
    """When an admin deactivates an account, does a session opened before stop at the next page?"""
    from assessment.models import User

    make_user("office", role="operator")
    assert auth.login().status_code == 302
    assert client.get("/office/").status_code == 200
    with app.app_context():
        from assessment.services.signin import load_session_user

        user = db.session.execute(sa.select(User).filter_by(username="office")).scalar_one()
        session_id = user.get_id()
        user.active = False
        db.session.commit()
        assert load_session_user(session_id) is None  # whatever the pages above it check
    response = client.get("/office/")
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]


def test_signing_out_voids_a_copied_session_cookie(app, client, make_user, auth):
    """After sign-out, does a copy of the session cookie taken before it stop working?"""
    make_user("office", role="operator")
    assert auth.login().status_code == 302
    cookie = client.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/office/").status_code == 200
    assert auth.logout().status_code == 302
    response = thief.get("/office/")
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]
    assert auth.login().status_code == 302  # signing in again works, with a new session
    assert client.get("/office/").status_code == 200
    assert thief.get("/office/").status_code == 302


def test_flood_brake_answers_429(database_url, tmp_path, monkeypatch):
    """With the per-process rate limit on, does the sign-in form answer 429 to a flood from one client?"""
    monkeypatch.setenv("ASSESSMENT_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "s",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "SIGNIN_RATE_LIMIT": "3 per minute",
        }
    )
    try:
        client = app.test_client()
        codes = [_post(client, "ghost", WRONG, "10.8.8.8").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/office/login").status_code == 200  # only POST is limited
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("env, secure", [(None, True), ("false", False)])
def test_cookies_are_secure_unless_local_http(database_url, tmp_path, monkeypatch, make_user, env, secure):
    """Are session cookies Secure by default, and plain only when ASSESSMENT_SESSION_COOKIE_SECURE=false?"""
    make_user("office", role="operator")
    monkeypatch.setenv("ASSESSMENT_INSTANCE_PATH", str(tmp_path))
    if env is not None:
        monkeypatch.setenv("ASSESSMENT_SESSION_COOKIE_SECURE", env)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "s", "WTF_CSRF_ENABLED": False}
    )
    try:
        assert app.config["REMEMBER_COOKIE_SECURE"] is secure
        response = _post(app.test_client(), "office", "correct-horse-1")
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=") and "HttpOnly" in cookie
        assert ("Secure" in cookie) is secure
    finally:
        with app.app_context():
            db.engine.dispose()
