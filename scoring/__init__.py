"""The scoring engine: pure functions on pandas frames (no Flask, no database, no I/O).

``compute(inputs, scheme)`` turns a period's input frames (``Inputs``) and its scheme (``load_scheme``) into
a ``Result``; the method is spec/scoring.md, every choice in it a setting of the scheme.
"""

from .engine import LEAF_COLUMNS, UNIT_COLUMNS, Result, compute, wide_leaves
from .inputs import COLUMNS, InputError, Inputs, empty_frame
from .leaves import problem_flags
from .scheme import Scheme, SchemeError
from .scheme_loader import default_scheme, default_scheme_text, load_scheme

__all__ = [
    "COLUMNS",
    "LEAF_COLUMNS",
    "UNIT_COLUMNS",
    "InputError",
    "Inputs",
    "Result",
    "Scheme",
    "SchemeError",
    "compute",
    "default_scheme",
    "default_scheme_text",
    "empty_frame",
    "load_scheme",
    "problem_flags",
    "wide_leaves",
]
