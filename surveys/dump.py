"""Writing questionnaire (问卷) definitions back to YAML, and the question list of
``assessment instruments --format csv``."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

import yaml

from .definition import (
    CSV_COLUMNS,
    InstrumentDefinition,
    _plain_number,
)
from .loader import _ordered_keys

# ---------------------------------------------------------------------------------------------------
# Writing


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write the definition files.
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_definition(defn: InstrumentDefinition) -> str:
    """The definition as YAML text, in file order; ``load_definition(dump_definition(d)) == d``."""
    return yaml.dump(
        defn.to_dict(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )


def _as_definitions(
    defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition],
) -> list[InstrumentDefinition]:
    items = list(defs.values()) if isinstance(defs, Mapping) else list(defs)
    by_key = {d.key: d for d in items}
    return [by_key[k] for k in _ordered_keys(by_key)]


def instrument_rows(defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition]) -> list[dict[str, Any]]:
    """One row per question of every instrument, for ``assessment instruments --format csv``.

    Keys are CSV_COLUMNS; instruments in the order grassroots, leader, peer, self, deputy, expert
    (then any others by key), questions in file order. ``weight`` is 1 rather than 1.0.
    """
    return [
        {
            "instrument": d.key,
            "question": q.id,
            "theme": q.theme,
            "type": q.type,
            "weight": _plain_number(q.weight),
            "text": q.text,
        }
        for d in _as_definitions(defs)
        for q in d.questions
    ]


def _neutralise(cell: Any) -> Any:
    # A cell starting with = + - @ would run as a formula when the CSV is opened in Excel.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def write_instruments_csv(
    defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition], stream: IO[str]
) -> None:
    """Write instrument_rows(defs) as CSV (header first) to a text stream."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in instrument_rows(defs):
        writer.writerow({k: _neutralise(v) for k, v in row.items()})
