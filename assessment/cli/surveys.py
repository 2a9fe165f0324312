"""Raters' work: the instruments, assignments, invitations (links and access codes), reminders, demo access."""

import sys

import click
from flask.cli import with_appcontext

from ..services import access
from ..transactions import transactional
from .common import fail, period_or_fail, write_file


@click.command("instruments")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv")
def instruments_command(fmt):
    """Print every question of every instrument: instrument,question,theme,type,weight,text."""
    from surveys import load_all, write_instruments_csv

    write_instruments_csv(load_all(), sys.stdout)


@click.command("assign")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@with_appcontext
@transactional
def assign_command(period_name):
    """Create the period's assignments from its rules; idempotent, never drops one that has answers."""
    from ..services.assignments import AssignError, assign

    period = period_or_fail(period_name)
    try:
        run = assign(period, actor="cli")
    except AssignError as exc:
        fail(str(exc))
    click.echo(f"{'instrument':<12}{'assigned':>10}{'added':>8}{'dropped':>9}{'kept':>6}")
    for key, c in run.counts.items():
        click.echo(f"{key:<12}{c.matched + c.kept:>10}{c.added:>8}{c.dropped:>9}{c.kept:>6}")
    click.echo(
        f"{'total':<12}{sum(c.matched + c.kept for c in run.counts.values()):>10}{run.added:>8}"
        f"{sum(c.dropped for c in run.counts.values()):>9}{sum(c.kept for c in run.counts.values()):>6}"
    )
    if run.raters_without_unit:
        names = ", ".join(run.raters_without_unit)
        click.echo(f"Department raters without a unit (no peer/self assignments): {names}")
    click.echo("kept = no longer matched by the rules but already answered, so never dropped.")


@click.command("invitations")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="the CSV to write")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False), help="also write printable sheets, one per rater")
@click.option("--group", help="only raters of this group: grassroots, leader, department, deputy, expert")
@click.option("--rater", "raters", multiple=True, help="only this rater (repeat for more)")
@click.option("--base-url", help="where links point (default: the BASE_URL setting, else http://127.0.0.1:5000)")
@click.option("--page-size", type=click.Choice(["A5", "A4"]), default="A5", show_default=True)
@click.option("--only-new", is_flag=True, help="skip raters who already hold a live link")
@with_appcontext
@transactional
def invitations_command(period_name, out, pdf, group, raters, base_url, page_size, only_new):
    """Issue a fresh personal link and access code to each selected rater who has assignments in the period
    (revoking their previous ones) and write them: the only time they are shown in clear."""
    from ..services import invitations as service

    period = period_or_fail(period_name)
    base = access.base_url(base_url)
    try:
        chosen = service.select_raters(period, service.parse_group(group), raters, without_key=only_new)
        issued = service.issue_invitations(period, chosen, actor="cli", base_url=base)
        csv_bytes = service.build_csv(issued)
        pdf_bytes = service.build_pdf(issued, period, base, page_size) if pdf else None
    except service.InvitationError as exc:
        fail(str(exc))
    # Files first: if one cannot be written the command fails and nothing is issued (transactional).
    write_file(out, csv_bytes)
    if pdf:
        write_file(pdf, pdf_bytes)
    click.echo(f"Issued {len(issued)} invitation(s) for period {period.name}; links point to {base}/r/.")
    click.echo(f"Wrote {out}" + (f" and {pdf} ({len(issued)} page(s))" if pdf else "") + ".")
    click.echo(
        "Previous links and codes of these raters no longer work. Keep the files safe: they are the "
        "only copy of the codes."
    )
    if period.state.value != "open":
        click.echo(f"Note: period {period.name} is {period.state.value}; links work only while it is open.")


@click.command("reminders")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="the CSV to write")
@with_appcontext
def reminders_command(period_name, out):
    """Write the raters who have not submitted everything: rater_code,name,group,town_code,phone,assigned,submitted."""
    from ..services.progress import reminder_rows, reminders_csv

    period = period_or_fail(period_name)
    write_file(out, reminders_csv(period))
    click.echo(f"Wrote {out}: {len(reminder_rows(period))} rater(s) of period {period.name} still to remind.")


@click.command("demo-access")
@click.option("--period", "period_name", help="the period (default: the newest open one)")
@click.option("--base-url", help="where links point (default: the BASE_URL setting, else http://127.0.0.1:5000)")
@with_appcontext
@transactional
def demo_access_command(period_name, base_url):
    """Issue a personal link and an access code to two demo raters and print them, so a newcomer can try the
    raters' side next to the office login (`make run`). Re-running issues fresh ones."""
    from ..models import PeriodState
    from ..services.invitations import demo_invitations
    from ..services.ratings.stats import default_period

    if period_name:
        period = period_or_fail(period_name)
    else:
        period = default_period()  # the open period, else the newest (refused below unless open)
    if period is None or period.state is not PeriodState.OPEN:
        click.echo("Raters' side: no open period, so no demo link (open one with `assessment period open P`).")
        return
    base = access.base_url(base_url)
    by_link, by_code = demo_invitations(period, base)
    if by_link is None:
        click.echo(f"Raters' side: nobody has assignments in period {period.name} yet (`assessment assign`).")
        return
    click.echo(f"Raters' side (period {period.name}, open until {period.ends_on}):")
    click.echo(f"    personal link: {by_link.link}")
    click.echo(f"                   ({by_link.rater.name}, {by_link.rater.group.label})")
    click.echo(f"    access code:   {by_code.code_display}  at {access.entry_url(by_code.rater, base)}")
    click.echo(f"                   ({by_code.rater.name}, {by_code.rater.group.label})")


COMMANDS = (instruments_command, assign_command, invitations_command, reminders_command, demo_access_command)
