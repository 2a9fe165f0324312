"""The ratings package's seams: one content hash, one Wilson formula, modules that import one way."""

import ast
import importlib
import pkgutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from assessment.services import ratings
from assessment.services.imports.kinds.rating_block import to_micros
from assessment.services.ratings.hashing import content_hash, content_hashes
from assessment.services.ratings.stats import wilson_interval
from assessment.timefmt import CST
from scoring.leaves import wilson_lower

SERVICES = Path(ratings.__file__).resolve().parents[1]


def test_a_rating_without_window_hashes_as_the_api_stored_it():
    """Does content_hash with window=None give the hashes the API stored before `window` existed (pinned)?"""
    at = datetime(2026, 3, 5, 9, 30, tzinfo=CST)
    assert content_hash("e1", "U01", 5, "window", at) == (
        "3917ba26eae205df2a5344c08e0bb17018cbbda311b7daa56a5b78c13ce93e47"
    )
    full = content_hash("e2", "U02", 1, "hotline", at, "C001", "办证", "S01", "态度差", False, "受理", True)
    assert full == ("201d87cfe7e95d0e56059a7c1d6968d6119e877df011364a6ba49d8e3f0b3ded")
    assert content_hash("e1", "U01", 5, "window", at.astimezone(UTC)) == content_hash("e1", "U01", 5, "window", at)


def test_an_imports_column_of_hashes_is_content_hash_row_by_row():
    """Does content_hashes (the import's columns) give content_hash's hash for each row, empty cells as none?"""
    at = [datetime(2026, 3, 5, 9, 30, tzinfo=CST), datetime(2026, 3, 6, 1, 0, 0, 250, tzinfo=UTC)]
    columns = (["e1", "e2"], ["U01", "U02"], [5, 1], ["window", "sms"], [to_micros(t) for t in at])
    optional = (["", "C9"], ["", "办证"], ["S1", ""], [True, False], ["1号窗口", ""])
    expected = [
        content_hash("e1", "U01", 5, "window", at[0], None, None, "S1", None, True, window="1号窗口"),
        content_hash("e2", "U02", 1, "sms", at[1], "C9", "办证", None, None, False),
    ]
    assert content_hashes(*columns, *optional) == expected


def test_the_window_is_part_of_the_content_when_given():
    """Do two ratings that differ only in their window get different hashes (and an empty window counts)?"""
    at = datetime(2026, 3, 5, 9, 30, tzinfo=CST)
    plain = content_hash("e1", "U01", 5, "window", at)
    first = content_hash("e1", "U01", 5, "window", at, window="1号窗口")
    assert (
        len(
            {
                plain,
                first,
                content_hash("e1", "U01", 5, "window", at, window="2号窗口"),
                content_hash("e1", "U01", 5, "window", at, window=""),
            }
        )
        == 4
    )


@pytest.mark.parametrize(("good", "n"), [(8, 11), (0, 7), (7, 7), (1, 1), (2, 3), (9_871, 10_000)])
def test_the_console_interval_uses_the_engines_wilson_bound(good, n):
    """Is the console's lower bound exactly the engine's (one formula), and the upper bound its mirror?"""
    low, high = wilson_interval(good, n)
    engine = float(wilson_lower(np.array([good]), np.array([n]), 1.96)[0])
    assert low == max(0.0, engine)
    mirrored = 1 - float(wilson_lower(np.array([n - good]), np.array([n]), 1.96)[0])
    assert high == pytest.approx(min(1.0, mirrored), abs=1e-12)
    assert wilson_interval(0, 0) is None


def test_no_reexported_name_hides_a_submodule():
    """Is every submodule of services.ratings reachable as a module (a re-exported `ingest` would hide it)?"""
    for info in pkgutil.iter_modules(ratings.__path__):
        module = importlib.import_module(f"assessment.services.ratings.{info.name}")
        assert getattr(ratings, info.name) is module, info.name


def _imports(path: Path, package: str) -> set[str]:
    """The assessment modules a file imports at module level or in functions (absolute dotted names)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("assessment")}


def test_services_never_import_the_api_and_ratings_modules_import_one_way():
    """Does no service import assessment.api, and is there no import cycle among the ratings modules?"""
    for path in SERVICES.rglob("*.py"):
        package = "assessment." + ".".join(path.relative_to(SERVICES.parent).parent.parts)
        assert not any(name.startswith("assessment.api") for name in _imports(path, package)), path
    folder = SERVICES / "ratings"
    names = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    graph = {
        name: {
            n
            for n in names
            if f"assessment.services.ratings.{n}" in _imports(folder / f"{name}.py", "assessment.services.ratings")
        }
        for name in names
    }
    assert graph["ingest"] >= {"cases", "flags", "hashing", "insert", "devices"}  # the check sees imports
    visiting, done = set(), set()

    def visit(name, trail):
        assert name not in visiting, " -> ".join(trail + [name])
        if name in done:
            return
        visiting.add(name)
        for other in graph[name]:
            visit(other, trail + [name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 5, 9, 30, tzinfo=CST),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 1, 1, 8, 0, 0, 5, tzinfo=CST),
    ],
)
def test_sqlite_time_is_the_text_sqlalchemy_stores(moment):
    """Do sqlite_time and sqlite_times write a time as SQLAlchemy's SQLite DateTime does (UTC, 4-digit year)?"""
    from sqlalchemy.dialects.sqlite import DATETIME

    from assessment.services.ratings.connection import sqlite_time, sqlite_times

    stored = DATETIME().bind_processor(None)(moment.astimezone(UTC).replace(tzinfo=None))
    assert sqlite_time(moment) == stored and sqlite_times([to_micros(moment)]) == [stored]
