"""rating_counts, the per-unit aggregate scoring reads, equals a full recount whatever wrote the ratings; and
the fast gather gives the very frames the row-by-row queries gave."""

import dataclasses
from datetime import timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import func

import scoring
from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    BadRatingCase,
    Instrument,
    Period,
    PublicRating,
    Rater,
    RaterGroup,
    RatingCount,
    Response,
    ResponseSource,
    ResponseVersion,
    Town,
    Unit,
)
from assessment.services import gather
from assessment.services import scoring as scoring_service
from assessment.services.gather import gather_inputs
from assessment.services.imports import run_import
from assessment.services.ratings.counts import mismatches
from assessment.services.ratings.exclusions import set_excluded
from tests.api.helpers import daytime, rating, stored_instrument


def _counts(app):
    with app.app_context():
        return {
            (u, lv, bool(d)): n
            for u, lv, d, n in db.session.execute(
                sa.select(RatingCount.unit_id, RatingCount.level, RatingCount.is_default, RatingCount.n).where(
                    RatingCount.n != 0
                )
            )
        }


def _exact(app):
    with app.app_context():
        return mismatches()


def test_the_aggregate_equals_a_recount_after_ingest_import_exclusion_and_reimport(app, make_device, post, tmp_path):
    """Does rating_counts equal a GROUP BY of the ratings after each way ratings are written or changed?"""
    _, key = make_device("U01")
    _, integration = make_device(None, None, integration=True, channel="hotline")
    at = daytime(days_ago=3, hour=9)
    batch = [
        rating(f"e{i}", level=1 + i % 5, at=at + timedelta(minutes=7 * i), is_default=i % 7 == 0) for i in range(40)
    ]
    batch.append({"event_id": "bad", "level": "five"})
    assert post(key, {"ratings": batch}).get_json()["accepted"] == 40
    hotline = [rating(f"h{i}", level=2 + i % 3, unit_code="U02") for i in range(9)]
    assert post(integration, {"ratings": hotline}).get_json()["accepted"] == 9
    assert post(key, {"ratings": batch}).get_json()["duplicate"] == 40  # a retry counts nothing twice
    assert _exact(app) == []
    assert sum(_counts(app).values()) == 49

    day = (at - timedelta(days=1)).astimezone(at.tzinfo)
    lines = ["event_id,unit_code,level,channel,rated_at,is_default"] + [
        f"i{i},U0{1 + i % 2},{1 + i % 5},window,{(day + timedelta(minutes=i)).isoformat()},{int(i % 6 == 0)}"
        for i in range(30)
    ]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with app.app_context():
        assert run_import("ratings", path, "P1", actor="test").counts["created"] == 30
        db.session.commit()
    assert _exact(app) == [] and sum(_counts(app).values()) == 79

    with app.app_context():
        ids = db.session.scalars(sa.select(PublicRating.id).order_by(PublicRating.id)).all()
        for rating_id in ids[:5] + ids[-3:]:
            set_excluded(rating_id, True, "误评", actor="test")
        db.session.commit()
    assert _exact(app) == [] and sum(_counts(app).values()) == 71
    with app.app_context():
        set_excluded(ids[0], False, "复核后恢复", actor="test")
        db.session.commit()
    assert _exact(app) == [] and sum(_counts(app).values()) == 72

    with app.app_context():  # the same file again: every row a duplicate, nothing counted twice
        assert run_import("ratings", path, "P1", actor="test").counts["duplicates"] == 30
        db.session.commit()
    assert _exact(app) == [] and sum(_counts(app).values()) == 72

    with app.app_context():  # any other change of a counted column, and a delete, through plain SQL
        db.session.execute(sa.update(PublicRating).where(PublicRating.id.in_(ids[10:20])).values(level=3))
        db.session.execute(sa.update(PublicRating).where(PublicRating.id == ids[21]).values(is_default=True))
        with_case = sa.select(BadRatingCase.rating_id)
        gone = db.session.scalars(
            sa.select(PublicRating.id)
            .where(PublicRating.id.not_in(with_case), PublicRating.excluded.is_(False))
            .limit(2)
        ).all()
        db.session.execute(sa.delete(PublicRating).where(PublicRating.id.in_(gone)))
        db.session.commit()
        assert mismatches() == []
        # The check notices when the aggregate is wrong.
        db.session.execute(sa.update(RatingCount).where(RatingCount.level == 3).values(n=RatingCount.n + 1))
        found = mismatches()
        assert found and all(m["kept"] == m["counted"] + 1 and m["level"] == 3 for m in found)
        db.session.rollback()
    assert sum(_counts(app).values()) == 70


def _reference_gather(period):
    """The gather of ratings and answers as it was before rating_counts: row by row, GROUP BY over ratings."""
    frame = gather._frame
    assignments = frame(
        sa.select(
            Assignment.id, Rater.code, Rater.group, Town.name, Instrument.key, Unit.code, Response.current_version
        )
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id, Unit.active.is_(True)),
        ["assignment", "rater", "group", "town", "instrument", "unit", "submitted"],
    )
    assignments["group"] = gather._values(assignments["group"])
    answer_rows = frame(
        sa.select(Assignment.id, Answer.question, Answer.value)
        .select_from(Answer)
        .join(ResponseVersion, Answer.version_id == ResponseVersion.id)
        .join(
            Response,
            (ResponseVersion.response_id == Response.id) & (ResponseVersion.version == Response.current_version),
        )
        .join(Assignment, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id)
        # The order gather_inputs gives (by response, then question id); unordered, PostgreSQL's varies by plan.
        .order_by(Response.id, Answer.question),
        ["assignment", "question", "answer"],
    )
    answers = answer_rows.merge(
        assignments[["assignment", "rater", "group", "instrument", "unit"]], on="assignment", how="inner"
    )[["rater", "group", "instrument", "unit", "question", "answer"]]
    answers["answer"] = pd.to_numeric(answers["answer"], errors="coerce").astype(float)
    counts = (
        sa.select(PublicRating.unit_id, PublicRating.level, PublicRating.is_default, func.count().label("n"))
        .where(PublicRating.period_id == period.id, PublicRating.excluded.is_(False))
        .group_by(PublicRating.unit_id, PublicRating.level, PublicRating.is_default)
        .subquery()
    )
    ratings = frame(
        sa.select(Unit.code, counts.c.level, counts.c.is_default, counts.c.n)
        .join(counts, counts.c.unit_id == Unit.id)
        .where(Unit.active.is_(True)),
        ["unit", "level", "is_default", "n"],
    )
    ratings["is_default"] = ratings["is_default"].astype(bool)
    return answers, ratings


def test_the_gather_reads_the_same_frames_as_row_by_row_queries(app, city, make_device, post):
    """Are the answers and rating counts scoring reads identical (values, dtypes, order) to the old ones?"""
    _, key = make_device("U01")
    at = daytime(days_ago=2, hour=9)
    post(
        key,
        {
            "ratings": [
                rating(f"e{i}", level=1 + i % 5, at=at + timedelta(minutes=9 * i), is_default=i % 4 == 0)
                for i in range(30)
            ]
        },
    )
    with app.app_context():
        period = db.session.scalar(sa.select(Period).filter_by(name="P1"))
        units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
        town = Town(code="T1", name="密州街道")
        db.session.add(town)
        instrument = stored_instrument(["g01", "g02", "nan", "null"])
        # Values that only survive a round trip through text if it is written exactly.
        values = [1.0, None, 0.30000000000000004, 33.333333333333336, 100.0, 0.0, 87.5, 1e-7]
        n = 0
        for r in range(6):
            rater = Rater(
                code=f"G{r}", name=f"评价人{r}", group=RaterGroup.GRASSROOTS, town_id=town.id if r % 2 else None
            )
            db.session.add(rater)
            db.session.flush()
            for code in ("U01", "U02", "U09"):
                assignment = Assignment(
                    period_id=period.id, rater_id=rater.id, unit_id=units[code].id, instrument_id=instrument.id
                )
                db.session.add(assignment)
                db.session.flush()
                submitted = (r + len(code)) % 3
                response = Response(assignment_id=assignment.id, current_version=submitted)
                db.session.add(response)
                db.session.flush()
                # As the app writes them: current_version is the newest of the versions (0: never submitted).
                for version in range(1, submitted + 1):
                    row = ResponseVersion(response_id=response.id, version=version, source=ResponseSource.WEB)
                    db.session.add(row)
                    db.session.flush()
                    for qid in ("g01", "g02", "nan", "null"):
                        db.session.add(Answer(version_id=row.id, question=qid, value=values[n % len(values)]))
                        n += 1
        db.session.flush()
        excluded = db.session.scalars(sa.select(PublicRating.id).limit(3)).all()
        for rating_id in excluded:
            set_excluded(rating_id, True, "误评", actor="test")
        db.session.commit()

        inputs = gather_inputs(period)
        answers, ratings = _reference_gather(period)
        assert len(answers) > 20 and answers["answer"].isna().any()
        # Both through the engine's input contract, which normalises dtypes (as score_period does).
        fields = {f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs) if f.init}
        reference = scoring.Inputs(**{**fields, "answers": answers, "ratings": ratings})
        answers, ratings = reference.answers, reference.ratings
        assert len(answers) > 20 and inputs.answers["answer"].isna().any()
        pd.testing.assert_frame_equal(inputs.answers, answers, check_exact=True)
        order = ["unit", "level", "is_default"]
        pd.testing.assert_frame_equal(
            inputs.ratings.sort_values(order).reset_index(drop=True),
            ratings.sort_values(order).reset_index(drop=True),
            check_exact=True,
        )
        assert inputs.ratings["n"].sum() == 27
        # The fingerprint does not depend on the order rows come in, and sees a changed value.
        before = scoring_service.data_fingerprint(inputs)
        inputs.answers = inputs.answers.iloc[::-1].reset_index(drop=True)
        assert scoring_service.data_fingerprint(inputs) == before
        inputs.answers.loc[0, "answer"] = 2.0 if inputs.answers.loc[0, "answer"] != 2.0 else 3.0
        assert scoring_service.data_fingerprint(inputs) != before
