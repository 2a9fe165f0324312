"""Office accounts."""

import os
import secrets

from ..extensions import db
from ..models import Role, Unit, User
from . import audit

MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    pass


def create_user(
    username: str, password: str, role: str, display_name: str = "", unit_code=None, actor: str = "cli"
) -> User:
    """Create an office account with a hashed password; refuses short passwords and taken names."""
    username = (username or "").strip()
    if not username:
        raise UserError("user name is empty")
    try:
        role_enum = Role(role)
    except ValueError:
        raise UserError(f"unknown role '{role}' (expected one of: {', '.join(r.value for r in Role)})") from None
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.execute(db.select(User.id).filter_by(username=username)).first():
        raise UserError(f"user '{username}' already exists")
    unit_id = None
    if role_enum is Role.UNIT_LIAISON:
        unit = db.session.execute(db.select(Unit).filter_by(code=unit_code)).scalar_one_or_none()
        if unit is None:
            raise UserError("a unit liaison needs an existing unit code")
        unit_id = unit.id
    user = User(username=username, display_name=display_name or username, role=role_enum, unit_id=unit_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, username=username, role=role_enum.value)
    return user


def ensure_first_admin(username: str, password_file: str) -> bool:
    """On a new installation (no account at all), create an admin with a random password.

    The password is written to `password_file` (mode 0600, under instance/, never committed) so the person
    who ran `make run` can read it; returns True when the account was created.
    """
    if db.session.execute(db.select(User.id).limit(1)).first():
        return False
    password = secrets.token_urlsafe(12)
    create_user(username, password, Role.ADMIN.value, display_name="编办管理员", actor="setup")
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return True
