"""The console's 好差评 pages over ratings that came in through the API: figures, chart, flags and exclusion.

(They live beside the API tests because the ratings they show are posted through it.)
"""

import re
from datetime import timedelta

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import AuditEntry, PublicRating
from assessment.services.ratings.stats import wilson_interval
from tests.api.helpers import daytime, rating


def seed(make_device, post):
    """Ratings of two units: U01 mostly good with a burst and a night rating, U02 with bad ones and a default."""
    _, key1 = make_device("U01", "1号窗口")
    _, key2 = make_device("U02", "2号窗口")
    start = daytime(days_ago=3, hour=9)
    post(
        key1,
        {
            "ratings": [rating(f"a{i}", level=5, at=start + timedelta(seconds=10 * i)) for i in range(6)]
            + [rating("a-night", level=4, at=daytime(days_ago=4, hour=3)), rating("a-mid", level=3)]
        },
    )
    post(
        key2,
        {
            "ratings": [
                rating("b1", level=1, case_no="K1", comment="态度差"),
                rating("b2", level=2),
                rating("b3", level=5, at=start),
                rating("b4", level=5, is_default=True),
            ]
        },
    )


def test_the_overview_shows_counts_good_rate_interval_and_a_chart(app, client, auth, make_user, make_device, post):
    """Does the city page show counted ratings, the good rate with its Wilson interval, units and an SVG chart?"""
    seed(make_device, post)
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/ratings").get_data(as_text=True)
    # Counted: 8 of U01 + 3 of U02 (the default one is apart); good: 6 + 1 + 1 = 8.
    assert "好评率" in page and "<svg" in page and "<polyline" in page and "月" in page
    lo, hi = wilson_interval(8, 11)
    assert f"{100 * 8 / 11:.1f}%" in page and f"{100 * lo:.1f}%" in page and f"{100 * hi:.1f}%" in page
    assert "市行政审批服务局" in page and "市医疗保障局" in page and "默认好评" in page
    assert "https://" not in page.split("<main>")[1]  # nothing fetched from the internet
    unit_page = client.get("/office/ratings?unit=U02").get_data(as_text=True)
    assert "市医疗保障局" in unit_page and f"{100 * 1 / 3:.1f}%" in unit_page
    assert client.get("/office/ratings?unit=NOPE").status_code == 404


def test_flagged_ratings_are_listed_and_excluded_with_a_reason(app, client, auth, make_user, make_device, post):
    """Can the office see the burst and night ratings, exclude one with a reason (audited) and restore it?"""
    seed(make_device, post)
    make_user("office", role="operator")
    auth.login()
    page = client.get("/office/ratings/flagged").get_data(as_text=True)
    assert "短时集中好评" in page and "非办公时段" in page and "共 7 条" in page
    assert "共 1 条" in client.get("/office/ratings/flagged?flag=odd_hour").get_data(as_text=True)
    assert "共 1 条" in client.get("/office/ratings/flagged?flag=default").get_data(as_text=True)
    with app.app_context():
        night = db.session.execute(sa.select(PublicRating).filter_by(event_id="a-night")).scalar_one()
    refused = client.post(
        f"/office/ratings/{night.id}/exclusion", data={"action": "exclude", "reason": " "}, follow_redirects=True
    )
    assert "请填写理由" in refused.get_data(as_text=True)
    client.post(f"/office/ratings/{night.id}/exclusion", data={"action": "exclude", "reason": "设备时钟错误"})
    with app.app_context():
        stored = db.session.get(PublicRating, night.id)
        assert stored.excluded and stored.excluded_reason == "设备时钟错误"
        entry = db.session.execute(sa.select(AuditEntry).filter_by(action="rating.exclude")).scalar_one()
        assert entry.actor == "office" and entry.detail["reason"] == "设备时钟错误"
    excluded = client.get("/office/ratings/flagged?show=excluded").get_data(as_text=True)
    assert "设备时钟错误" in excluded and "共 1 条" in excluded
    client.post(f"/office/ratings/{night.id}/exclusion", data={"action": "include", "reason": "核实无误"})
    with app.app_context():
        assert not db.session.get(PublicRating, night.id).excluded
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating)) == 12  # nothing deleted


def test_viewers_cannot_exclude_and_liaisons_cannot_see_figures(app, client, auth, make_user, make_device, post):
    """Is exclusion for writers only, and are the city figures hidden from unit liaisons?"""
    seed(make_device, post)
    make_user("viewer", role="viewer")
    make_user("liaison", role="unit_liaison", unit_code="U01")
    auth.login("viewer")
    page = client.get("/office/ratings/flagged").get_data(as_text=True)
    assert "剔除理由" not in page
    assert client.post("/office/ratings/1/exclusion", data={"action": "exclude", "reason": "x"}).status_code == 403
    auth.logout()
    auth.login("liaison")
    assert client.get("/office/ratings").status_code == 403
    assert client.get("/office/ratings/flagged").status_code == 403
    assert client.get("/office/devices").status_code == 403
    nav = client.get("/office/cases").get_data(as_text=True)
    assert re.search(r'href="/office/cases"[^>]*>好差评', nav)


def test_the_devices_page_shows_last_contact_and_counts(app, client, auth, make_user, make_device, post):
    """Does the registry show each device's last contact, stored ratings, duplicates and last rejection?"""
    _, key = make_device("U01", "7号窗口")
    post(key, {"ratings": [rating("x1"), rating("x1"), rating("x2", at=daytime() + timedelta(days=2))]})
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/devices").get_data(as_text=True)
    row = page.split("7号窗口")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(\d+)</td>', row)
    assert cells[:5] == ["1", "0", "1", "0", "1"]  # stored, flagged, duplicate, conflict, rejected
    assert "future" in row and "从未" not in row
