"""Ledger numbers (YYYY-NNNN): every problem gets the next number of the year it was found when it is first
written, whoever writes it (the console, a linkage department, the demo, an import).

The one writer of `ledger_counters`. Numbering is a flush hook so that no path can write a problem without a
number; create_app imports this module, which registers the hook. Imports write problems with Core and call
`take_numbers` themselves.
"""

from sqlalchemy import event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models.ledger import LedgerCounter, Problem


def take_numbers(connection, year: int, count: int = 1) -> range:
    """Reserve the next ``count`` ledger numbers of ``year`` (1-9999) inside the caller's transaction.

    The counter row is created if missing (INSERT … ON CONFLICT DO NOTHING, safe when two filings create it at
    once), then moved on by one UPDATE … SET last = last + count RETURNING last: the row lock (PostgreSQL) or the
    write lock (SQLite) makes a second filing wait until the first commits or rolls back, so numbers are never
    repeated, and a rolled-back filing gives its numbers back, so none is skipped.
    """
    table = LedgerCounter.__table__
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(dialect_insert(table).values(year=year, last=0).on_conflict_do_nothing())
    last = connection.execute(
        update(table).where(table.c.year == year).values(last=table.c.last + count).returning(table.c.last)
    ).scalar_one()
    return range(last - count + 1, last + 1)


@event.listens_for(Session, "before_flush")
def _number_new_problems(session, flush_context, instances):
    """Every problem gets its ledger number when it is first written, in the order it was added, whoever adds
    it (the console, a linkage department, the demo); imports write with Core and call take_numbers themselves."""
    new = [obj for obj in session.new if isinstance(obj, Problem) and obj.seq is None]
    by_year: dict[int, list[Problem]] = {}
    for problem in new:
        by_year.setdefault(problem.found_on.year, []).append(problem)
    for year, problems in sorted(by_year.items()):
        for problem, seq in zip(problems, take_numbers(session.connection(), year, len(problems)), strict=True):
            problem.year, problem.seq = year, seq
