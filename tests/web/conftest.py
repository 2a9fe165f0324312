"""Fixtures of the raters' tests: a small hand-made city (tests/web/helpers.py), links, clients inside it."""

from types import SimpleNamespace

import pytest

from tests.web.helpers import build_city, issue


@pytest.fixture
def city(app):
    """The small city with its assignments (period 2026 open)."""
    return SimpleNamespace(period_id=build_city(app), app=app)


@pytest.fixture
def issue_link(app, city):
    """issue_link("G01") -> (token, code): a fresh personal link and access code for a rater."""
    return lambda rater_code: issue(app, city.period_id, rater_code)


@pytest.fixture
def rater_client(app, issue_link):
    """rater_client("G01") -> a test client already inside that rater's pages (through the personal link)."""

    def _enter(rater_code):
        token, _ = issue_link(rater_code)
        client = app.test_client()
        response = client.get(f"/r/{token}")
        assert response.status_code == 302
        return client

    return _enter
