"""The device API's ratings post, answered beneath Flask's request machinery when the answer is a plain 200.

Devices post one rating at a time all day long: it is the app's most frequent request. Flask's per-request work
(the request context, URL routing, the session cookie, the CSRF and limiter hooks, the after-request hooks) is
built for browsers; under gunicorn it took about 0.8 ms of CPU of a single rating's 2.2 (bench/README.md,
session 9), more than storing the rating. The device API uses none of it: no cookie, no session, a bearer key,
JSON in and out.

So the app's WSGI callable answers `POST /api/v1/ratings` itself, in an app context (settings, the database
engine, the logger), with the view's own steps (views.ratings_answer: key, rate, size, parse, tokens, storing)
and the headers that Flask's hooks give a 200 of that route (learned from those hooks, see _headers). Any other
answer (no key or a wrong one, too fast, too large, not JSON) is handed to Flask's view with the request, in
views.ANSWER, so that Flask gives it as it always did (its hooks, its headers) without a second look-up or
parse. A request this layer does not read (a chunked body, a Content-Length Werkzeug would not take either, one
over Flask's MAX_CONTENT_LENGTH, a body shorter than its length, a Flask check it does not make:
TRUSTED_HOSTS) goes on to Flask untouched but for the body read here, handed back; nothing was taken or stored.
An error while storing is answered by Flask's own error handling (the API's JSON error; logged when it is a
500). Every other request, every other method on this path, and ws or wss (which Flask refuses here) go
straight to Flask.
What the hot path does not do for these requests: Flask's signals, and refreshing a session or remember-me
cookie a device might send (devices send none).

tests/api/test_hot_path.py checks the answers and headers against Flask's, and that the before-request hooks
that apply to this route are the known ones that exempt the device API (CSRF, the limiter): a new hook there
must be made here too, or this layer must hand its requests to Flask.
"""

import io

from . import views

PATH = "/api/v1/ratings"
_SCHEMES = ("http", "https")


class _ShortBody(Exception):
    """The client sent less than its Content-Length (it went away): Flask's stream answers that (400)."""


def install(app) -> None:
    """Put the hot path in front of the app's own WSGI callable (create_app does, before the proxy fix goes in
    front of both, so that the hot path sees the client's scheme)."""
    app.wsgi_app = RatingsHotPath(app, app.wsgi_app)


class RatingsHotPath:
    """WSGI middleware in front of the Flask app's own WSGI callable (see the module docstring)."""

    def __init__(self, app, flask_wsgi):
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._learned = {}

    def __call__(self, environ, start_response):
        scheme = environ.get("wsgi.url_scheme")
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST" or scheme not in _SCHEMES:
            return self.flask_wsgi(environ, start_response)  # (Flask refuses ws and wss on this route: 400)
        with self.app.app_context():
            try:
                headers = self._headers(scheme == "https")
                answer = self._answer(environ)
            except Exception as exc:
                failed = self._failed(environ, exc)
                return failed(environ, start_response)
        if not isinstance(answer, bytes):
            if answer is not None:
                environ[views.ANSWER] = answer
            return self.flask_wsgi(environ, start_response)
        start_response("200 OK", [*headers, ("Content-Length", str(len(answer)))])
        return [answer]

    def _answer(self, environ):
        """views.ratings_answer for this request, or None for a request Flask must read itself."""
        app = self.app
        if app.config.get("TRUSTED_HOSTS") is not None:
            return None  # Flask's own check of the Host header
        declared = environ.get("CONTENT_LENGTH", "")
        if "HTTP_TRANSFER_ENCODING" in environ or not (declared.isascii() and declared.isdigit()):
            return None  # chunked, or a length that Werkzeug would not take either
        length = int(declared)
        if length > (app.config.get("MAX_CONTENT_LENGTH") or length):
            return None  # Flask's own limit (413)

        def read_body():
            raw = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(raw)  # read again by Flask when it answers instead
            if len(raw) != length:
                raise _ShortBody
            return raw

        try:
            return views.ratings_answer(app, environ.get("HTTP_AUTHORIZATION"), length, read_body)
        except _ShortBody:
            return None  # nothing taken or stored yet: the body is read before the tokens are taken

    def _failed(self, environ, exc):
        """The response Flask gives when a view raises `exc` (its handlers, logged, after-request hooks)."""
        app = self.app
        with app.request_context(environ):
            # As Flask's full_dispatch_request and wsgi_app do; called while `exc` is being handled (the
            # handlers re-raise it with a bare raise).
            try:
                return app.finalize_request(app.handle_user_exception(exc))
            except Exception as unhandled:
                return app.handle_exception(unhandled)  # logs it; re-raises when testing, as Flask does

    def _headers(self, secure: bool) -> list[tuple[str, str]]:
        """The headers Flask gives a 200 of this route (its after-request hooks: security headers, no-store),
        learned once per scheme (http, https) from those hooks on an empty response: one source for them."""
        found = self._learned.get(secure)
        if found is None:
            base = "https://device.invalid" if secure else "http://device.invalid"
            with self.app.test_request_context(PATH, method="POST", base_url=base):
                response = self.app.process_response(self.app.response_class(b"", mimetype="application/json"))
            found = self._learned[secure] = [
                (name, value) for name, value in response.headers.items() if name.lower() != "content-length"
            ]
        return found
