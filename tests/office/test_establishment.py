"""Establishment data (实名制): edits with history, early warnings, the city's vacancy total, and the vacancy pool
(零空编): confirming a published reduction once, allocations, a balance that never goes negative."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import EstablishmentChange, Period, PeriodState, Unit, VacancyPoolEntry
from assessment.services import establishment as service
from tests.office.unit_city import PW, make_city, publish_with_reduction


@pytest.fixture
def city(app, make_user):
    make_city(app, make_user)


def _unit(code):
    return db.session.execute(db.select(Unit).filter_by(code=code)).scalar_one()


def test_edit_keeps_history_and_shows_warnings(app, client, auth, city):
    """Does an edit change the figures, keep before/after in the history, and raise the warnings it causes?"""
    auth.login("op", PW)
    response = client.post(
        "/office/establishment/units/U01",
        data={
            "establishment": "40",
            "actual_staff": "41",
            "leader_posts": "4",
            "leaders_in_post": "5",
            "note": "2026年3月人员调整",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        change = db.session.execute(db.select(EstablishmentChange)).scalar_one()
        assert change.changed_figures() == [("actual_staff", 35, 41), ("leaders_in_post", 4, 5)]
        assert change.changed_by == "op" and change.note == "2026年3月人员调整"
        assert service.warnings(_unit("U01")) == ["over_establishment", "over_leader_posts"]
    page = client.get("/office/establishment/units/U01").get_data(as_text=True)
    assert "超编" in page and "超职数" in page and "实有人数 35 → 41" in page
    units_page = client.get("/office/units").get_data(as_text=True)
    assert units_page.count("超编") >= 2  # U01 now, U02 already (22 staff on 20)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("establishment", "-3", "编制数：请填写不小于 0 的整数"),
        ("actual_staff", "十", "实有人数：请填写不小于 0 的整数"),
        ("leader_posts", "9999999", "领导职数：请填写 0 至 100000 之间的整数"),
    ],
)
def test_bad_figures_name_the_field_and_change_nothing(app, client, auth, city, field, value, message):
    """Is a bad figure refused with a Chinese message naming it, with no figure or history changed?"""
    auth.login("op", PW)
    data = {"establishment": "41", "actual_staff": "35", "leader_posts": "4", "leaders_in_post": "4", field: value}
    response = client.post("/office/establishment/units/U01", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert _unit("U01").establishment == 40
        assert db.session.execute(db.select(EstablishmentChange)).first() is None


def test_viewer_reads_but_cannot_edit_and_liaison_sees_nothing(app, client, auth, city):
    """May a viewer read the figures but not change them, and a liaison open none of these pages?"""
    auth.login("vw", PW)
    assert client.get("/office/establishment").status_code == 200
    assert client.post("/office/establishment/units/U01", data={"establishment": "1"}).status_code == 403
    assert client.post("/office/establishment/pool/allocate", data={"unit": "U01", "amount": "1"}).status_code == 403
    auth.login("li1", PW)
    for url in ("/office/establishment", "/office/establishment/units/U01", "/office/establishment/pool"):
        assert client.get(url).status_code == 403


def test_city_vacancy_total(app, client, auth, city):
    """Is the city's vacancy total the sum of each unit's vacancies, an over-staffed unit counting 0?"""
    with app.app_context():
        totals = service.city_totals()
        assert (totals.establishment, totals.actual_staff, totals.vacancies) == (60, 57, 5)
        assert (totals.over_establishment, totals.over_leader_posts, totals.pool_balance) == (1, 1, 0)
    auth.login("vw", PW)
    page = client.get("/office/establishment").get_data(as_text=True)
    assert "全市空编数" in page


def test_confirming_a_reduction_moves_establishments_once(app, client, auth, city):
    """Does confirming a published reduction move it from the unit to the pool once, with records, and refuse a
    second confirmation?"""
    auth.login("op", PW)
    before = client.post(
        "/office/establishment/pool/confirm", data={"period": "2026", "unit": "U01"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "尚未发布" in before
    publish_with_reduction(app, "U01", 2)
    page = client.get("/office/establishment/pool").get_data(as_text=True)
    assert "确认核减 2 名" in page
    done = client.post(
        "/office/establishment/pool/confirm", data={"period": "2026", "unit": "U01"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "空编池现有 2 名" in done
    again = client.post(
        "/office/establishment/pool/confirm", data={"period": "2026", "unit": "U01"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "不能重复确认" in again
    with app.app_context():
        assert _unit("U01").establishment == 38
        assert service.pool_balance() == 2
        entry = db.session.execute(db.select(VacancyPoolEntry)).scalar_one()
        assert (entry.seq, entry.amount, entry.balance_after, entry.kind.value) == (1, 2, 2, "reclaim")
        change = db.session.execute(db.select(EstablishmentChange)).scalar_one()
        assert change.source.value == "pool" and change.changed_figures() == [("establishment", 40, 38)]


def test_the_database_refuses_a_second_confirmation(app, city):
    """Does the database itself refuse a second reclaim of one unit in one period (two clerks at once)?"""
    publish_with_reduction(app, "U01", 2)
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        unit = _unit("U01")
        db.session.add(
            VacancyPoolEntry(
                seq=1, kind="reclaim", unit_id=unit.id, period_id=period.id, amount=2, balance_after=2, created_by="a"
            )
        )
        db.session.commit()
        db.session.add(
            VacancyPoolEntry(
                seq=2, kind="reclaim", unit_id=unit.id, period_id=period.id, amount=2, balance_after=4, created_by="b"
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(
            VacancyPoolEntry(seq=2, kind="allocate", unit_id=unit.id, amount=3, balance_after=-1, created_by="c")
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_reduction_larger_than_the_vacancies_is_refused(app, client, auth, city):
    """Is a reduction refused when the unit no longer has that many vacant posts (and nothing moves)?"""
    publish_with_reduction(app, "U02", 1)  # U02 is over establishment: no vacancy to reclaim
    auth.login("op", PW)
    page = client.post(
        "/office/establishment/pool/confirm", data={"period": "2026", "unit": "U02"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "现有空编 0 名" in page
    with app.app_context():
        assert service.pool_balance() == 0 and _unit("U02").establishment == 20


def test_allocation_never_takes_the_pool_below_zero(app, client, auth, city):
    """Does an allocation take from the pool and give to the unit, refusing more than the balance?"""
    publish_with_reduction(app, "U01", 2)
    auth.login("op", PW)
    client.post("/office/establishment/pool/confirm", data={"period": "2026", "unit": "U01"})
    too_much = client.post(
        "/office/establishment/pool/allocate",
        data={"unit": "U02", "amount": "3", "note": "新增职能"},
        follow_redirects=True,
    )
    assert "空编池现有 2 名，不足 3 名" in too_much.get_data(as_text=True)
    no_note = client.post(
        "/office/establishment/pool/allocate", data={"unit": "U02", "amount": "1", "note": ""}, follow_redirects=True
    )
    assert "调剂说明：请填写" in no_note.get_data(as_text=True)
    ok = client.post(
        "/office/establishment/pool/allocate",
        data={"unit": "U02", "amount": "2", "note": "新增职能"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "空编池现有 0 名" in ok
    with app.app_context():
        assert service.pool_balance() == 0 and _unit("U02").establishment == 22
        assert [e.balance_after for e in service.pool_entries()] == [0, 2]
        assert db.session.execute(db.select(Period)).scalar_one().state is PeriodState.PUBLISHED


def test_a_writer_with_a_stale_balance_is_refused(app, city, monkeypatch):
    """Is a pool entry written from a stale read (another clerk appended meanwhile) refused with a message, the
    first entry kept and the balance unchanged?"""
    publish_with_reduction(app, "U01", 2)
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        service.confirm_reduction(period, "U01", "first")
        db.session.commit()
        # As if read before the first entry was committed, with a balance that would allow the allocation.
        monkeypatch.setattr(service, "_last_entry", lambda: SimpleNamespace(seq=0, balance_after=5))
        with pytest.raises(service.EstablishmentError, match="有人刚刚修改了空编池"):
            service.allocate(_unit("U02"), 1, "调剂", "second")
        db.session.rollback()
        monkeypatch.undo()
        assert service.pool_balance() == 2 and _unit("U02").establishment == 20
        assert [e.created_by for e in service.pool_entries()] == ["first"]


@pytest.mark.parametrize("value", ["²", "①", "٣"])
def test_digit_like_characters_are_refused_not_a_500(app, client, auth, city, value):
    """Is a figure typed as a superscript, circled or Arabic-Indic digit (str.isdigit() is True, int() fails)
    refused with the field's name instead of a 500?"""
    auth.login("op", PW)
    data = {"establishment": value, "actual_staff": "35", "leader_posts": "4", "leaders_in_post": "4"}
    response = client.post("/office/establishment/units/U01", data=data)
    assert response.status_code == 400 and "编制数：请填写不小于 0 的整数" in response.get_data(as_text=True)
    with app.app_context():
        assert _unit("U01").establishment == 40


def test_digit_like_allocation_is_refused_not_a_500(app, client, auth, city):
    """Is an allocation of "²" establishments refused with the field's name instead of a 500?"""
    publish_with_reduction(app, "U01", 2)
    auth.login("op", PW)
    client.post("/office/establishment/pool/confirm", data={"period": "2026", "unit": "U01"})
    response = client.post(
        "/office/establishment/pool/allocate", data={"unit": "U02", "amount": "²", "note": "新增职能"}
    )
    assert response.status_code < 500
    page = client.get("/office/establishment/pool").get_data(as_text=True)
    assert "调剂数量：请填写大于 0 的整数" in page
    with app.app_context():
        assert service.pool_balance() == 2 and _unit("U02").establishment == 20
