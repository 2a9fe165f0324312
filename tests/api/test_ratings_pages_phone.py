"""The 好差评 pages for people on a phone and the office's exclusions listed with their reasons."""

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import PublicRating
from tests.api.helpers import rating


def test_every_excluded_rating_is_listed_with_its_reason(app, client, auth, make_user, make_device, post):
    """Does the exclusions list show a rating the office excluded though the system never flagged it?"""
    _, key = make_device("U01", "1号窗口")
    post(key, {"ratings": [rating("plain", level=2), rating("other", level=5)]})
    make_user("office", role="operator")
    auth.login()
    with app.app_context():
        plain = db.session.execute(sa.select(PublicRating).filter_by(event_id="plain")).scalar_one()
        assert not plain.flagged
    client.post(f"/office/ratings/{plain.id}/exclusion", data={"action": "exclude", "reason": "申诉复核成立"})
    page = client.get("/office/ratings/flagged?show=excluded").get_data(as_text=True)
    assert "共 1 条" in page and "理由：申诉复核成立" in page
    assert "共 0 条" in client.get("/office/ratings/flagged").get_data(as_text=True)  # the open list: flagged only
    overview = client.get("/office/ratings").get_data(as_text=True)
    assert "show=excluded" in overview and "已剔除 1（查看理由）" in overview


def test_tables_stack_and_the_trend_chart_fits_a_phone(app, client, auth, make_user, make_device, post):
    """Do the case and exclusion tables carry column names for the phone layout, and the chart shrink to fit?"""
    _, key = make_device("U01", "1号窗口")
    post(key, {"ratings": [rating("bad", level=1, case_no="K1")]})
    make_user("office", role="operator")
    auth.login()
    overview = client.get("/office/ratings").get_data(as_text=True)
    assert "min-width:600px" not in overview and 'viewBox="0 0 500 250"' in overview
    cases = client.get("/office/cases").get_data(as_text=True)
    assert '<table class="stack">' in cases and 'data-label="办理期限"' in cases
    flagged = client.get("/office/ratings/flagged?show=all").get_data(as_text=True)
    assert '<table class="stack">' in flagged
    response = client.get("/static/app.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "@media (max-width:640px)" in css and "table.stack td::before" in css
