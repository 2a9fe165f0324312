"""Results exports: `build_*` functions return bytes; only the route, the CLI or the report job writes or sends
them (Indico's generate / send split).

- `contract`: the machine contract of interfaces.md (the CSV, and the xlsx sheet "results");
- `workbook`: the xlsx for people (评价结果, 指标说明, Chinese detail sheets) around the contract sheet;
- `assessment_file`: the file for the comprehensive-assessment office (`--format assessment`);
- `pdf`: the printed report (summary, one page per unit), rendered in parallel and joined; one unit's pages.
"""

from .assessment_file import build_assessment
from .contract import FIXED_COLUMNS, TAIL_COLUMNS, build_csv, result_table
from .pdf import build_pdf, build_unit_pdf, build_units_zip, render_pdf, report_context
from .workbook import build_xlsx

__all__ = [
    "FIXED_COLUMNS",
    "TAIL_COLUMNS",
    "build_assessment",
    "build_csv",
    "build_pdf",
    "build_unit_pdf",
    "build_units_zip",
    "build_xlsx",
    "render_pdf",
    "report_context",
    "result_table",
]
