"""The ratings post answered beneath Flask (api/hot_path.py): the same answers, headers and storing as Flask's view."""

import io
import json

import pytest

from assessment import create_app
from assessment.extensions import db
from assessment.models import PublicRating
from tests.api.helpers import rating


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
        ("good", b"{not json", 400, None),
        ("good", [], 400, None),
    ],
)
def test_anything_but_a_200_is_left_to_flasks_view(app, make_device, post, flask_view_calls, key, body, status, code):
    """Are a missing or wrong key and a body that is not a rating answered by Flask's view, as before?"""
    _, good = make_device()
    response = post(good if key == "good" else key, body)
    assert response.status_code == status and flask_view_calls == [1]
    error = response.get_json()["error"]
    assert code is None or error["code"] == code
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


def test_behind_a_proxy_the_hot_path_sees_https(app, make_device, client, tmp_path, monkeypatch):
    """Is the hot path beneath the proxy fix, so that its 200 behind an https proxy has Strict-Transport-Security?"""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from assessment.api.hot_path import RatingsHotPath

    monkeypatch.setenv("ASSESSMENT_INSTANCE_PATH", str(tmp_path))
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PROXY_FIX_X_FOR": 1})
    assert isinstance(proxied.wsgi_app, ProxyFix) and isinstance(proxied.wsgi_app.app, RatingsHotPath)

    _, key = make_device()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # as create_app puts it, on this test's database
    response = client.post(
        "/api/v1/ratings",
        data=json.dumps(rating("s1")),
        headers={"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"},
    )
    assert response.status_code == 200 and response.get_json()["accepted"] == 1
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.post("/api/v1/ratings", data=json.dumps(rating("s2")), headers={"Authorization": f"Bearer {key}"})
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
