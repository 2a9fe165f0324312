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

Parsing the API body is the API's (assessment/api/parsing.py). Callers import the submodule they need
(`from ..services.ratings import cases`); this package re-exports nothing.
"""
