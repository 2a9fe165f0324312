"""The input frames of one scoring run and their contract.

The app's service layer gathers these frames from the database; nothing here knows where they came from. Every
frame may be empty but must have its columns (``COLUMNS``; extra columns are ignored). ``Inputs`` checks the
contract when it is built and raises one ``InputError`` listing every problem; it keeps normalised copies.

Frames (one row each of):

- ``units``: code (str), name (str), kind (str), category (str, the ranking group 分类排名组),
  establishment (float, 编制数; NaN if unknown), actual_staff (float, 实有人数; NaN if unknown).
- ``questions``: instrument (grassroots/leader/peer/self/deputy/expert), question (str id), theme (str or
  None), type (``likert5`` or ``score100``), weight (float >= 0; column optional, default 1).
- ``answers``: rater (str), group (rater group), instrument, unit (target unit code), question, answer (float:
  1-5 for likert5, 0-100 for score100; NaN = 不了解 don't know / unanswered), optional version (int). With a
  version column only the rows of the highest version per (rater, instrument, unit) are kept: only the latest
  submitted response counts.
- ``ratings``: public ratings (好差评) already aggregated: unit, level (1-5, 5 = 非常满意 very satisfied),
  is_default (bool, system-default rating), n (int, number of ratings).
- ``checkpoints`` (问效点): unit, status (on_time / late / not_done / waived).
- ``problems`` (问题台账): unit, severity (general / serious / grave), deadline (date), closed_on (date,
  NaT while open).
- ``bonuses`` (加分项): unit, points (float).
- ``institution`` (事业单位绩效考核): unit, score (0-100), at most one row per unit.
- ``assignments`` (optional, for data quality only): rater, group, town (str or None), instrument, unit,
  submitted (bool).
- ``as_of``: the period's reference date (datetime.date) for overdue problems and approval linkage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .scheme import INSTRUMENT_GROUP, SEVERITIES

#: Required columns of every frame (``questions.weight`` and ``answers.version`` are optional extras).
COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("code", "name", "kind", "category", "establishment", "actual_staff"),
    "questions": ("instrument", "question", "theme", "type"),
    "answers": ("rater", "group", "instrument", "unit", "question", "answer"),
    "ratings": ("unit", "level", "is_default", "n"),
    "checkpoints": ("unit", "status"),
    "problems": ("unit", "severity", "deadline", "closed_on"),
    "bonuses": ("unit", "points"),
    "institution": ("unit", "score"),
    "assignments": ("rater", "group", "town", "instrument", "unit", "submitted"),
}
QUESTION_TYPES = ("likert5", "score100")
CHECKPOINT_STATUSES = ("on_time", "late", "not_done", "waived")


class InputError(ValueError):
    """Input frames that break the contract; ``messages`` lists every problem found."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("invalid scoring inputs:\n" + "\n".join(f"- {m}" for m in self.messages))


def empty_frame(name: str) -> pd.DataFrame:
    """An empty frame with the contract's columns for ``name`` (e.g. ``empty_frame("bonuses")``)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[name]})


def _empty(name: str):
    return field(default_factory=lambda: empty_frame(name))


@dataclass
class Inputs:
    """Everything one scoring run reads: the frames above and ``as_of``; checked and normalised when built.

    The frames are normalised copies; treat them as read-only afterwards (``answer_index`` indexes them). The
    text columns of ``answers`` (rater, group, instrument, unit, question) are categoricals of str: a million
    answers hold a few hundred distinct values."""

    units: pd.DataFrame
    as_of: dt.date
    questions: pd.DataFrame = _empty("questions")
    answers: pd.DataFrame = _empty("answers")
    ratings: pd.DataFrame = _empty("ratings")
    checkpoints: pd.DataFrame = _empty("checkpoints")
    problems: pd.DataFrame = _empty("problems")
    bonuses: pd.DataFrame = _empty("bonuses")
    institution: pd.DataFrame = _empty("institution")
    assignments: pd.DataFrame | None = None
    #: Set on creation: integer codes of ``answers`` rows (engine internals).
    answer_index: AnswerIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        errors: list[str] = []
        for name in COLUMNS:
            frame = getattr(self, name)
            if frame is None:
                continue
            if not isinstance(frame, pd.DataFrame):
                errors.append(f"{name}: must be a pandas DataFrame")
                continue
            missing = [c for c in COLUMNS[name] if c not in frame.columns]
            if missing:
                errors.append(f"{name}: missing columns {', '.join(missing)}")
        if errors:
            raise InputError(errors)
        try:
            as_of = pd.Timestamp(self.as_of)
        except (TypeError, ValueError):
            as_of = pd.NaT
        if pd.isna(as_of):
            raise InputError([f"as_of: not a date: {self.as_of!r}"])
        self.as_of = as_of.date()
        _Normaliser(self, errors).run()
        if errors:
            raise InputError(errors)


@dataclass
class AnswerIndex:
    """Integer codes of the (kept) answer rows, computed once by ``Inputs`` for the engine's group-bys."""

    #: Position of the target unit in ``units``.
    unit: np.ndarray
    #: Position of the question in ``questions``.
    question: np.ndarray
    #: Rater code (0..raters-1).
    rater: np.ndarray
    #: Instrument code: position in ``instruments``.
    instrument: np.ndarray
    instruments: tuple[str, ...]


def _text(s: pd.Series) -> pd.Series:
    """Optional text column as Python str objects, missing values as None."""
    values = s.to_numpy(dtype=object, copy=True)
    missing = pd.isna(values)
    values[missing] = None
    present = ~missing
    if pd.api.types.infer_dtype(values[present], skipna=False) not in ("string", "empty"):
        values[present] = [str(v) for v in values[present]]
    return pd.Series(values, index=s.index, dtype=object)


def _flags(s: pd.Series) -> pd.Series:
    """Boolean column with missing values as False."""
    if s.dtype == bool:
        return pd.Series(s.to_numpy(dtype=bool, copy=True), index=s.index, dtype=bool)
    values = s.to_numpy(dtype=object)
    present = ~pd.isna(values)
    out = np.zeros(len(values), dtype=bool)
    out[present] = values[present].astype(bool)  # each value's truth, as bool(v)
    return pd.Series(out, index=s.index, dtype=bool)


def _joined(frame: pd.DataFrame, *cols: str) -> pd.Series:
    """The text of ``cols`` joined with "/" per row (error examples; works on categorical columns too)."""
    out = frame[cols[0]].astype(str)
    for col in cols[1:]:
        out = out + "/" + frame[col].astype(str)
    return out


def _text_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct values) of a column holding only str values (missing: code -1), distinct values in order
    of first appearance as pd.factorize gives them; None for any other column (the caller goes the long way).

    A categorical column of str categories costs one pass over its integer codes, whatever its length."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = s.cat.categories.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(categories, skipna=False) not in ("string", "empty"):
            return None
        raw = s.cat.codes.to_numpy()
        if (raw < 0).any():  # missing values: only where they are counts (the codes are not used then)
            return np.where(raw < 0, -1, 0), categories[:0]
        codes, first = pd.factorize(raw)
        return codes, categories[first]
    if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
        return None
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(s)
    return codes, np.asarray(uniques, dtype=object)


def _sample(values) -> str:
    vals = sorted({str(v) for v in values})
    return ", ".join(repr(v) for v in vals[:3]) + (" ..." if len(vals) > 3 else "")


class _Normaliser:
    """Checks and normalises the frames of an ``Inputs`` in place, collecting error messages."""

    def __init__(self, inputs: Inputs, errors: list[str]):
        self.x = inputs
        self.errors = errors

    def bad(self, name: str, mask, what: str, values=None) -> None:
        """Record an error if ``mask`` (bool, one per row) is set anywhere; ``values`` (a Series, or a
        callable returning one, so costly examples are only built on failure) gives examples."""
        mask = np.asarray(mask, dtype=bool)
        count = int(mask.sum())
        if count:
            values = values() if callable(values) else values
            examples = np.flatnonzero(mask) if values is None else np.asarray(values, dtype=object)[mask][:50]
            rows = f"{count} row{'s' if count > 1 else ''}"
            self.errors.append(f"{name}: {rows} {what} (e.g. {_sample(examples)})")

    def keys(self, name: str, frame: pd.DataFrame, cols: tuple[str, ...], categorical: bool = False) -> pd.DataFrame:
        """Key columns: none missing, each as str (``categorical``: as a categorical of str, categories in order
        of first appearance). Also keeps each column's integer codes (``self.factors``: codes and distinct values
        in order of first appearance, as pd.factorize of the str column gives them), so the checks below hash
        the strings of a million answers once, or not at all for a categorical column."""
        frame = frame.copy()
        self.factors: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = getattr(self, "factors", {})
        for col in cols:
            found = _text_codes(frame[col])
            if found is None:
                missing = frame[col].isna()
                self.bad(name, missing, f"without {col}")
                if not missing.any():
                    frame[col] = frame[col].astype(str)
                    codes, uniques = pd.factorize(frame[col])
                    self.factors[name, col] = codes, np.asarray(uniques, dtype=object)
                    if categorical:
                        frame[col] = pd.Categorical.from_codes(codes, categories=uniques)
                continue
            codes, uniques = found
            missing = codes < 0
            self.bad(name, missing, f"without {col}")
            if not missing.any():
                text = pd.Series(uniques, dtype=object).astype(str).array
                if categorical:
                    frame[col] = pd.Categorical.from_codes(codes, categories=pd.Index(text))
                else:
                    frame[col] = pd.Series(text.take(codes), index=frame.index)
                self.factors[name, col] = codes, uniques
        return frame

    def factor(self, name: str, frame: pd.DataFrame, col: str) -> tuple[np.ndarray, pd.Index]:
        """pd.factorize(frame[col]) of a key column, from the codes ``keys`` kept."""
        codes, uniques = self.factors[name, col]
        if len(codes) != len(frame):  # not the frame keys saw
            return pd.factorize(frame[col])
        return codes, pd.Index(pd.Series(uniques, dtype=object).astype(str))

    def numbers(self, name: str, frame: pd.DataFrame, col: str, *, required: bool) -> None:
        values = pd.to_numeric(frame[col], errors="coerce")
        self.bad(name, values.isna() & frame[col].notna(), f"with a non-numeric {col}", frame[col])
        if required:
            self.bad(name, frame[col].isna(), f"without {col}")
        frame[col] = values.astype(float)

    def known_units(self, name: str, frame: pd.DataFrame, col: str = "unit") -> None:
        unknown = ~frame[col].isin(self.codes)
        self.bad(name, unknown, "refer to unknown units", frame[col])

    def choice(self, name: str, frame: pd.DataFrame, col: str, allowed) -> None:
        self.bad(name, ~frame[col].isin(allowed), f"with an unknown {col}", frame[col])

    def run(self) -> None:
        x = self.x
        units = self.keys("units", x.units, ("code", "name", "category"))
        units["kind"] = _text(units["kind"])
        for col in ("establishment", "actual_staff"):
            self.numbers("units", units, col, required=False)
        dup = units["code"].duplicated(keep=False)
        self.bad("units", dup, "with a duplicate code", units["code"])
        x.units = units.reset_index(drop=True)
        self.codes = set(units["code"])

        x.questions = self.questions(x.questions)
        if not self.errors:
            x.answers = self.answers(x.answers, x.questions)

        r = self.keys("ratings", x.ratings, ("unit",))
        self.known_units("ratings", r)
        self.numbers("ratings", r, "level", required=True)
        self.numbers("ratings", r, "n", required=True)
        self.bad(
            "ratings", r["level"].notna() & ~r["level"].isin([1, 2, 3, 4, 5]), "with a level outside 1-5", r["level"]
        )
        self.bad("ratings", (r["n"] < 0) | (r["n"] % 1 != 0), "with n not a whole number >= 0", r["n"])
        r["is_default"] = _flags(r["is_default"])
        x.ratings = r.reset_index(drop=True)

        c = self.keys("checkpoints", x.checkpoints, ("unit", "status"))
        self.known_units("checkpoints", c)
        self.choice("checkpoints", c, "status", CHECKPOINT_STATUSES)
        x.checkpoints = c.reset_index(drop=True)

        p = self.keys("problems", x.problems, ("unit", "severity"))
        self.known_units("problems", p)
        self.choice("problems", p, "severity", SEVERITIES)
        for col in ("deadline", "closed_on"):
            parsed = pd.to_datetime(p[col], errors="coerce")
            self.bad("problems", parsed.isna() & p[col].notna(), f"with an unreadable {col}", p[col])
            p[col] = parsed.dt.normalize().astype("datetime64[ns]")
        x.problems = p.reset_index(drop=True)

        b = self.keys("bonuses", x.bonuses, ("unit",))
        self.known_units("bonuses", b)
        self.numbers("bonuses", b, "points", required=True)
        x.bonuses = b.reset_index(drop=True)

        s = self.keys("institution", x.institution, ("unit",))
        self.known_units("institution", s)
        self.numbers("institution", s, "score", required=True)
        self.bad("institution", (s["score"] < 0) | (s["score"] > 100), "with a score outside 0-100", s["score"])
        self.bad("institution", s["unit"].duplicated(keep=False), "with a second score for the same unit", s["unit"])
        x.institution = s.reset_index(drop=True)

        if x.assignments is not None:
            a = self.keys("assignments", x.assignments, ("rater", "group", "instrument", "unit"))
            a["town"] = _text(a["town"])
            self.known_units("assignments", a)
            self.choice("assignments", a, "instrument", tuple(INSTRUMENT_GROUP))
            a["submitted"] = _flags(a["submitted"])
            x.assignments = a.reset_index(drop=True)

    def questions(self, q: pd.DataFrame) -> pd.DataFrame:
        q = self.keys("questions", q, ("instrument", "question", "type"))
        q["theme"] = _text(q["theme"])
        if "weight" not in q.columns:
            q["weight"] = 1.0
        self.numbers("questions", q, "weight", required=False)
        q["weight"] = q["weight"].fillna(1.0)
        self.bad("questions", q["weight"] < 0, "with a negative weight", q["weight"])
        self.choice("questions", q, "instrument", tuple(INSTRUMENT_GROUP))
        self.choice("questions", q, "type", QUESTION_TYPES)
        dup = q.duplicated(["instrument", "question"], keep=False)
        self.bad("questions", dup, "define the same instrument and question twice", q["question"])
        return q.reset_index(drop=True)

    def answers(self, a: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
        # Up to millions of rows: checks work on integer codes, never row-wise on strings.
        a = self.keys("answers", a, ("rater", "group", "instrument", "unit", "question"), categorical=True)
        self.numbers("answers", a, "answer", required=False)
        if self.errors:
            return a
        unit_codes, unit_values = self.factor("answers", a, "unit")
        unit = pd.Index(self.x.units["code"]).get_indexer(unit_values)[unit_codes]
        self.bad("answers", unit < 0, "refer to unknown units", lambda: a["unit"])
        instrument, instruments = self.factor("answers", a, "instrument")
        known = np.isin(instruments, list(INSTRUMENT_GROUP))
        self.bad("answers", ~known[instrument], "with an unknown instrument", lambda: a["instrument"])
        group, groups = self.factor("answers", a, "group")
        expected = np.array([INSTRUMENT_GROUP.get(i) for i in instruments], dtype=object)
        mismatch = expected[:, None] != np.asarray(groups, dtype=object)[None, :]
        self.bad(
            "answers",
            mismatch[instrument, group] & known[instrument],
            "from a rater group that does not answer the instrument",
            lambda: _joined(a, "instrument", "group"),
        )
        rater, raters = self.factor("answers", a, "rater")
        question, question_ids = self.factor("answers", a, "question")
        # One int64 per (rater, instrument, unit, question) and per response (rater, instrument, unit).
        response = (rater.astype(np.int64) * len(instruments) + instrument) * (len(self.codes) + 1) + unit + 1
        if "version" in a.columns:
            self.numbers("answers", a, "version", required=True)
            version = a["version"].to_numpy(dtype=float)
            latest = pd.Series(version).groupby(response).transform("max").to_numpy()
            keep = version == latest
            a, unit, instrument, rater, question, response = (
                a[keep],
                unit[keep],
                instrument[keep],
                rater[keep],
                question[keep],
                response[keep],
            )
        answer_key = response * len(question_ids) + question
        dup = pd.Series(answer_key).duplicated(keep=False).to_numpy()
        self.bad(
            "answers",
            dup,
            "answer the same question twice in one response",
            lambda: _joined(a, "rater", "instrument", "unit", "question"),
        )
        # Row of each answer's question in `questions` (-1: not defined there).
        table = np.full((len(instruments), len(question_ids)), -1, dtype=np.int64)
        q_inst = pd.Index(instruments).get_indexer(questions["instrument"])
        q_id = pd.Index(question_ids).get_indexer(questions["question"])
        found = (q_inst >= 0) & (q_id >= 0)
        table[q_inst[found], q_id[found]] = np.flatnonzero(found)
        qpos = table[instrument, question] if len(a) else np.zeros(0, dtype=np.int64)
        self.bad(
            "answers", qpos < 0, "refer to questions not in questions", lambda: _joined(a, "instrument", "question")
        )
        # Each question's type compared once, then looked up per answer.
        qtype = questions["type"].to_numpy(dtype=object)
        likert = (qtype == "likert5")[np.maximum(qpos, 0)] if len(questions) else np.zeros(len(qpos), dtype=bool)
        score = (qtype == "score100")[np.maximum(qpos, 0)] if len(questions) else np.zeros(len(qpos), dtype=bool)
        answer = a["answer"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad_likert = likert & ~np.isnan(answer) & ~np.isin(answer, [1, 2, 3, 4, 5])
            bad_score = score & ((answer < 0) | (answer > 100))
        known_question = qpos >= 0
        self.bad("answers", bad_likert & known_question, "with a likert5 answer outside 1-5", lambda: a["answer"])
        self.bad("answers", bad_score & known_question, "with a score100 answer outside 0-100", lambda: a["answer"])
        self.x.answer_index = AnswerIndex(
            unit=unit, question=qpos, rater=rater, instrument=instrument, instruments=tuple(instruments)
        )
        return a.reset_index(drop=True)
