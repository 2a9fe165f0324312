"""Answer widgets of the raters' pages: one renderer per answer type, and the reader of what a form sent.

The registry maps an answer type of the instrument definition (surveys/answers.py: likert5, score100) to a
Jinja macro in templates/web/rater/_widgets.html. A new answer type needs a parser in surveys/answers.py, a
macro there and a line here. Field names are ``a<assignment id>.<question id>`` (plus ``.na`` for the 不了解 box
of a number).
"""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

#: Answer type → macro name in templates/web/rater/_widgets.html.
RENDERERS = {"likert5": "choice", "score100": "number"}

_TEMPLATE = "web/rater/_widgets.html"


def field_name(assignment_id: int, question_id: str) -> str:
    return f"a{assignment_id}.{question_id}"


def shown(value) -> str:
    """An answer as a form value: 5.0 → "5", 87.5 → "87.5", None (不了解) → "na"."""
    if value is None:
        return "na"
    return str(int(value)) if float(value).is_integer() else str(value)


def render(
    defn,
    question,
    assignment_id: int,
    answers: dict,
    *,
    label: str,
    disabled: bool,
    label_hidden: bool = False,
) -> Markup:
    """The control for one question of one assignment, pre-filled with its saved answer (if any)."""
    macro_name = RENDERERS[question.type]
    module = current_app.jinja_env.get_template(_TEMPLATE).module
    macro = getattr(module, macro_name)
    answered = question.id in answers
    return macro(
        name=field_name(assignment_id, question.id),
        assignment_id=assignment_id,
        question=question,
        scale=defn.scales[question.type],
        value=shown(answers[question.id]) if answered else "",
        allow_na=defn.allow_na,
        na_label=defn.na_label,
        disabled=disabled,
        label=label,
        label_hidden=label_hidden,
    )


def read_form(form, assignment_id: int, defn) -> dict[str, str]:
    """Raw answers a form sent for one assignment: {question id: "5" | "na" | "" (cleared number)}.

    A likert question not sent is left as it was (a radio cannot be unselected); an emptied number clears it.
    """
    raw = {}
    for q in defn.questions:
        name = field_name(assignment_id, q.id)
        if form.get(name + ".na"):
            raw[q.id] = "na"
        elif name in form:
            value = form.get(name, "").strip()
            if value or RENDERERS[q.type] == "number":
                raw[q.id] = value
    return raw
