"""Who may act in the console: every route checks a key of the one role table, and viewers never act."""

import re

import pytest

from assessment.office.auth import ROUTE_ROLES, section_required

#: Values for the parts of console URLs; the role check answers before the page looks anything up.
SAMPLE = {
    "name": "2026",
    "version": "1",
    "code": "U01",
    "kind": "units",
    "fmt": "csv",
    "target": "open",
    "key": "grassroots",
    "step": "assign",
}


def _console_posts(app):
    """The URL of every console route that accepts a POST, except signing in and out."""
    for rule in app.url_map.iter_rules():
        if (
            rule.endpoint.startswith("office.")
            and "POST" in rule.methods
            and rule.endpoint not in ("office.login", "office.logout")
        ):
            yield re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE.get(m.group(1), "1"), rule.rule)


def test_viewers_get_403_on_every_console_post(app, client, auth, make_user):
    """Does a viewer get 403 (not a redirect, not a page) on every POST of the console?"""
    make_user("reader", role="viewer")
    auth.login("reader")
    urls = sorted(_console_posts(app))
    assert "/office/periods/2026/score" in urls and "/office/surveys/2026/invitations" in urls
    answers = {url: client.post(url, data={"note": "x", "text": "x"}).status_code for url in urls}
    assert {url: status for url, status in answers.items() if status != 403} == {}


def test_a_refused_post_names_the_refused_action(client, auth, make_user):
    """Does the 403 page of a refused button say, in Chinese, that the user may not do this?"""
    make_user("reader", role="viewer")
    auth.login("reader")
    response = client.post("/office/calendar/defaults")
    assert response.status_code == 403 and "您没有权限执行此操作" in response.get_data(as_text=True)


def test_admins_do_not_see_single_responses(client, auth, make_user):
    """Is the strict responses key closed to system administrators while data administrators pass?"""
    make_user("root", role="admin")
    auth.login("root")
    assert client.get("/office/surveys/2026/responses").status_code == 403
    auth.logout()
    make_user("data", role="data_admin")
    auth.login("data")
    assert client.get("/office/surveys/2026/responses").status_code == 404  # passes the check; no such period


def test_an_unknown_route_key_fails_at_import():
    """Does a route naming a key missing from ROUTE_ROLES fail when its module loads, not on a user's click?"""
    assert "responses" in ROUTE_ROLES
    with pytest.raises(KeyError):
        section_required("no-such-key")
    with pytest.raises(KeyError):
        section_required("results", post="no-such-key")
