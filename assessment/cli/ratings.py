"""Rating devices and public ratings (好差评): device-add, -list, -enable, -disable, -rotate, ratings-flag."""

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import fail, period_or_fail


def _show_key(device, key):
    rotated = device.key_rotated_at is not None
    click.echo(f"Device {device.id}: new key" if rotated else f"Device {device.id} registered")
    click.echo("Key (shown once, only its hash is stored):")
    click.echo(f"    {key}")
    click.echo("Post ratings with:  Authorization: Bearer <key>  to  POST /api/v1/ratings")


@click.command("device-add")
@click.argument("unit_code", required=False)
@click.option("--window", help="the service window (required for a window device)")
@click.option("--location", help="where the device stands, e.g. 市民服务中心2楼")
@click.option(
    "--integration",
    is_flag=True,
    help="an integration key (online platform, 12345 hotline) that names unit_code per rating",
)
@click.option(
    "--channel",
    type=click.Choice(["window", "online", "app", "hotline", "sms"]),
    help="default: window for a device, online for an integration key",
)
@click.option(
    "--code-system",
    default="standard",
    show_default=True,
    type=click.Choice(["standard", "gbt39046"]),
    help="how the source numbers levels (gbt39046: 1 = 非常满意)",
)
@with_appcontext
@transactional
def device_add_command(unit_code, window, location, integration, channel, code_system):
    """Register a rating device (or an integration key) and print its key, once."""
    from ..services.ratings.devices import DeviceError, register_device

    try:
        device, key = register_device(
            unit_code,
            window,
            actor="cli",
            location=location,
            integration=integration,
            channel=channel,
            code_system=code_system,
        )
    except DeviceError as exc:
        fail(str(exc))
    _show_key(device, key)


@click.command("device-list")
@with_appcontext
def device_list_command():
    """List devices: id, unit, window, channel, state, last contact, stored ratings and answer counts."""
    from ..services.ratings.devices import device_rows
    from ..timefmt import CST

    click.echo(
        f"{'id':>4}  {'kind':<11} {'unit':<8} {'window':<16} {'channel':<8} {'state':<8} "
        f"{'last seen (China)':<17} {'stored':>7} {'dup':>5} {'confl':>5} {'rej':>5}"
    )
    for row in device_rows():
        d = row["device"]
        seen = d.last_seen_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") if d.last_seen_at else "never"
        click.echo(
            f"{d.id:>4}  {'integration' if d.is_integration else 'device':<11} "
            f"{row['unit'].code if row['unit'] else '-':<8} {(d.window or '-')[:16]:<16} "
            f"{d.channel.value:<8} "
            f"{'enabled' if d.enabled else 'disabled':<8} {seen:<17} {row['stored']:>7} {d.n_duplicate:>5} "
            f"{d.n_conflict:>5} {d.n_rejected:>5}"
        )


def _toggle(device_id, enabled):
    from ..services.ratings.devices import DeviceError, set_enabled

    try:
        device = set_enabled(device_id, enabled, actor="cli")
    except DeviceError as exc:
        fail(str(exc))
    click.echo(f"Device {device.id} is now {'enabled' if enabled else 'disabled'}.")


@click.command("device-disable")
@click.argument("device_id", type=int)
@with_appcontext
@transactional
def device_disable_command(device_id):
    """Disable a device: its key gets 401 from now on."""
    _toggle(device_id, False)


@click.command("device-enable")
@click.argument("device_id", type=int)
@with_appcontext
@transactional
def device_enable_command(device_id):
    """Enable a disabled device again."""
    _toggle(device_id, True)


@click.command("device-rotate")
@click.argument("device_id", type=int)
@with_appcontext
@transactional
def device_rotate_command(device_id):
    """Give a device a new key and print it once; the old key stops working at once."""
    from ..services.ratings.devices import DeviceError, rotate_key

    try:
        device, key = rotate_key(device_id, actor="cli")
    except DeviceError as exc:
        fail(str(exc))
    _show_key(device, key)


@click.command("ratings-flag")
@click.option("--period", "period_name", required=True)
@with_appcontext
@transactional
def ratings_flag_command(period_name):
    """Flag a period's ratings again (window ratings at night, bursts of top ratings), e.g. after imports."""
    from ..services.ratings.flags import rescan_flags

    period = period_or_fail(period_name)
    counts = rescan_flags(period)
    click.echo(
        f"Period {period_name}: newly flagged {counts['odd_hour']} at impossible hours, "
        f"{counts['burst']} in bursts of top ratings."
    )


COMMANDS = (
    device_add_command,
    device_list_command,
    device_disable_command,
    device_enable_command,
    device_rotate_command,
    ratings_flag_command,
)
