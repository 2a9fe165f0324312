"""`assessment scheme show|set`: the period's scoring scheme (评分方案) as YAML on the command line.

`set` validates the whole file and stores it as the period's next scheme version, or stores nothing and prints
every problem with its path (English, then the console's Chinese wording), exiting non-zero.
"""

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import period_or_fail


@click.group("scheme")
def scheme_group():
    """Show or set a period's scoring scheme (YAML)."""


@scheme_group.command("show")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@with_appcontext
def scheme_show(period_name):
    """Print the period's current scheme as YAML (the shipped default until one is saved)."""
    import scoring

    from ..services.scoring import stored_scheme

    scheme = stored_scheme(period_or_fail(period_name))
    text = scheme.text if scheme else scoring.default_scheme_text()
    click.echo(text, nl=not text.endswith("\n"))


@scheme_group.command("set")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
@transactional
def scheme_set(period_name, file):
    """Validate FILE.yaml and store it as the period's new scheme version; nothing is stored when it is invalid."""
    import scoring

    from ..office.scheme_messages import messages_zh
    from ..services.scoring import save_scheme, stored_scheme

    period = period_or_fail(period_name)
    try:
        with open(file, encoding="utf-8-sig") as handle:
            text = handle.read().replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text (文件不是 UTF-8 编码)") from None
    before = stored_scheme(period)
    try:
        saved = save_scheme(period, text, actor="cli", note=f"assessment scheme set {click.format_filename(file)}")
    except scoring.SchemeError as exc:
        click.echo(f"Invalid scheme, nothing stored ({len(exc.messages)} problem(s)):", err=True)
        for en, zh in zip(exc.messages, messages_zh(exc.messages, exc.data), strict=True):
            click.echo(f"- {en}" + (f"\n  {zh}" if zh != en else ""), err=True)
        raise click.exceptions.Exit(1) from None
    if before is not None and saved.id == before.id:
        click.echo(f"Scheme unchanged: period {period.name} stays at version {saved.version}.")
    else:
        click.echo(f"Stored scheme version {saved.version} for period {period.name}; score again to apply it.")


COMMANDS = (scheme_group,)
