"""The ratings post answered beneath Flask (api/hot_path.py): the same answers, headers and storing as Flask's view."""

import io
import json

import pytest

from assessment import create_app
from assessment.extensions import db
from assessment.models import PublicRating
from tests.api.helpers import rating, spy_returns


@pytest.fixture
def flask_view_calls(app, monkeypatch):
    """Count the calls of Flask's view of POST /api/v1/ratings (the requests the hot path left to Flask)."""
    calls = []
    real = app.view_functions["api.post_ratings"]

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "api.post_ratings", counted)
    return calls


def _stored(app):
    with app.app_context():
        return sorted(db.session.scalars(db.select(PublicRating.event_id)))


def _headers(response):
    return {k: v for k, v in response.headers.items() if k not in ("Content-Length", "Date")}


def test_a_plain_post_is_answered_before_flask_with_flasks_headers(app, make_device, post, flask_view_calls):
    """Is a plain single post stored once and answered 200 without Flask's view, with the headers Flask gives?"""
    _, key = make_device()
    fast = post(key, rating("h1"))
    assert fast.status_code == 200 and flask_view_calls == []
    assert json.loads(fast.data)["accepted"] == 1
    assert post(key, rating("h1")).get_json()["duplicate"] == 1  # a retry: stored once
    hot_path = app.wsgi_app
    app.wsgi_app = hot_path.flask_wsgi  # Flask alone, as before the hot path
    try:
        slow = post(key, rating("h2"))
    finally:
        app.wsgi_app = hot_path
    assert slow.status_code == 200 and flask_view_calls == [1]
    assert _headers(fast) == _headers(slow)
    assert fast.headers["Content-Security-Policy"] and fast.headers["Cache-Control"] == "no-store"
    assert int(fast.headers["Content-Length"]) == len(fast.data)
    assert _stored(app) == ["h1", "h2"]


@pytest.mark.parametrize(
    ("key", "body", "status", "code"),
    [
        (None, rating("x1"), 401, "missing_key"),
        ("k" * 40, rating("x1"), 401, "invalid_key"),
        ("good", b"{not json", 400, "invalid_json"),
        ("good", [], 400, "invalid_body"),
    ],
)
def test_anything_but_a_200_is_left_to_flasks_view(app, make_device, post, flask_view_calls, key, body, status, code):
    """Are a missing or wrong key and a body that is not a rating answered by Flask's view, as before?"""
    _, good = make_device()
    response = post(good if key == "good" else key, body)
    assert response.status_code == status and flask_view_calls == [1]
    assert response.get_json()["error"]["code"] == code
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="ratings"'
    assert _stored(app) == []


def test_a_body_without_a_length_or_too_large_goes_to_flask(app, make_device, client, flask_view_calls):
    """Are a body sent without Content-Length (chunked) and one over the limit answered by Flask's view?"""
    _, key = make_device()
    app.config["API_MAX_BODY_BYTES"] = 300
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    big = json.dumps({"ratings": [rating(f"b{i}") for i in range(10)]})
    assert client.post("/api/v1/ratings", data=big, headers=headers).status_code == 413
    chunked = client.post(
        "/api/v1/ratings",
        input_stream=io.BytesIO(json.dumps(rating("c1")).encode()),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn gives a chunked body
    )
    assert chunked.status_code == 200 and chunked.get_json()["accepted"] == 1
    assert flask_view_calls == [1, 1]
    assert _stored(app) == ["c1"]


def test_an_error_while_storing_is_answered_by_flasks_error_handling(app, make_device, post, monkeypatch, caplog):
    """Does an exception while storing give the API's JSON 500 with the usual headers, logged, as in Flask?"""
    from assessment.services.ratings import unit_of_work

    _, key = make_device()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(device, ratings):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(unit_of_work, "submit", broken)
    response = post(key, rating("e1"))
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_server_error"
    assert "disk on fire" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Content-Security-Policy"]
    assert any("disk on fire" in str(record.exc_info) for record in caplog.records if record.exc_info)


def test_behind_a_proxy_the_hot_path_sees_https(app, make_device, client, tmp_path, monkeypatch, flask_view_calls):
    """Is the hot path beneath the proxy fix, so that its 200 behind an https proxy has Flask's https headers?"""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from assessment.api.hot_path import RatingsHotPath

    monkeypatch.setenv("ASSESSMENT_INSTANCE_PATH", str(tmp_path))
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PROXY_FIX_X_FOR": 1})
    assert isinstance(proxied.wsgi_app, ProxyFix) and isinstance(proxied.wsgi_app.app, RatingsHotPath)

    _, key = make_device()
    hot_path = app.wsgi_app
    headers = {"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
    app.wsgi_app = ProxyFix(hot_path, x_for=1, x_proto=1)  # as create_app puts it, on this test's database
    fast = client.post("/api/v1/ratings", data=json.dumps(rating("s1")), headers=headers)
    plain = client.post("/api/v1/ratings", data=json.dumps(rating("s2")), headers={"Authorization": f"Bearer {key}"})
    assert fast.status_code == plain.status_code == 200 and flask_view_calls == []
    app.wsgi_app = ProxyFix(hot_path.flask_wsgi, x_for=1, x_proto=1)  # Flask alone
    slow = client.post("/api/v1/ratings", data=json.dumps(rating("s3")), headers=headers)
    assert slow.status_code == 200 and flask_view_calls == [1]
    assert fast.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers
    assert _headers(fast) == _headers(slow)
    app.wsgi_app = ProxyFix(hot_path, x_for=1, x_proto=1)
    wss = {**headers, "X-Forwarded-Proto": "wss"}
    websocket = client.post("/api/v1/ratings", data=json.dumps(rating("s4")), headers=wss)
    assert websocket.status_code == 400 and flask_view_calls == [1]  # Flask's answer: not a websocket route
    assert _stored(app) == ["s1", "s2", "s3"]


def test_a_batch_over_the_rate_is_refused_once(app, make_device, post, flask_view_calls):
    """Is a batch that costs more tokens than are left answered 429 by Flask, leaving the tokens for a single?"""
    app.config.update(API_RATE_PER_SECOND=0.001, API_RATE_BURST=3)
    _, key = make_device()
    assert post(key, rating("t1")).status_code == 200  # 2 tokens left
    batch = post(key, {"ratings": [rating(f"b{i}") for i in range(300)]})  # costs 3
    assert batch.status_code == 429 and batch.get_json()["error"]["code"] == "rate_limited"
    assert flask_view_calls == [1]
    assert [post(key, rating(f"t{i}")).status_code for i in (2, 3, 4)] == [200, 200, 429]
    assert _stored(app) == ["t1", "t2", "t3"]


@pytest.mark.parametrize("declared", ["+{n}", "{tens}_{ones}", "-1", ""])
def test_a_length_werkzeug_would_not_take_goes_to_flask(app, make_device, client, flask_view_calls, declared):
    """Is a Content-Length that Werkzeug does not take (even one Python's int() reads as the body's length) left
    to Flask, which then reads no body (400), nothing stored?"""
    _, key = make_device()
    body = json.dumps(rating("l1"))
    length = declared.format(n=len(body), tens=len(body) // 10, ones=len(body) % 10)
    response = client.post(
        "/api/v1/ratings",
        data=body,
        headers={"Authorization": f"Bearer {key}"},
        environ_overrides={"CONTENT_LENGTH": length},
    )
    assert response.status_code == 400 and flask_view_calls == [1]
    assert _stored(app) == []


def test_flasks_own_limits_and_host_check_still_hold(app, make_device, post, flask_view_calls):
    """Do MAX_CONTENT_LENGTH below the API's limit and TRUSTED_HOSTS still refuse, as Flask does?"""
    _, key = make_device()
    app.config["MAX_CONTENT_LENGTH"] = 50
    assert post(key, rating("m1")).status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    app.config["TRUSTED_HOSTS"] = ["assess.example"]
    assert post(key, rating("m2")).status_code == 400  # the test client's host is localhost
    assert post(key, rating("m3"), headers={"Host": "assess.example"}).status_code == 200
    assert flask_view_calls == [1, 1]  # the refused host never reaches a view
    assert _stored(app) == ["m3"]


def test_the_hooks_that_apply_to_the_route_are_the_known_exempt_ones(tmp_path, monkeypatch):
    """Are CSRF and the limiter (both exempting the API) the only before-request hooks of the ratings route?"""
    monkeypatch.setenv("ASSESSMENT_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": True})
    hooks = [*app.before_request_funcs.get(None, []), *app.before_request_funcs.get("api", [])]
    assert sorted(hook.__name__ for hook in hooks) == ["_check_request_limit", "csrf_protect"]
    assert not app.url_value_preprocessors.get(None) and not app.url_value_preprocessors.get("api")
    # Both exempt the device API in this app (CSRF on, as in production): Flask's view answers a keyless post.
    answer = app.test_client().post("/api/v1/ratings", data=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "missing_key"


def test_a_refused_request_is_looked_up_and_parsed_once(app, make_device, post, monkeypatch, flask_view_calls):
    """Does Flask's view give the hot path's refusal (a wrong key, a bad body) without looking up or parsing again?"""
    from assessment.api import views
    from assessment.services.ratings import devices

    lookups = spy_returns(monkeypatch, devices, "authenticate")
    parses = spy_returns(monkeypatch, views, "parse_body")
    _, key = make_device()
    assert post("k" * 40, rating("x1")).status_code == 401 and len(lookups) == 1 and parses == []
    assert post(key, [1, 2]).status_code == 400 and len(lookups) == 2 and len(parses) == 1
    assert flask_view_calls == [1, 1]


def test_a_body_shorter_than_its_length_is_not_stored(app, make_device, client):
    """Is a body shorter than its Content-Length (a client that went away) answered 400, nothing stored?"""
    _, key = make_device()
    body = json.dumps(rating("s1"))
    response = client.post(
        "/api/v1/ratings",
        data=body,
        headers={"Authorization": f"Bearer {key}"},
        environ_overrides={"CONTENT_LENGTH": str(len(body) + 5)},
    )
    assert response.status_code == 400 and _stored(app) == []


def test_headers_that_cannot_be_learned_stop_the_post_before_it_is_stored(app, make_device, post, monkeypatch):
    """When learning the headers fails, is the answer the API's JSON 500 with nothing stored?"""
    _, key = make_device()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def unlearnable(secure):
        raise ValueError("no headers")

    monkeypatch.setattr(app.wsgi_app, "_headers", unlearnable)
    response = post(key, rating("u1"))
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal_server_error"
    assert _stored(app) == []


def test_an_http_error_while_storing_keeps_its_status(app, make_device, post, monkeypatch):
    """Is an HTTP error raised while storing (e.g. 503) answered with its own status, as Flask's view would be?"""
    from werkzeug.exceptions import ServiceUnavailable

    from assessment.services.ratings import unit_of_work

    _, key = make_device()

    def unavailable(device, ratings):
        raise ServiceUnavailable("database is being restored")

    monkeypatch.setattr(unit_of_work, "submit", unavailable)
    response = post(key, rating("e1"))
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "service_unavailable"
