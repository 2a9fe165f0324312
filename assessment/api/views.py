"""The device API: ratings in, one answer per rating out. Views parse, call services and render."""

import json

from flask import current_app, jsonify, request
from sqlalchemy import text

from ..errors import api_error
from ..extensions import db
from ..services.ratings import devices, unit_of_work
from . import bp
from .openapi import document
from .parsing import BodyError, TooManyRatings, parse_body
from .ratelimit import TokenBuckets


def _setting(name, app=None):
    """A setting of the API (its default is in create_app)."""
    return (app or current_app).config[name]


def _buckets(app) -> TokenBuckets:
    buckets = app.extensions.get("rating_buckets")
    if buckets is None:
        buckets = app.extensions.setdefault(
            "rating_buckets",
            TokenBuckets(float(_setting("API_RATE_PER_SECOND", app)), float(_setting("API_RATE_BURST", app))),
        )
    return buckets


def _too_many(wait):
    response, status = api_error(429, "rate_limited", f"this device sends too fast; retry in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response, status


@bp.get("/health")
def health():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy" (the 503 rolls the session back)
        return api_error(503, "database_unavailable", "the database does not answer")
    return jsonify(status="ok")


@bp.get("/ping")
def ping():
    return jsonify(pong=True)


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(int(_setting("API_BATCH_LIMIT"))))


#: The answer hot_path.RatingsHotPath worked out for a request it hands on to this view (any answer but a 200):
#: api_error's (response, status), so that nothing is looked up, parsed or refused twice.
ANSWER = "assessment.ratings_answer"


@bp.post("/ratings")
def post_ratings():
    """The ratings post as Flask answers it (a 200 is usually given before Flask, by hot_path.RatingsHotPath,
    from the same ratings_answer)."""
    answer = request.environ.pop(ANSWER, None)
    if answer is None:
        app = current_app._get_current_object()
        answer = ratings_answer(
            app, request.headers.get("Authorization"), request.content_length, lambda: request.get_data(cache=False)
        )
    if isinstance(answer, bytes):
        return current_app.response_class(answer, mimetype="application/json")
    return answer


def ratings_answer(app, authorization: str | None, content_length: int | None, read_body):
    """A device's ratings post answered, in an app context: the 200's JSON body (bytes) once stored, or an
    error's (response, status). The one order of the steps: the key, the device's rate (before the body is
    read), the body's size, read_body() and its parse, the rate's tokens, then storing (unit_of_work.submit).
    Nothing is taken from the device's bucket or stored before the last two."""
    try:
        device = devices.authenticate(
            authorization,
            cache=app.extensions.setdefault("device_auth", {}),
            ttl=float(_setting("API_AUTH_CACHE_SECONDS", app)),
        )
    except devices.AuthError as exc:
        response, status = api_error(401, exc.code, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="ratings"'
        return response, status
    buckets = _buckets(app)
    # A device that is already over its rate is refused before its body is even read.
    wait = buckets.retry_after(device.id)
    if wait:
        return _too_many(wait)
    limit = int(_setting("API_BATCH_LIMIT", app))
    max_body = int(_setting("API_MAX_BODY_BYTES", app))
    if (content_length or 0) > max_body:
        return api_error(413, "body_too_large", f"the body is larger than {max_body} bytes")
    raw = read_body()
    if len(raw) > max_body:
        return api_error(413, "body_too_large", f"the body is larger than {max_body} bytes")
    try:
        posted = parse_body(raw, limit)
    except TooManyRatings as exc:
        return api_error(413, "batch_too_large", str(exc), limit=exc.limit)
    except BodyError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)
    wait = buckets.take(device.id, 1 + max(0, len(posted) - 1) / 100)
    if wait:
        return _too_many(wait)
    answers = unit_of_work.submit(device, posted)
    counts = {"accepted": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    for answer in answers:
        counts[answer["status"]] += 1
    return json.dumps({"results": answers, **counts}, ensure_ascii=False, separators=(",", ":")).encode()
