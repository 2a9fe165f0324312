"""Questionnaire definitions (问卷) and the loader that validates them.

The shipped definitions live in ``surveys/definitions/*.yaml``, one per instrument of the default
scheme: grassroots (基层评作为), leader (领导点评), peer (部门互评), self (内部自评),
deputy (两代表一委员评价) and expert (专家评价). No Flask and no database here: the app's services
read definitions through this package and store them as instrument versions.
"""

from .answers import ANSWER_TYPES, NA_TOKENS, AnswerError, AnswerType, parse_answer
from .definition import (
    CSV_COLUMNS,
    GRASSROOTS_THEMES,
    INSTRUMENT_ORDER,
    KNOWN_INSTRUMENTS,
    RATER_GROUPS,
    TARGETS,
    DefinitionError,
    InstrumentDefinition,
    Question,
    Scale,
)
from .dump import dump_definition, instrument_rows, write_instruments_csv
from .loader import default_directory, load_all, load_definition, load_file

__all__ = [
    "ANSWER_TYPES",
    "CSV_COLUMNS",
    "GRASSROOTS_THEMES",
    "INSTRUMENT_ORDER",
    "KNOWN_INSTRUMENTS",
    "NA_TOKENS",
    "RATER_GROUPS",
    "TARGETS",
    "AnswerError",
    "AnswerType",
    "DefinitionError",
    "InstrumentDefinition",
    "Question",
    "Scale",
    "default_directory",
    "dump_definition",
    "instrument_rows",
    "load_all",
    "load_definition",
    "load_file",
    "parse_answer",
    "write_instruments_csv",
]
