"""One optimistic claim for records driven by a state machine (a ledger problem, a check point).

`claim(record, refusal)` moves the record's `version` on by one UPDATE … WHERE id = … AND version = <as read>, so
of two people acting on one read (two closes, a report and a waiver at once) the second finds no row and gets
`refusal` instead of overwriting the first. On PostgreSQL the second UPDATE waits for the first to commit.
An explicit claim rather than SQLAlchemy's version_id_col: the problems import updates rows by ORM bulk UPDATE by
primary key, which a versioned mapper refuses.
"""

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from .refusals import Refused


def claim(record, refusal: Refused) -> None:
    """Claim `record` at the version this request read, or raise `refusal` (someone acted on it meanwhile)."""
    model = type(record)
    read = record.version
    claimed = db.session.execute(
        update(model)
        .where(model.id == record.id, model.version == read)
        .values(version=read + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise refusal
    set_committed_value(record, "version", read + 1)
