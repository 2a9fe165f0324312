"""Helpers shared by the API tests: China-time moments, rating objects, a stored questionnaire."""

from datetime import datetime, time, timedelta

from assessment.extensions import db
from assessment.models import Instrument, Question
from assessment.timefmt import CST


def daytime(days_ago=0, hour=10, minute=0, second=0):
    """A China-time moment at `hour` on a recent day, never in the future and never at night."""
    now = datetime.now(CST)
    day = now.date() - timedelta(days=days_ago)
    moment = datetime.combine(day, time(hour, minute, second), tzinfo=CST)
    if moment > now - timedelta(minutes=5):
        moment -= timedelta(days=1)
    return moment


def spy_returns(monkeypatch, module, name) -> list:
    """Replace module.`name` by a spy that calls it and records what each call returned (the exception when it
    raised, then raised again); returns the record."""
    calls = []
    real = getattr(module, name)

    def spied(*args, **kwargs):
        try:
            result = real(*args, **kwargs)
        except Exception as exc:
            calls.append(exc)
            raise
        calls.append(result)
        return result

    monkeypatch.setattr(module, name, spied)
    return calls


def rating(event_id, level=5, at=None, **extra):
    """A rating object as a device sends it."""
    body = {"event_id": event_id, "level": level, "rated_at": (at or daytime()).isoformat()}
    body.update(extra)
    return body


def stored_instrument(qids):
    """A grassroots questionnaire with score questions `qids` (in that order), added and flushed."""
    instrument = Instrument(
        key="grassroots",
        version=1,
        title="g",
        rater_group="grassroots",
        targets="all_units",
        definition="key: grassroots\n",
        fingerprint="x" * 64,
    )
    for position, qid in enumerate(qids):
        instrument.questions.append(Question(qid=qid, position=position, theme="t", type="score100", text=qid))
    db.session.add(instrument)
    db.session.flush()
    return instrument
