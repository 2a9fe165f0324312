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
