"""Gathering a period's input frames from the database in the engine's contract (scoring/inputs.py).

Heavy aggregation happens in the database: ratings are counted per unit, level and default flag by triggers into
rating_counts, so millions of ratings never travel into Python one by one; answers arrive as text that pandas
parses. Only the latest valid submitted version of each response is read (versions the office marked invalid are
left out). The data fingerprint identifies what a result version was computed from.
"""

import hashlib
import io

import numpy as np
import pandas as pd
from sqlalchemy import func

import scoring

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    BonusItem,
    CheckPoint,
    InstitutionScore,
    Instrument,
    Period,
    Problem,
    Question,
    Rater,
    RatingCount,
    Response,
    ResponseVersion,
    Town,
    Unit,
)
from .checkpoints import scored_frame


def _frame(query, columns):
    # Plain tuples: building a frame from SQLAlchemy Row objects is several times slower.
    rows = [tuple(row) for row in db.session.execute(query)]
    return (
        pd.DataFrame.from_records(rows, columns=columns)
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )


def _answer_rows(query) -> pd.DataFrame:
    """The answers query (assignment id, question, value labelled a, b, c) as a frame, read as text at once.

    800,000 answers as Python tuples cost more than the query itself, so the database writes the rows as text
    that pandas' C parser reads: PostgreSQL with COPY … TO STDOUT, SQLite with one group_concat (values
    written as integers when whole, else with 17 significant digits, which read back to the same double).
    Column `answer` is float with NaN for 不了解; the rows come in the query's order.
    """
    columns = ["assignment", "question", "answer"]
    connection = db.session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    options = {
        "header": None,
        "names": columns,
        "dtype": {"assignment": "int64", "question": str},
        "keep_default_na": False,
    }
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
                text = b"".join(bytes(block) for block in copy)
        frame = pd.read_csv(io.BytesIO(text), sep="\t", na_values={"answer": ["\\N"]}, **options) if text else None
    elif connection.dialect.name == "sqlite":
        a, q, v = "q.a", "q.b", "q.c"
        text = connection.exec_driver_sql(
            f"SELECT group_concat({a} || char(9) || {q} || char(9) || CASE WHEN {v} IS NULL THEN ''"
            f" WHEN {v} = CAST({v} AS INTEGER) THEN CAST({v} AS INTEGER) ELSE printf('%!.17g', {v}) END,"
            f" char(10)) FROM ({sql}) AS q"
        ).scalar()
        frame = pd.read_csv(io.StringIO(text), sep="\t", na_values={"answer": [""]}, **options) if text else None
    else:
        return _frame(query, columns)
    if frame is None:
        return _frame(query.where(False), columns)
    frame["answer"] = frame["answer"].astype(float)
    return frame


def _values(series):
    """Enum members to their string values, looking each distinct value up once."""
    return series.map({v: getattr(v, "value", v) for v in series.dropna().unique()})


def gather_inputs(period: Period) -> scoring.Inputs:
    """The period's input frames in the engine's contract (see scoring/inputs.py)."""
    units = _frame(
        db.select(Unit.code, Unit.name, Unit.kind, Unit.category, Unit.establishment, Unit.actual_staff)
        .where(Unit.active.is_(True))
        .order_by(Unit.code),
        ["code", "name", "kind", "category", "establishment", "actual_staff"],
    )
    units["kind"] = _values(units["kind"])

    # Questions of the newest version of each instrument (a question keeps its id across versions).
    newest = (
        db.select(Instrument.key, func.max(Instrument.version).label("version")).group_by(Instrument.key).subquery()
    )
    questions = _frame(
        db.select(Instrument.key, Question.qid, Question.theme, Question.type, Question.weight)
        .join(Instrument, Question.instrument_id == Instrument.id)
        .join(newest, (newest.c.key == Instrument.key) & (newest.c.version == Instrument.version))
        .order_by(Instrument.key, Question.position),
        ["instrument", "question", "theme", "type", "weight"],
    )

    # The version that counts: the latest submitted version not marked invalid by the office.
    valid = (
        db.select(ResponseVersion.response_id, func.max(ResponseVersion.version).label("version"))
        .where(ResponseVersion.invalid_at.is_(None))
        .group_by(ResponseVersion.response_id)
        .subquery()
    )
    # Who answered what comes from the (few) assignments; the (many) answers carry only the assignment id.
    assignments = _frame(
        db.select(Assignment.id, Rater.code, Rater.group, Town.name, Instrument.key, Unit.code, valid.c.version)
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .outerjoin(valid, valid.c.response_id == Response.id)
        .where(Assignment.period_id == period.id, Unit.active.is_(True)),
        ["assignment", "rater", "group", "town", "instrument", "unit", "submitted"],
    )
    assignments["group"] = _values(assignments["group"])
    assignments["submitted"] = pd.to_numeric(assignments["submitted"]).fillna(0).astype(int) > 0

    answer_rows = _answer_rows(
        db.select(Assignment.id.label("a"), Answer.question.label("b"), Answer.value.label("c"))
        .select_from(Answer)
        .join(ResponseVersion, Answer.version_id == ResponseVersion.id)
        .join(
            valid, (valid.c.response_id == ResponseVersion.response_id) & (valid.c.version == ResponseVersion.version)
        )
        .join(Response, ResponseVersion.response_id == Response.id)
        .join(Assignment, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id)
    )
    # Who answered is looked up by position (numpy take of the assignments' columns), keeping the answers'
    # order as an inner merge would, without building a Python object per answer.
    position = pd.Index(assignments["assignment"]).get_indexer(answer_rows["assignment"].to_numpy())
    kept = position >= 0
    position = position[kept]
    answers = pd.DataFrame(
        {
            **{name: assignments[name].to_numpy()[position] for name in ("rater", "group", "instrument", "unit")},
            "question": answer_rows["question"].to_numpy()[kept],
            "answer": answer_rows["answer"].to_numpy(dtype=float)[kept],
        }
    )

    # The counts per unit, level and default flag come from rating_counts, which database triggers keep
    # exactly equal to a GROUP BY over the period's ratings (see services/ratings/counts.py): a few hundred
    # rows, however many millions of ratings there are.
    ratings = _frame(
        db.select(Unit.code, RatingCount.level, RatingCount.is_default, RatingCount.n)
        .join(RatingCount, RatingCount.unit_id == Unit.id)
        .where(RatingCount.period_id == period.id, RatingCount.n > 0, Unit.active.is_(True)),
        ["unit", "level", "is_default", "n"],
    )
    ratings["is_default"] = ratings["is_default"].astype(bool)

    def per_unit(model, *columns, names):
        return _frame(
            db.select(Unit.code, *columns)
            .join(Unit, model.unit_id == Unit.id)
            .where(model.period_id == period.id, Unit.active.is_(True)),
            ["unit", *names],
        )

    # Pending check points count as not done once due before as_of (services/checkpoints.scored_frame).
    checkpoints = scored_frame(
        per_unit(CheckPoint, CheckPoint.status, CheckPoint.due, names=["status", "due"]), period.as_of
    )
    problems = per_unit(
        Problem, Problem.severity, Problem.deadline, Problem.closed_on, names=["severity", "deadline", "closed_on"]
    )
    problems["severity"] = _values(problems["severity"])
    bonuses = per_unit(BonusItem, BonusItem.points, names=["points"])
    institution = per_unit(InstitutionScore, InstitutionScore.score, names=["score"])

    assignments = assignments.drop(columns=["assignment"])

    return scoring.Inputs(
        units=units,
        as_of=period.as_of,
        questions=questions,
        answers=answers,
        ratings=ratings,
        checkpoints=checkpoints,
        problems=problems,
        bonuses=bonuses,
        institution=institution,
        assignments=assignments,
    )


def data_fingerprint(inputs: scoring.Inputs) -> str:
    """sha256 over every input frame, independent of row order: the same data always gives the same print.

    Each row is hashed (pandas' fixed-key row hash, column by column on the frame's own dtypes: strings are
    hashed once per distinct value, numbers as they are), the row hashes are sorted and fed to sha256 with the
    frame's name, columns and dtypes. It identifies data; it is not part of any score. (Until version 0005 the
    rows were turned into text first, which took seconds for a million answers; prints made before differ.)
    """
    digest = hashlib.sha256()
    digest.update(str(inputs.as_of).encode())
    for name in ("units", "questions", "answers", "ratings", "checkpoints", "problems", "bonuses", "institution"):
        frame = getattr(inputs, name)
        columns = sorted(frame.columns)
        dtypes = ",".join(str(frame[c].dtype) for c in columns)
        digest.update(f"{name}:{len(frame)}:{','.join(columns)}:{dtypes}".encode())
        if len(frame):
            rows = np.sort(pd.util.hash_pandas_object(frame[columns], index=False).to_numpy())
            digest.update(rows.tobytes())
    return digest.hexdigest()
