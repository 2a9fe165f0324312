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


def device_buckets(app) -> TokenBuckets:
    """This process's token buckets of the devices (ratelimit.py), made on first use."""
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


#: What the hot path (hot_path.py) found out before it handed a request on to this view: {"auth": the device or
#: its AuthError, "posted": the parsed ratings or the parse's error}, so that nothing is looked up or parsed twice.
FOUND = "assessment.ratings_found"


def _found(key, compute):
    """The hot path's result for `key` (raised again when it was an error), else compute()."""
    found = request.environ.get(FOUND)
    if found is None or key not in found:
        return compute()
    if isinstance(found[key], Exception):
        raise found[key]
    return found[key]


@bp.post("/ratings")
def post_ratings():
    """The ratings post as Flask answers it: every answer but a plain 200, which hot_path.RatingsHotPath gives
    before Flask with the same steps in the same order (and whatever it found out, FOUND)."""
    app = current_app._get_current_object()  # looked up once: this runs for every rating a device sends
    try:
        device = _found("auth", lambda: authenticate(request.headers.get("Authorization"), app))
    except devices.AuthError as exc:
        response, status = api_error(401, exc.code, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="ratings"'
        return response, status
    buckets = device_buckets(app)
    # A device that is already over its rate is refused before its body is even read.
    wait = buckets.retry_after(device.id)
    if wait:
        return _too_many(wait)
    limit = int(_setting("API_BATCH_LIMIT", app))
    max_body = int(_setting("API_MAX_BODY_BYTES", app))
    if (request.content_length or 0) > max_body:
        return api_error(413, "body_too_large", f"the body is larger than {max_body} bytes")
    raw = request.get_data(cache=False)
    if len(raw) > max_body:
        return api_error(413, "body_too_large", f"the body is larger than {max_body} bytes")
    try:
        posted = _found("posted", lambda: parse_body(raw, limit))
    except TooManyRatings as exc:
        return api_error(413, "batch_too_large", str(exc), limit=exc.limit)
    except BodyError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)
    wait = buckets.take(device.id, cost(posted))
    if wait:
        return _too_many(wait)
    return app.response_class(store_posted(device, posted), mimetype="application/json")


def authenticate(header, app) -> devices.DeviceAuth:
    """The device of an Authorization header (devices.AuthError when none), through this process's cache."""
    return devices.authenticate(
        header, cache=app.extensions.setdefault("device_auth", {}), ttl=float(_setting("API_AUTH_CACHE_SECONDS", app))
    )


def cost(posted: list) -> float:
    """The tokens a post of these ratings takes from its device's bucket (ratelimit.py)."""
    return 1 + max(0, len(posted) - 1) / 100


def store_posted(device, posted: list) -> bytes:
    """Store a device's parsed post (unit_of_work.submit) and return the 200 answer's JSON body."""
    answers = unit_of_work.submit(device, posted)
    counts = {"accepted": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    for answer in answers:
        counts[answer["status"]] += 1
    return json.dumps({"results": answers, **counts}, ensure_ascii=False, separators=(",", ":")).encode()
