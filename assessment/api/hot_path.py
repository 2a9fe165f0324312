"""The device API's ratings post, answered beneath Flask's request machinery when the answer is a plain 200.

Devices post one rating at a time all day long: it is the app's most frequent request. Flask's per-request work
(the request context, URL routing, the session cookie, the sign-in, CSRF and limiter hooks, the after-request
hooks) is built for browsers; under gunicorn it took about 0.8 ms of CPU of a single rating's 2.2 (bench/README.md,
session 9), more than storing the rating. The device API uses none of it: no cookie, no session, a bearer key,
JSON in and out.

So the app's WSGI callable answers `POST /api/v1/ratings` itself, in an app context (settings, the database
engine, the logger), with the view's steps in the view's order: the key (views.authenticated), the device's
rate (views.device_buckets), the body's size and parse (parsing.parse_body), the rate's tokens (views.cost),
then views.store_posted (unit_of_work.submit and the JSON answer), with the headers that Flask's hooks give a 200
of that route (learned from those hooks, see _headers). Whenever the answer would not be a 200 (no key or a
wrong one, too fast, too large, not JSON, a chunked body), nothing has been taken or stored yet, and the request
goes on to Flask with the body read here handed back: Flask's view (views.post_ratings) answers it exactly as
before. An error while storing is answered by Flask's own error handling (logged; the API's JSON 500). Every
other request, and every other method on this path, goes straight to Flask.
"""

import io

from . import views
from .parsing import BodyError, TooManyRatings, parse_body

PATH = "/api/v1/ratings"


class RatingsHotPath:
    """WSGI middleware in front of the Flask app's own WSGI callable (beneath the proxy fix, if any)."""

    def __init__(self, app, flask_wsgi):
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._learned = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi(environ, start_response)
        with self.app.app_context():
            try:
                body = self._store(environ)
            except Exception as exc:  # answered as Flask answers any error of a view
                with self.app.request_context(environ):
                    failed = self.app.handle_exception(exc)  # logs it; re-raises when testing, as Flask does
                return failed(environ, start_response)
            if body is not None:
                headers = self._headers(environ.get("wsgi.url_scheme", "http"))
        if body is None:
            return self.flask_wsgi(environ, start_response)
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _store(self, environ) -> bytes | None:
        """The 200 answer's body once stored; None, having taken and stored nothing, for Flask to answer."""
        app = self.app
        device = views.authenticated(environ.get("HTTP_AUTHORIZATION"), app)
        if device is None:
            return None
        buckets = views.device_buckets(app)
        if buckets.retry_after(device.id):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ:  # a chunked body: its length is not known before it is read
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        largest = int(app.config["API_MAX_BODY_BYTES"])
        if not 0 <= length <= min(largest, app.config.get("MAX_CONTENT_LENGTH") or largest):
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # read again by Flask when it answers instead
        try:
            posted = parse_body(raw, int(app.config["API_BATCH_LIMIT"]))
        except (TooManyRatings, BodyError):
            return None
        if buckets.take(device.id, views.cost(posted)):
            return None
        return views.store_posted(device, posted)

    def _headers(self, scheme: str) -> list[tuple[str, str]]:
        """The headers Flask gives a 200 of this route (its after-request hooks: security headers, no-store),
        learned once per URL scheme from those hooks on an empty response, so there is one source for them."""
        found = self._learned.get(scheme)
        if found is None:
            with self.app.test_request_context(PATH, method="POST", base_url=f"{scheme}://device.invalid"):
                response = self.app.process_response(self.app.response_class(b"", mimetype="application/json"))
            found = self._learned[scheme] = [
                (name, value) for name, value in response.headers.items() if name.lower() != "content-length"
            ]
        return found
