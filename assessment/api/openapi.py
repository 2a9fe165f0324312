"""The OpenAPI 3 document of the device API, built from the same limits the code enforces."""

from ..models import Channel
from ..services.ratings.ingest import REASONS
from .parsing import EVENT_ID_MAX, TEXT_LIMITS

#: No control characters (they cannot be stored in every engine and no device needs them).
_PLAIN = r"^[^\u0000-\u001f\u007f]*$"
_TEXT = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
_STATUSES = ["accepted", "duplicate", "conflict", "rejected"]


def _text(limit, description, pattern=_PLAIN):
    return {"type": ["string", "null"], "maxLength": limit, "pattern": pattern, "description": description}


def _json(schema):
    return {"application/json": {"schema": schema}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description, **extra):
    return {"description": description, "content": _json(_ref("Error")), **extra}


def _object(required, **properties):
    return {"type": "object", "required": list(required), "properties": properties}


def _rating_schema() -> dict:
    return {
        "type": "object",
        "required": ["event_id", "level", "rated_at"],
        "properties": {
            "event_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": EVENT_ID_MAX,
                "pattern": _PLAIN,
                "description": "Unique per device; a retry sends the same event_id with the same content.",
            },
            "level": {
                "type": "integer",
                "minimum": 1,
                "maximum": 5,
                "description": "5 = 非常满意 … 1 = 非常不满意 (a key registered with code system gbt39046 "
                "sends 1 = 非常满意; the platform keeps the raw code and maps it).",
            },
            "rated_at": {
                "type": "string",
                "format": "date-time",
                "description": "When the person rated, ISO 8601 with a UTC offset. Its China date picks the "
                "evaluation period, which must be open.",
            },
            "case_no": _text(TEXT_LIMITS["case_no"], "办件编号: one rating per case and stage."),
            "stage": _text(TEXT_LIMITS["stage"], "The stage of the case that was rated (default empty)."),
            "service_item": _text(TEXT_LIMITS["service_item"], "The service (事项) that was rated."),
            "staff_code": _text(TEXT_LIMITS["staff_code"], "The code of the staff member who served."),
            "comment": _text(TEXT_LIMITS["comment"], "What the person wrote.", _TEXT),
            "is_default": {
                "type": ["boolean", "null"],
                "description": "A system-default rating (默认好评): kept and flagged, not scored.",
            },
            "real_name": {
                "type": ["boolean", "null"],
                "description": "The person can be called back (default: true with a case_no).",
            },
            "unit_code": _text(
                TEXT_LIMITS["unit_code"],
                "Integration keys only: the unit rated. A device key's unit comes from its "
                "registration; naming another unit is rejected.",
            ),
            "channel": {
                "type": ["string", "null"],
                "enum": [c.value for c in Channel] + [None],
                "description": "Integration keys only (default: the key's channel).",
            },
        },
    }


def document(batch_limit: int) -> dict:
    """The OpenAPI document; `batch_limit` is the most ratings one request may carry."""
    answer = _object(
        ["event_id", "status"],
        event_id={
            "type": ["string", "null"],
            "description": "As sent; null for a malformed element without a usable event_id.",
        },
        status={"type": "string", "enum": _STATUSES},
        reason={"type": "string", "enum": sorted(REASONS), "description": "Why a rating was rejected."},
        message={"type": "string"},
        field={
            "type": "string",
            "description": "For reason `invalid`: the field that is wrong, with the "
            "element's index in a batch (e.g. ratings[3].level).",
        },
    )
    answers = _object(
        ["results", *_STATUSES],
        results={"type": "array", "items": _ref("Answer")},
        **{status: {"type": "integer"} for status in _STATUSES},
    )
    error = _object(["error"], error=_object(["code", "message"], code={"type": "string"}, message={"type": "string"}))
    # The shape that is refused with 400 is only the envelope: an object, whose `ratings` (when present) is an
    # array. What is inside is checked per rating: an element that does not match Rating is answered `rejected`
    # (reason `invalid`, with the field) while the others are stored, so the request body schema accepts any
    # element and Rating describes what a valid one is.
    single = {
        "type": "object",
        "not": {"required": ["ratings"]},
        "description": "One rating (see the Rating schema); if it is not a valid rating, the answer is "
        "200 with that rating rejected.",
    }
    body = {"oneOf": [_ref("Batch"), single]}
    ratings = {
        "operationId": "postRatings",
        "summary": f"Post one rating, or a batch of up to {batch_limit}",
        "security": [{"deviceKey": []}],
        "requestBody": {"required": True, "content": _json(body)},
        "responses": {
            "200": {"description": "One answer per rating, in the order sent.", "content": _json(answers)},
            "400": _error(
                "The body is not JSON, or not a JSON object, or its `ratings` is not an array "
                "(a malformed rating inside a valid body is not a 400: it is answered `rejected` with "
                "reason `invalid` and the field, e.g. ratings[3].level)."
            ),
            "401": _error("Missing, unknown or disabled device key."),
            "413": _error(f"More than {batch_limit} ratings, or a body too large."),
            "429": _error(
                "This device sends too fast; retry after Retry-After seconds.",
                headers={"Retry-After": {"schema": {"type": "integer"}}},
            ),
        },
    }
    health = {
        "operationId": "health",
        "summary": "200 when the database answers",
        "responses": {
            "200": {"description": "Healthy", "content": _json(_object(["status"], status={"const": "ok"}))},
            "503": _error("The database does not answer."),
        },
    }
    ping = {
        "operationId": "ping",
        "summary": "Answers without touching the database",
        "responses": {"200": {"description": "Alive", "content": _json(_object(["pong"], pong={"type": "boolean"}))}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "机关职能运行监管评价平台 — device API",
            "version": "1.0.0",
            "description": "Rating devices at service windows, the online platform and the 12345 hotline "
            "post the public's ratings (好差评). Exactly once per device and event_id; a retry "
            "of a batch changes nothing.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "deviceKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The device key shown once at registration.",
                }
            },
            "schemas": {
                "Rating": _rating_schema(),
                "Batch": _object(
                    ["ratings"],
                    ratings={
                        "type": "array",
                        "maxItems": batch_limit,
                        "items": {},
                        "description": "Ratings (see the Rating schema). Each element gets its own answer; one "
                        "that is not a valid rating is rejected (reason `invalid`, with the "
                        "field), the others are stored.",
                    },
                ),
                "Answer": answer,
                "Error": error,
            },
        },
        "paths": {
            "/api/v1/ratings": {"post": ratings},
            "/api/v1/health": {"get": health},
            "/api/v1/ping": {"get": ping},
        },
    }
