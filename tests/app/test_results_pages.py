"""The console's results and unit pages for people: charts, plain-Chinese data quality, the unit against its
category."""

from datetime import date

import pytest
import sqlalchemy as sa
import yaml

import scoring
from assessment.extensions import db
from assessment.labels import alpha_reading
from assessment.models import CheckPoint, CheckPointStatus, Period, PeriodState, Unit, UnitKind

# unit: check point statuses -> checkpoints leaf (the only leaf with data): 100, 75, 50, 25 (one late of two: 25)
CITY = {"A1": ["on_time"] * 2, "A2": ["on_time", "late"], "A3": ["on_time", "not_done"], "A4": ["late", "not_done"]}


@pytest.fixture
def scored(app, runner):
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add(period)
        for code, statuses in CITY.items():
            unit = Unit(code=code, name=f"单位{code}", kind=UnitKind.GOVERNMENT, category="政府部门")
            db.session.add(unit)
            db.session.flush()
            for i, status in enumerate(statuses):
                db.session.add(
                    CheckPoint(
                        period_id=period.id,
                        unit_id=unit.id,
                        item=f"事项{i}",
                        due=date(2026, 6, 30),
                        status=CheckPointStatus(status),
                    )
                )
        db.session.commit()
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    return "2026"


def test_results_page_draws_the_charts(client, auth, make_user, scored):
    """Does the results page show the distribution, the ranking, the heat map and the rank intervals as SVG?"""
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/periods/2026/results").get_data(as_text=True)
    for name in ("综合得分分布", "排名", "单位 × 指标得分", "排名区间"):
        assert f'aria-label="{name}"' in page
    assert "<script>" not in page and "<svg" in page  # server-side drawings, no inline script
    assert ">75.00</text>" in page and ">25.00</text>" in page  # the ranking chart's values, two decimals
    grades = scoring.load_scheme(scoring.default_scheme_text()).grades
    assert f"低于{grades.poor_below:g}：较差" in page  # the line of the scheme the result was scored with


def test_unit_page_compares_the_unit_with_its_category(client, auth, make_user, scored):
    """Does a unit page set the unit beside its category's mean and mark it in the category's ranking?"""
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/periods/2026/results/1/units/A2").get_data(as_text=True)
    assert "与本组（政府部门）比较" in page
    assert 'aria-label="与本组比较"' in page
    assert "本组平均 62.50" in page  # (100 + 75 + 50 + 25) / 4
    assert "本组平均综合得分 62.50" in page
    assert 'font-weight="700"' in page and "2 单位A2" in page


def test_data_quality_is_explained_in_plain_chinese():
    """Does each Krippendorff's alpha come with a reading a clerk can repeat, and a missing one say why?"""
    assert alpha_reading(0.85) == "高度一致"
    assert alpha_reading(0.7) == "较一致"
    assert alpha_reading(0.5) == "一般"
    assert alpha_reading(0.1).startswith("较弱")
    assert alpha_reading(-0.2) == "相互矛盾"
    assert alpha_reading(None) == alpha_reading(float("nan")) == "样本太少，无法计算"


def test_every_download_link_of_the_results_and_unit_pages_answers(client, auth, make_user, scored):
    """Does every download link on the results page and the unit page lead to a file (or the report's 202 while
    the worker builds it), never a 404?"""
    import html
    import re

    make_user("office", role="viewer")
    auth.login()

    def links(url):
        page = client.get(url).get_data(as_text=True)
        return {html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)}

    found = links("/office/periods/2026/results")
    downloads = sorted(h for h in found if re.search(r"\.(csv|xlsx|pdf|zip)(\?|$)", h))
    expected = ("results.csv", "results.xlsx", "results.pdf", "units.zip", "assessment.xlsx")
    assert [any(h.split("?")[0].endswith(name) for h in downloads) for name in expected] == [True] * 5, downloads
    unit_links = [h for h in links("/office/periods/2026/results/1/units/A2") if h.split("?")[0].endswith(".pdf")]
    assert unit_links == ["/office/periods/2026/results/1/units/A2.pdf"]
    for href in downloads + unit_links:
        response = client.get(href)
        assert response.status_code in (200, 202), (href, response.status_code)
        if response.status_code == 200:
            assert "attachment" in response.headers["Content-Disposition"], href
    assert client.get(unit_links[0]).get_data()[:4] == b"%PDF"


def test_the_console_follows_the_scheme_settings(app, client, auth, make_user, runner, scored):
    """After the scheme's grade lines, coverage minimum, review share, draws and assessment share are changed
    and the period scored again, do the results and unit pages show the new settings, not the defaults?"""
    from assessment.services import scoring as scoring_service

    data = yaml.safe_load(scoring.default_scheme_text())
    data["grades"].update(poor_below=55, good_from=85)
    data["coverage_min"] = 0.5
    data["assessment_share"] = 5
    data.setdefault("sensitivity", {}).update(review_below=0.7, draws=200)
    with app.app_context():
        period = db.session.scalars(sa.select(Period)).one()
        scoring_service.save_scheme(period, yaml.safe_dump(data, allow_unicode=True), "test")
        db.session.commit()
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    make_user("office", role="viewer")
    auth.login()
    page = client.get("/office/periods/2026/results?version=2").get_data(as_text=True)
    assert "低于55：较差" in page and "85以上：可评良好" in page and "低于60：较差" not in page
    assert "虚线为 55 分" in page and "85 分（达到可评“良好”）" in page
    assert "考核分值(5%)" in page and "考核分值(4%)" not in page
    assert "随机变动 200 次" in page and "保持率低于 70%，需复核" in page
    unit = client.get("/office/periods/2026/results/2/units/A2").get_data(as_text=True)
    assert "综合考核分值（5%）" in unit and "（4%）" not in unit
