"""Helpers shared by the API tests: China-time moments and rating objects."""

from datetime import datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8))


def daytime(days_ago=0, hour=10, minute=0, second=0):
    """A China-time moment at `hour` on a recent day, never in the future and never at night."""
    now = datetime.now(CST)
    day = now.date() - timedelta(days=days_ago)
    moment = datetime.combine(day, time(hour, minute, second), tzinfo=CST)
    if moment > now - timedelta(minutes=5):
        moment -= timedelta(days=1)
    return moment


def rating(event_id, level=5, at=None, **extra):
    """A rating object as a device sends it."""
    body = {"event_id": event_id, "level": level, "rated_at": (at or daytime()).isoformat()}
    body.update(extra)
    return body
