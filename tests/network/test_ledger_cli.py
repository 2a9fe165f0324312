"""`assessment ledger --period P --out FILE.csv` as interfaces.md says."""

import csv

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Period
from assessment.services import ledger
from assessment.services.ledger import ProblemInput
from assessment.services.ledger_lists import LEDGER_COLUMNS


def test_ledger_command_writes_the_csv(app, net, runner, tmp_path):
    """Does `assessment ledger` write the ledger with a BOM, the spec's columns and the numbers?"""
    with app.app_context():
        period = db.session.scalar(select(Period))
        ledger.file_problem(
            period,
            ProblemInput(
                unit_id=net.units["U02"],
                title="台账不全",
                found_on="2026-02-01",
                deadline="2026-03-01",
                problem_class="reserve",
            ),
            "office",
        )
        db.session.commit()
    out = tmp_path / "ledger.csv"
    result = runner.invoke(args=["ledger", "--period", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == LEDGER_COLUMNS
    assert rows[1][:6] == ["2026-0001", "U02", "市自然资源局", "台账不全", "supervision", "reserve"]
    assert rows[1][10:] == ["open", "", "true", "true"]
    missing = runner.invoke(args=["ledger", "--period", "1999", "--out", str(out)])
    assert missing.exit_code != 0 and "1999" in missing.output
