"""Public ratings (好差评), by concern: what devices post and how it is stored, suspicion flags, the office's
exclusions, the console's figures, bad-rating cases (差评工单) and the devices that rate.

    ingest.py      storing posted ratings exactly once, with an answer per rating (submit commits per batch)
    insert.py      the ingest path's batch INSERT … ON CONFLICT DO NOTHING RETURNING, per dialect
    connection.py  the connection the ingest path writes on (its own unit of work, else the session's)
    counts.py      rating_counts (kept by database triggers) checked against a full recount
    hashing.py     the content hash that tells a duplicate retry from a conflicting reuse of an event id
    flags.py       suspicion flags: odd hours, bursts of top ratings, rescanning a period
    exclusions.py  excluding a rating from scoring, or counting it again (audited)
    stats.py       console figures: summary, monthly trend, unit table, flagged ratings, Wilson intervals
    cases.py       the bad-rating case workflow, deadlines in working days, handling rates
    devices.py     devices and integration keys: registration, keys, authentication

Parsing the API body is the API's (assessment/api/parsing.py). The names below are re-exported for the
callers that import them from `assessment.services.ratings` (never a name that is also a submodule's, such
as `ingest`: it would hide the module).
"""

from .cases import CaseError, due_on, insert_cases, open_cases_for_ratings
from .devices import AuthError, DeviceAuth, DeviceError, authenticate, hash_key, register_device
from .exclusions import RatingError, set_excluded
from .flags import FLAG_LABELS, ODD_HOURS, rescan_bursts, rescan_flags
from .hashing import content_hash
from .ingest import REASONS, submit
from .stats import default_period, flagged_ratings, monthly_trend, summary, unit_table, wilson_interval

__all__ = [
    "FLAG_LABELS",
    "ODD_HOURS",
    "REASONS",
    "AuthError",
    "CaseError",
    "DeviceAuth",
    "DeviceError",
    "RatingError",
    "authenticate",
    "content_hash",
    "default_period",
    "due_on",
    "flagged_ratings",
    "hash_key",
    "insert_cases",
    "monthly_trend",
    "open_cases_for_ratings",
    "register_device",
    "rescan_bursts",
    "rescan_flags",
    "set_excluded",
    "submit",
    "summary",
    "unit_table",
    "wilson_interval",
]
