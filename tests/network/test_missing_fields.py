"""A problem posted with its fields missing answers with a Chinese message naming them, never a 500."""

import pytest

from assessment.services.ledger import LedgerError, ProblemInput, file_problem
from assessment.services.periods import get_or_create_period


def test_a_problem_without_unit_and_title_is_refused_by_field(app):
    """Does filing a problem with no unit and no title name a missing field instead of crashing?"""
    with app.app_context():
        period = get_or_create_period("2026")
        with pytest.raises(LedgerError) as refused:
            file_problem(period, ProblemInput(), actor="test")
        assert refused.value.message_zh == "被反映单位：请选择单位。"


HUGE = "99999999999999999999"


def test_a_huge_unit_id_on_the_ledger_form_is_a_message(app, net, auth):
    """Is a unit id past the database's integer range on /office/ledger/new a 400 naming the field, not a 500?"""
    auth.login("office")
    response = auth._client.post(
        "/office/ledger/new", data={"unit_id": HUGE, "title": "超时", "found_on": "2026-03-01"}
    )
    assert response.status_code == 400 and "被反映单位：请选择单位。" in response.get_data(as_text=True)


def test_a_huge_unit_id_from_an_informant_is_a_message(app, net):
    """Is a unit id past the integer range in an informant's report a 400 naming the field, not a 500?"""
    from tests.network.test_network_pages import _participant

    client = _participant(app, "I1")
    response = client.post(
        "/p/suggest",
        data={"kind": "report", "unit_id": HUGE, "text": "窗口午休无人"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "涉及单位：请从列表中选择单位。" in response.get_data(as_text=True)


def test_a_huge_unit_id_from_a_linkage_department_is_a_message(app, net):
    """Is a unit id past the integer range in a linkage department's report a 400 naming the field?"""
    from tests.network.test_network_pages import _participant

    client = _participant(app, "K1")
    response = client.post("/p/report", data={"unit_id": HUGE, "title": "超时", "found_on": "2026-03-01"})
    assert response.status_code == 400 and "被反映单位：请选择单位。" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["year=0", "year=10000", "year=9999&quarter=4", "year=1&quarter=1", "quarter=9"])
def test_an_impossible_quarter_on_the_people_page_is_not_a_500(app, net, auth, query):
    """Does /office/network/people answer a year or quarter no calendar can bound below 500?"""
    auth.login("office")
    assert auth._client.get(f"/office/network/people?{query}").status_code < 500


def test_a_huge_department_id_on_the_linkage_import_is_a_message(app, net, auth):
    """Is a department id past the integer range on the linkage import refused by name, not a 500?"""
    auth.login("office")
    response = auth._client.post("/office/network/linkage/import", data={"department": HUGE}, follow_redirects=True)
    assert response.status_code == 200 and "联动部门：请选择部门。" in response.get_data(as_text=True)
