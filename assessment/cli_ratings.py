"""Command-line commands for rating devices and public ratings (device-add …)."""


def register_rating_commands(app):
    """Add the rating commands to the CLI group."""
