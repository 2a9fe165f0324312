"""Who may see what in the console."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..extensions import db, login_manager
from ..models import Role, User


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


def roles_required(*roles: Role):
    """Signed in, and one of `roles` (admins pass everywhere); unit liaisons only where named."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: Everyone in the office (not unit liaisons).
OFFICE = (Role.DATA_ADMIN, Role.OPERATOR, Role.VIEWER)
#: Those who change data.
WRITERS = (Role.DATA_ADMIN, Role.OPERATOR)
