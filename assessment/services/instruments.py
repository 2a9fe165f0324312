"""Instruments (问卷) in the database, kept in step with the definition files under surveys/."""

import hashlib

from ..extensions import db
from ..models import Instrument, Question


def sync_instruments(definitions=None, actor: str = "system") -> int:
    """Store each definition as an Instrument (key, version) with its questions; returns how many were new.

    A definition already stored with the same key and version is left alone if its text is unchanged; a
    changed text under an existing version is refused, because submitted answers are read against it —
    the office must raise the version number instead.
    """
    from surveys import dump_definition, load_all

    from . import audit

    definitions = load_all() if definitions is None else definitions
    added = 0
    for key, defn in definitions.items():
        text = dump_definition(defn)
        fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
        existing = db.session.execute(
            db.select(Instrument).filter_by(key=key, version=defn.version)
        ).scalar_one_or_none()
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise ValueError(
                    f"instrument {key} version {defn.version} is already stored with other questions; "
                    "raise its version number"
                )
            continue
        instrument = Instrument(
            key=key,
            version=defn.version,
            title=defn.title,
            rater_group=defn.rater_group,
            targets=defn.targets,
            definition=text,
            fingerprint=fingerprint,
        )
        db.session.add(instrument)
        for position, q in enumerate(defn.questions):
            instrument.questions.append(
                Question(qid=q.id, position=position, theme=q.theme, type=q.type, weight=q.weight, text=q.text)
            )
        db.session.flush()
        audit.record(actor, "instrument.add", "instrument", instrument.id, key=key, version=defn.version)
        added += 1
    return added


def current_instruments() -> dict[str, Instrument]:
    """The newest stored version of each instrument, by key."""
    rows = db.session.execute(db.select(Instrument).order_by(Instrument.key, Instrument.version)).scalars()
    return {row.key: row for row in rows}
