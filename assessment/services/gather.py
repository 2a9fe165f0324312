"""Gathering a period's input frames from the database in the engine's contract (scoring/inputs.py).

Heavy aggregation happens in the database: ratings are counted per unit, level and default flag by triggers into
rating_counts, so millions of ratings never travel into Python one by one; answers arrive in a shape numpy reads
at once (see _answer_arrays). Only the latest valid submitted version of each response is read (versions the
office marked invalid are left out). The data fingerprint identifies what a result version was computed from.
"""

import hashlib

import numpy as np
import pandas as pd
from sqlalchemy import String, func, type_coerce
from sqlalchemy.orm import aliased

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
    # Core execution and plain tuples: the ORM's row loading and building a frame from Row objects are slower.
    rows = [tuple(row) for row in db.session.connection().execute(query).all()]
    return (
        pd.DataFrame.from_records(rows, columns=columns)
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )


def _driver_frame(query, columns):
    """Like _frame, with the driver's own tuples (no SQLAlchemy type processing per value): only for queries
    whose columns are stored as the frame wants them (integers, text, an enum's stored value)."""
    connection = db.session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        rows = cursor.execute(_literal_sql(connection, query)).fetchall()
    finally:
        cursor.close()
    return (
        pd.DataFrame.from_records(rows, columns=columns)
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )


def _latest_valid_versions():
    """(id, response_id, version) of each response's latest submitted version not marked invalid.

    Written as "no newer valid version exists" rather than a join on max(version): PostgreSQL estimates that
    join at a few hundred rows and reads the answers by 32,000 index look-ups instead of one hash join."""
    newer = aliased(ResponseVersion)
    return (
        db.select(ResponseVersion.id, ResponseVersion.response_id, ResponseVersion.version)
        .where(
            ResponseVersion.invalid_at.is_(None),
            ~db.select(newer.id)
            .where(
                newer.response_id == ResponseVersion.response_id,
                newer.version > ResponseVersion.version,
                newer.invalid_at.is_(None),
            )
            .exists(),
        )
        .subquery()
    )


#: Separates the question ids of one version in SQLite's per-version group_concat (a unit separator, not
#: expected in an id; the count of parts is checked against the count of answers anyway). The SQL writes it
#: as char(ord(_SEP)).
_SEP = "\x1f"


def _answer_arrays(period: Period, latest, qids: list[str]):
    """The answers of the period's counted versions as arrays, in no particular order:
    (version id, question code, question ids, value) with value NaN for 不了解 and question code an index
    into question ids.

    A million answers as Python tuples cost more than the query, so each engine hands over the rows in a shape
    numpy reads at once: PostgreSQL as binary COPY of three fixed-width columns (the question as its position in
    `qids`, the value as float8 with NaN for NULL), SQLite as one row per version with the version's question
    ids and values each joined into one text (values written as integers when whole, else with 17 significant
    digits, which read back to the same double). Anything unexpected (a question not in `qids`, a count that
    does not add up, another engine) takes the plain query, read row by row.
    """
    counted = (
        db.select(latest.c.id)
        .join(Response, Response.id == latest.c.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.period_id == period.id)
    )
    connection = db.session.connection()
    dialect = connection.dialect
    found = None
    if dialect.name == "postgresql" and dialect.driver == "psycopg" and qids:
        found = _answers_postgresql(connection, counted, qids)
    elif dialect.name == "sqlite":
        found = _answers_sqlite(connection, counted)
    if found is not None:
        return found
    rows = _frame(
        db.select(Answer.version_id, Answer.question, Answer.value).where(Answer.version_id.in_(counted)),
        ["version", "question", "answer"],
    )
    codes, values = pd.factorize(rows["question"].astype(object))
    return (
        rows["version"].to_numpy(dtype=np.int64),
        codes,
        np.asarray(values, dtype=object),
        pd.to_numeric(rows["answer"]).to_numpy(dtype=float),
    )


def _literal_sql(connection, query) -> str:
    return str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))


def _answers_postgresql(connection, counted, qids):
    from psycopg import sql

    # One bytea of 16-byte records (version id, question's position in qids from 1 or 0, value or NaN),
    # big-endian as int4send/float8send write them: one value to fetch, not a row (or COPY message) per answer.
    statement = sql.SQL(
        "SELECT count(*), string_agg(int4send(a.version_id) || int4send(coalesce(q.code, 0)::int4)"
        " || float8send(coalesce(a.value, 'NaN')), ''::bytea)"
        " FROM answers AS a LEFT JOIN unnest({qids}::text[]) WITH ORDINALITY AS q(qid, code) ON q.qid = a.question"
        " WHERE a.version_id IN ({inner})"
    ).format(qids=sql.Literal(list(qids)), inner=sql.SQL(_literal_sql(connection, counted)))
    with connection.connection.driver_connection.cursor() as cursor:
        count, data = cursor.execute(statement).fetchone()
    record = np.dtype([("v", ">i4"), ("q", ">i4"), ("x", ">f8")])
    data = bytes(data or b"")
    if len(data) != count * record.itemsize:
        return None
    rows = np.frombuffer(data, dtype=record)
    code = rows["q"].astype(np.int64) - 1  # ordinality counts from 1; 0 (no match) becomes -1
    if (code < 0).any():  # a question not in the list: the plain query names it as it is
        return None
    return rows["v"].astype(np.int64), code, np.asarray(qids, dtype=object), rows["x"].astype(float)


def _answers_sqlite(connection, counted):
    # -1 stands for NULL (不了解): values are never negative (check constraint ck_answers_value_range).
    value = (
        "CASE WHEN value IS NULL THEN -1 WHEN value = CAST(value AS INTEGER) THEN CAST(value AS INTEGER)"
        " ELSE printf('%!.17g', value) END"
    )
    cursor = connection.connection.driver_connection.cursor()
    try:
        rows = cursor.execute(
            f"SELECT version_id, count(*), group_concat(question, char({ord(_SEP)})), group_concat({value}, ',')"
            f" FROM answers WHERE version_id IN ({_literal_sql(connection, counted)}) GROUP BY version_id"
        ).fetchall()
    finally:
        cursor.close()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object), np.zeros(0)
    version, count, questions, values = zip(*rows, strict=True)
    count = np.array(count, dtype=np.int64)
    text = ",".join(values)
    if "." in text or "e" in text:  # some value is not whole
        value = np.fromstring(text, sep=",")
    else:  # whole numbers read several times faster as integers
        value = np.fromstring(text, sep=",", dtype=np.int64).astype(float)
    if len(value) != count.sum():
        return None
    value[value < 0] = np.nan
    # Versions of one instrument mostly list the same questions: split each distinct list once.
    which, lists = pd.factorize(pd.Series(questions, dtype=object))
    parts = [text.split(_SEP) for text in lists]
    if not (np.array([len(p) for p in parts], dtype=np.int64)[which] == count).all():
        return None
    qid_codes, qid_values = pd.factorize(pd.Series([q for p in parts for q in p], dtype=object))
    bounds = np.cumsum([0] + [len(p) for p in parts])
    per_list = [qid_codes[bounds[k] : bounds[k + 1]] for k in range(len(parts))]
    code = np.concatenate([per_list[k] for k in which]) if len(which) else np.zeros(0, np.int64)
    return np.repeat(np.array(version, dtype=np.int64), count), code, np.asarray(qid_values, dtype=object), value


def _values(series):
    """Enum members to their string values, looking each distinct value up once."""
    return series.map({v: getattr(v, "value", v) for v in series.dropna().unique()})


def _answers(period: Period, latest, questions: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The answers frame of the engine's contract, in the order of response, then question id.

    Who answered is looked up by position in the assignments (numpy take of integer codes) and the text
    columns are categorical over their few distinct values, so no Python object is built per answer; the
    engine's input checks read the codes of a categorical column without hashing a million strings.
    """
    qids = list(dict.fromkeys(questions["question"].astype(str)))
    version, code, qid_values, value = _answer_arrays(period, latest, qids)
    counted = pd.to_numeric(assignments["version_id"]).fillna(-1).to_numpy(dtype=np.int64)
    rows = np.flatnonzero(counted >= 0)
    position = pd.Index(counted[rows]).get_indexer(version)
    kept = position >= 0  # a version submitted after the assignments were read waits for the next run
    position = rows[position[kept]]
    code, value = code[kept], value[kept]
    # The order scoring has always read them in: by response, then question id (as the unique index sorts them).
    response = pd.to_numeric(assignments["response_id"]).fillna(-1).to_numpy(dtype=np.int64)[position]
    rank = np.empty(len(qid_values), dtype=np.int64)
    rank[np.argsort(qid_values.astype(str), kind="stable")] = np.arange(len(qid_values))
    key = response * len(qid_values) + rank[code]
    if len(key) > 1 and not (key[1:] > key[:-1]).all():  # mostly they come in that order already
        order = np.argsort(key, kind="stable")
        position, code, value = position[order], code[order], value[order]

    def categorical(column):
        codes, values = pd.factorize(assignments[column].astype(object))
        return pd.Categorical.from_codes(codes[position], categories=values)

    return pd.DataFrame(
        {
            **{name: categorical(name) for name in ("rater", "group", "instrument", "unit")},
            "question": pd.Categorical.from_codes(code, categories=qid_values),
            "answer": value,
        }
    )


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
    latest = _latest_valid_versions()
    # Who answered what comes from the (few) assignments; the (many) answers carry only the version id.
    assignments = _driver_frame(
        db.select(
            Assignment.id,
            Rater.code,
            type_coerce(Rater.group, String),  # the stored value (RaterGroup.value), no Enum member per row
            Town.name,
            Instrument.key,
            Unit.code,
            latest.c.version,
            latest.c.id,
            latest.c.response_id,
        )
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .outerjoin(latest, latest.c.response_id == Response.id)
        .where(Assignment.period_id == period.id, Unit.active.is_(True)),
        ["assignment", "rater", "group", "town", "instrument", "unit", "submitted", "version_id", "response_id"],
    )
    assignments["submitted"] = pd.to_numeric(assignments["submitted"]).fillna(0).astype(int) > 0
    answers = _answers(period, latest, questions, assignments)
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

    assignments = assignments.drop(columns=["assignment", "version_id", "response_id"])

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


def _dtype_name(column: pd.Series) -> str:
    # A categorical column is named by its values' dtype: pandas hashes it as those values, so the print does
    # not depend on how the engine stores a text column (the answers' text columns are categorical).
    if isinstance(column.dtype, pd.CategoricalDtype):
        return str(column.cat.categories.dtype)
    return str(column.dtype)


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
        dtypes = ",".join(_dtype_name(frame[c]) for c in columns)
        digest.update(f"{name}:{len(frame)}:{','.join(columns)}:{dtypes}".encode())
        if len(frame):
            rows = np.sort(pd.util.hash_pandas_object(frame[columns], index=False).to_numpy())
            digest.update(rows.tobytes())
    return digest.hexdigest()
