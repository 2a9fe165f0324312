"""Jinja filters shared by the pages and the printed report."""


def fmt2(value):
    """Two decimals, as every displayed score is written; a dash when there is no value."""
    if value is None:
        return "—"
    try:
        if value != value:  # NaN
            return "—"
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return str(value)


def pct(value, digits=1):
    if value is None or value != value:
        return "—"
    return f"{100 * float(value):.{digits}f}%"


def register_template_helpers(app):
    app.jinja_env.filters["fmt2"] = fmt2
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
