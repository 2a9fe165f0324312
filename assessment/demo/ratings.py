"""The demo city's public ratings (好差评): service-window devices, a year of ratings, their flags and cases.

The ratings are data: who rated which unit through which channel, at which level and when. What follows from
them is left to the services that decide it for real ratings: the suspicion flags (`rescan_flags`), the
bad-rating cases that open for them (`open_cases_for_ratings`, due by the office's working-day calendar), and
an upheld appeal excluding its rating (`cases.review`). The demo only plays the units' and the office's part
in each case: who did which step when, as the console would have recorded it.
"""

import secrets
from datetime import UTC, datetime, time, timedelta

import numpy as np

from ..extensions import db
from ..models import (
    BadRatingCase,
    CaseClass,
    CaseState,
    Channel,
    CodeSystem,
    Device,
    PublicRating,
)
from ..services.bulk import bulk_insert, bulk_update
from ..services.ratings import cases
from ..services.ratings.devices import hash_key
from ..services.ratings.flags import rescan_flags
from ..services.ratings.hashing import content_hash
from ..timefmt import CST
from . import names
from .city import City

#: Rows per bulk insert of public ratings.
RATING_CHUNK = 20_000

#: Window devices where someone pressed top ratings in a quick run (刷好评), and how many ratings a run has.
N_BURSTS, BURST_SIZE = 4, 6

#: What a case's workflow sets as it goes (None where the case has not got that far).
_STEP_COLUMNS = (
    "state",
    "assignee",
    "assigned_at",
    "called_back_at",
    "callback_reached",
    "callback_note",
    "classified_at",
    "classification",
    "rectified_at",
    "rectification",
    "fed_back_at",
    "feedback_note",
    "appealed_at",
    "appeal",
    "closed_at",
)


def _key(city: City):
    """A device key: a seeded prefix (to find the row) and a secret body that is never shown or kept."""
    prefix = f"dk{city.rnd.getrandbits(48):012x}"
    return prefix, hash_key(prefix + secrets.token_hex(32))


def make_devices(city: City) -> None:
    """A rating device at each service window, and the online platform's and the hotline's integration keys."""
    created = city.at(city.start, 9)
    devices = []
    city.device_unit = []
    for i, unit in enumerate(city.units):
        for w in range(int(city.windows[i])):
            window = names.WINDOW_NAMES[w] if city.rnd.random() < 0.7 else names.WINDOW_NAMES[2 + w]
            location = (
                f"市民服务中心{city.rnd.randint(1, 3)}楼{unit.name}窗口"
                if city.rnd.random() < 0.6
                else f"{unit.name}服务大厅"
            )
            prefix, digest = _key(city)
            devices.append(
                Device(
                    unit_id=unit.id,
                    window=window,
                    location=location,
                    channel=Channel.WINDOW,
                    code_system=CodeSystem.STANDARD,
                    key_prefix=prefix,
                    key_hash=digest,
                    created_at=created,
                )
            )
            city.device_unit.append(i)
    prefix, digest = _key(city)
    city.online = Device(
        is_integration=True,
        channel=Channel.ONLINE,
        location="山东省政务服务网（诸城站）",
        key_prefix=prefix,
        key_hash=digest,
        created_at=created,
    )
    prefix, digest = _key(city)
    city.hotline = Device(
        is_integration=True,
        channel=Channel.HOTLINE,
        location="12345政务服务便民热线",
        key_prefix=prefix,
        key_hash=digest,
        created_at=created,
    )
    db.session.add_all(devices + [city.online, city.hotline])
    db.session.flush()
    city.devices = devices
    city.counts["devices"] = len(devices)
    city.counts["integration_keys"] = 2


def _level_tables(city: City):
    """Per unit, probabilities of levels 1..5: mostly 4-5; bad ratings a few percent for weak units."""
    q = city.quality
    bad = np.clip(0.018 - 0.012 * q, 0.003, 0.07)
    p3 = np.clip(0.045 - 0.02 * q, 0.01, 0.12)
    p4 = np.clip(0.17 - 0.04 * q, 0.06, 0.3)
    window = np.stack([0.45 * bad, 0.55 * bad, p3, p4, 1 - bad - p3 - p4], axis=1)
    # People who call the hotline about a unit are less pleased than those at its window.
    hot_bad = np.clip(3 * bad, 0.01, 0.2)
    hotline = np.stack([0.5 * hot_bad, 0.5 * hot_bad, 1.5 * p3, p4, 1 - hot_bad - 1.5 * p3 - p4], axis=1)
    return np.cumsum(window, axis=1), np.cumsum(hotline, axis=1)


def _day_starts(days) -> np.ndarray:
    """Unix seconds of China midnight of each day."""
    return np.array([datetime.combine(d, time(0), tzinfo=CST).timestamp() for d in days], dtype=np.int64)


def _press_bursts(rng, channel, dev, level, is_default, ts) -> None:
    """Move a few runs of one window's top ratings within a minute or so of each other (in place)."""
    top = np.flatnonzero((channel == 0) & (level == 5) & ~is_default)
    per_device = np.bincount(dev[top]) if len(top) else np.zeros(0, np.int64)
    candidates = np.flatnonzero(per_device >= BURST_SIZE)
    if not len(candidates):
        return
    for d in sorted(rng.choice(candidates, size=min(N_BURSTS, len(candidates)), replace=False).tolist()):
        run = top[dev[top] == d][:BURST_SIZE]
        ts[run] = ts[run[0]] + np.r_[0, np.cumsum(rng.integers(5, 16, BURST_SIZE - 1))]


def make_ratings(city: City, n: int) -> None:
    """`n` public ratings spread over the days the city has had, then flagged as the office's rules say."""
    rng = city.rng
    units = city.units
    n_units = len(units)
    if n <= 0 or not city.devices:
        city.counts.update({"ratings": 0, "default_ratings": 0, "flagged_ratings": 0})
        return
    # How much business each unit does (service windows and town relevance), with some spread.
    volume = (1.0 + city.windows + 0.3 * city.relevance) * rng.lognormal(0.0, 0.4, n_units)
    serves = np.array([k != "party" for k in city.kinds])
    has_windows = city.windows > 0

    n_online = round(n * 0.14)
    n_hotline = round(n * 0.06)
    n_window = n - n_online - n_hotline
    dev_unit = np.array(city.device_unit)
    p_dev = volume[dev_unit] / city.windows[dev_unit] * rng.lognormal(0.0, 0.25, len(dev_unit))
    dev_pick = rng.choice(len(dev_unit), size=n_window, p=p_dev / p_dev.sum())
    p_online = np.where(has_windows, volume, 0.0)
    p_hot = np.where(serves, volume + 1.0, 0.0)
    unit_ix = np.concatenate(
        [
            dev_unit[dev_pick],
            rng.choice(n_units, size=n_online, p=p_online / p_online.sum()),
            rng.choice(n_units, size=n_hotline, p=p_hot / p_hot.sum()),
        ]
    )
    channel = np.concatenate([np.zeros(n_window, np.int8), np.ones(n_online, np.int8), np.full(n_hotline, 2, np.int8)])
    device_ids = [d.id for d in city.devices] + [city.online.id, city.hotline.id]
    origins = [f"d{i}" for i in device_ids]
    dev = np.concatenate([dev_pick, np.full(n_online, len(city.devices)), np.full(n_hotline, len(city.devices) + 1)])

    # Level by the unit's table; hotline callers are harder to please; 3% are system defaults (level 5).
    cum_window, cum_hotline = _level_tables(city)
    cum = np.where((channel == 2)[:, None], cum_hotline[unit_ix], cum_window[unit_ix])
    level = 1 + (rng.random(n)[:, None] > cum[:, :4]).sum(axis=1)
    is_default = (channel != 2) & (rng.random(n) < 0.03)
    level[is_default] = 5

    # When: windows in office hours on workdays; online any day 7-23 h; hotline any day 8-21 h; all of it
    # on the days up to `last`, so before today.
    all_days = _day_starts(city.start + timedelta(days=d) for d in range((city.last - city.start).days + 1))
    work_days = _day_starts(city.workdays) if city.workdays else all_days
    office = rng.integers(0, 27000, n)
    office = np.where(office < 12600, 30600 + office, 48600 + office - 12600)
    anytime = np.where(channel == 1, rng.integers(7 * 3600, 23 * 3600, n), rng.integers(8 * 3600, 21 * 3600, n))
    ts = np.where(
        channel == 0,
        work_days[rng.integers(0, len(work_days), n)] + office,
        all_days[rng.integers(0, len(all_days), n)] + anytime,
    )
    delay = np.where(channel == 0, rng.integers(1, 30, n), rng.integers(300, 3600, n))
    offline = (channel == 0) & (rng.random(n) < 0.02)
    delay = np.where(offline, rng.integers(600, 2 * 86400, n), delay)
    _press_bursts(rng, channel, dev, level, is_default, ts)
    # A device that was offline delivers what it stored when it comes back, and nothing arrives after now.
    arrived = np.minimum(ts + delay, int(city.now.timestamp()))

    # Arrival order: rows and ids follow the time of rating.
    order = np.argsort(ts, kind="stable")
    unit_ix, channel, dev, level, is_default, ts, arrived = (
        a[order] for a in (unit_ix, channel, dev, level, is_default, ts, arrived)
    )
    # Event ids count up per device.
    by_dev = np.argsort(dev, kind="stable")
    sorted_dev = dev[by_dev]
    starts = np.r_[0, np.flatnonzero(sorted_dev[1:] != sorted_dev[:-1]) + 1]
    seq = np.empty(n, np.int64)
    seq[by_dev] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1

    has_case = (channel != 0) | (rng.random(n) < 0.85)
    staff_n = rng.integers(3, 11, n_units)
    staff = rng.integers(0, 1000, n) % staff_n[unit_ix] + 1
    item_pick = rng.integers(0, 1000, n)
    comment_draw = rng.random(n)
    comment_pick = rng.integers(0, 1000, n)

    unit_codes = [u.code for u in units]
    unit_ids = [u.id for u in units]
    items = [names.UNITS[i][6] or ("政策咨询",) for i in range(n_units)]
    staff_codes = [[f"{code}-{k:02d}" for k in range(11)] for code in unit_codes]
    windows = [d.window for d in city.devices] + [None, None]
    channels = (Channel.WINDOW, Channel.ONLINE, Channel.HOTLINE)
    channel_values = [c.value for c in channels]
    event_prefix = ("EV", "WT", "RX")
    case_prefix = ("370782", "370782", "GD")
    # China date of each rating as YYYYMMDD, for case numbers.
    first_day = int(datetime.combine(city.start, time(0), tzinfo=CST).timestamp()) // 86400
    day_text = [f"{city.start + timedelta(days=d):%Y%m%d}" for d in range(367)]
    local_day = ((ts + 8 * 3600) // 86400 - first_day).tolist()

    cols = [
        a.tolist()
        for a in (
            unit_ix,
            channel,
            dev,
            level,
            is_default,
            ts,
            arrived,
            seq,
            has_case,
            staff,
            item_pick,
            comment_draw,
            comment_pick,
        )
    ]
    period_id = city.period.id
    total_default = int(is_default.sum())
    utc = UTC
    default_flag = ["default"]  # as the device API marks a system-default rating
    for start in range(0, n, RATING_CHUNK):
        rows = []
        for k in range(start, min(n, start + RATING_CHUNK)):
            u, ch, d, lv, dflt, t, at, sq, hc, st, ip, cd, cp = (c[k] for c in cols)
            rated = datetime.fromtimestamp(t, utc)
            event_id = f"{event_prefix[ch]}{sq:08d}"
            case_no = f"{case_prefix[ch]}{day_text[local_day[k]]}{k:07d}" if hc else None
            service_item = "12345热线工单办理" if ch == 2 else items[u][ip % len(items[u])]
            staff_code = staff_codes[u][st] if ch == 0 else None
            comment = None
            if not dflt:
                if lv <= 2 and cd < 0.35:
                    comment = names.BAD_COMMENTS[cp % len(names.BAD_COMMENTS)]
                elif lv == 5 and cd < 0.015:
                    comment = names.GOOD_COMMENTS[cp % len(names.GOOD_COMMENTS)]
            rows.append(
                {
                    "period_id": period_id,
                    "unit_id": unit_ids[u],
                    "device_id": device_ids[d],
                    "origin": origins[d],
                    "event_id": event_id,
                    "level": lv,
                    "raw_code": lv,
                    "code_system": CodeSystem.STANDARD,
                    "channel": channels[ch],
                    "window": windows[d],
                    "service_item": service_item,
                    "staff_code": staff_code,
                    "case_no": case_no,
                    "stage": "",
                    "comment": comment,
                    "rated_at": rated,
                    "received_at": datetime.fromtimestamp(at, utc),
                    "is_default": dflt,
                    "flags": default_flag if dflt else None,
                    "flagged": False,
                    "real_name": hc,
                    "excluded": False,
                    "content_hash": content_hash(
                        event_id,
                        unit_codes[u],
                        lv,
                        channel_values[ch],
                        rated,
                        case_no,
                        service_item,
                        staff_code,
                        comment,
                        dflt,
                    ),
                }
            )
        bulk_insert(PublicRating, rows)
        city.progress(start + len(rows), n, "ratings")

    # Devices were last seen when their last rating arrived, having posted all of them.
    posted = np.bincount(dev, minlength=len(device_ids)).tolist()
    last_seen = np.zeros(len(device_ids), np.int64)
    np.maximum.at(last_seen, dev, arrived)
    all_devices = city.devices + [city.online, city.hotline]
    for device, n_posted, seen in zip(all_devices, posted, last_seen.tolist(), strict=False):
        device.n_accepted = n_posted
        device.last_seen_at = datetime.fromtimestamp(seen, UTC) if n_posted else None
    city.counts["ratings"] = n
    city.counts["default_ratings"] = total_default
    # Ratings that came in bulk escaped the checks at arrival: the office's rescan flags them now.
    city.counts["flagged_ratings"] = sum(rescan_flags(city.period).values())


def make_cases(city: City) -> None:
    """The bad-rating cases (差评工单) that the ratings open, each taken as far as its unit got by now.

    The service opens them (which ratings get one, and when each is due, by the office's calendar). The
    demo then plays the workflow of services/cases.py: assign → call back (real-name ratings) → classify →
    rectify or explain → feed back → close, or, for a rating judged unfounded, appeal → review, decided
    through `cases.review` (which excludes the rating when the appeal is upheld). Most are fed back in time,
    some late, a few never touched (overdue); a step that would lie after `city.horizon` is not taken.
    """
    period_id = city.period.id
    rating_ids = db.session.scalars(
        db.select(PublicRating.id).where(PublicRating.period_id == period_id).order_by(PublicRating.id)
    ).all()
    opened = cases.open_cases_for_ratings(rating_ids, from_rated_at=True)
    found = db.session.execute(
        db.select(
            BadRatingCase.id,
            BadRatingCase.unit_id,
            BadRatingCase.opened_at,
            PublicRating.staff_code,
            PublicRating.real_name,
        )
        .join(PublicRating, PublicRating.id == BadRatingCase.rating_id)
        .where(PublicRating.period_id == period_id)
        .order_by(PublicRating.id)
    ).all()
    rnd = city.rnd
    handlers = {u.id: [city.person() for _ in range(2)] for u in city.units}
    classes = (CaseClass.REASONABLE, CaseClass.MISTAKEN, CaseClass.MALICIOUS, CaseClass.OUT_OF_SCOPE)
    updates, reviews = [], []
    for case_id, unit_id, opened_at, staff_code, real_name in found:
        case = dict.fromkeys(_STEP_COLUMNS) | {"id": case_id, "state": CaseState.OPEN}
        klass = rnd.choices(classes, weights=(60, 20, 5, 15))[0]
        steps = ["assign", "callback", "classify", "rectify", "feedback", "close"]
        if not real_name:
            steps.remove("callback")
        r = rnd.random()
        if r < 0.04:
            steps = []  # never touched
        elif r < 0.07:
            steps = steps[:-1]  # fed back, waiting to be closed
        elif klass is not CaseClass.REASONABLE and r < 0.3:
            steps[-1:] = ["appeal", "review"]
        slow = rnd.random() < 0.1
        gaps = {
            "assign": timedelta(hours=rnd.randint(1, 8)),
            "callback": timedelta(days=rnd.randint(0, 1), hours=rnd.randint(1, 6)),
            "classify": timedelta(hours=rnd.randint(2, 24)),
            "rectify": timedelta(days=rnd.randint(1, 3) + (8 if slow else 0)),
            "feedback": timedelta(days=rnd.randint(0, 1), hours=2),
            "close": timedelta(days=rnd.randint(1, 4)),
            "appeal": timedelta(days=rnd.randint(1, 3)),
            "review": timedelta(days=rnd.randint(3, 12)),
        }
        moment = opened_at
        for step in steps:
            moment = moment + gaps[step]
            if moment > city.horizon:
                break
            if step == "assign":
                case.update(
                    state=CaseState.ASSIGNED, assigned_at=moment, assignee=staff_code or rnd.choice(handlers[unit_id])
                )
            elif step == "callback":
                reached = rnd.random() < 0.9
                case.update(
                    state=CaseState.CALLED_BACK,
                    called_back_at=moment,
                    callback_reached=reached,
                    callback_note=rnd.choice(names.CASE_CALLBACK_NOTES if reached else names.CASE_CALLBACK_MISSED),
                )
            elif step == "classify":
                case.update(state=CaseState.CLASSIFIED, classified_at=moment, classification=klass)
            elif step == "rectify":
                text = rnd.choice(
                    names.CASE_RECTIFICATIONS if klass is CaseClass.REASONABLE else names.CASE_EXPLANATIONS
                )
                case.update(state=CaseState.RECTIFIED, rectified_at=moment, rectification=text)
            elif step == "feedback":
                case.update(state=CaseState.FED_BACK, fed_back_at=moment, feedback_note=rnd.choice(names.CASE_FEEDBACK))
            elif step == "close":
                case.update(state=CaseState.CLOSED, closed_at=moment)
            elif step == "appeal":
                case.update(state=CaseState.APPEALED, appealed_at=moment, appeal=rnd.choice(names.CASE_APPEALS))
            elif step == "review":
                holds = rnd.random() < 0.6
                reviews.append((case_id, holds, names.CASE_REVIEWS[holds], moment))
        updates.append(case)
    bulk_update(BadRatingCase, updates)
    # The office decides the appeals as the console does; the review is stamped when it was made.
    for case_id, holds, result, moment in reviews:
        case = cases.review(db.session.get(BadRatingCase, case_id), holds, result, actor="demo")
        case.reviewed_at = case.closed_at = moment
    db.session.flush()
    city.counts["bad_rating_cases"] = opened
    city.counts["overdue_cases"] = cases.case_rates(period_id, today=city.as_of)["overdue"]
