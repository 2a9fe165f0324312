"""Web hardening in one place: response headers, cookies, the sign-in flood brake, the proxy in front.

- Every response carries a Content-Security-Policy without inline script, frame-ancestors 'none' and
  X-Frame-Options DENY, X-Content-Type-Options nosniff and a Referrer-Policy; everything but static files is
  `Cache-Control: no-store` (console pages, personal pages and exports hold personal data).
- The console's templates still use a few style="" attributes (table widths, progress bars); the policy allows
  inline style *attributes* there (style-src-attr), never <style> elements or inline script. The raters' pages
  allow neither.
- Session and remember cookies are `Secure` unless SESSION_COOKIE_SECURE is set false, which only plain-http
  local development needs (`make run` passes ASSESSMENT_SESSION_COOKIE_SECURE=false).
- Behind a reverse proxy set PROXY_FIX_X_FOR to the number of proxies, so throttles see the client's address.
"""

from flask import request

from ..extensions import limiter

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: The raters' pages (blueprint "web"): no inline style either.
STRICT_POLICY = _BASE_POLICY
#: The console: inline style attributes allowed, nothing else inline.
CONSOLE_POLICY = _BASE_POLICY + "; style-src-attr 'unsafe-inline'"

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register_security(app):
    """Cookie defaults, the limiter, the proxy fix and the headers of every response."""
    if "REMEMBER_COOKIE_SECURE" not in app.config:
        app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])
    # Test apps are many in one process and share 127.0.0.1: their flood brake is off unless a test asks.
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    limiter.init_app(app)
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def _security_headers(response):
        policy = STRICT_POLICY if request.blueprint == "web" else CONSOLE_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.blueprint == "web":  # personal pages: a token in a link must never leak through Referer
            response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
