"""The one commit point: a request, or a command, commits once at its end or rolls back.

Services only flush (STYLE.md); whoever called them decides. A request commits when its response is not an
error (status < 400) and rolls back otherwise, so a form that failed validation after a service flushed leaves
nothing behind. A command run through `transactional` does the same: commit when it returns, roll back when
it raises (including click's exits with a non-zero code).
"""

import functools

import click
from flask import flash, redirect

from .extensions import db


def register_commit_point(app):
    """Commit or roll back the request's session once, after the view has built its response."""

    @app.after_request
    def _commit_or_roll_back(response):
        if not db.session.registry.has():  # no session was opened (the device API commits on its own connection)
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _roll_back_on_error(exc):
        if exc is not None:
            db.session.rollback()


def transactional(func):
    """Decorate a CLI command: commit once when it returns normally, roll back when it fails or exits non-zero."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except click.exceptions.Exit as exc:
            if exc.exit_code:
                db.session.rollback()
            else:
                db.session.commit()
            raise
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    wrapper.transactional = True  # kept by with_appcontext's update_wrapper; tests/cli checks every writer has it
    return wrapper


def refusal_text(exc: Exception) -> str:
    """The Chinese message of a service's refusal (`Refused.message_zh`; `message` or str() for the others)."""
    return getattr(exc, "message_zh", None) or getattr(exc, "message", None) or str(exc)


def refused(exc: Exception, to: str, message: str | None = None):
    """Answer a refused form with a redirect to `to`, showing why (`message`, else the refusal's own text).

    A refusal shown on the next page (post/redirect/get: a flash message and a 302) is not an error status, so
    the commit point would store whatever the service flushed before it refused: the session is rolled back
    here, first. Views that answer a refusal with a 4xx page need nothing: the commit point rolls those back.
    """
    db.session.rollback()
    flash(message or refusal_text(exc), "error")
    return redirect(to)
