"""Who may see what in the console: one table of sections and roles, used by the navigation and the routes."""

from dataclasses import dataclass
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
#: Unit liaisons see the bad-rating cases of their own unit, nothing else.
CASE_VIEWERS = OFFICE + (Role.UNIT_LIAISON,)


@dataclass(frozen=True)
class Section:
    """A part of the console: its navigation label, the page the label opens, and who may open it."""

    key: str
    label: str
    endpoint: str
    roles: tuple[Role, ...]
    #: Endpoint names (the part after "office.") or prefixes that highlight this label.
    active: tuple[str, ...] = ()


#: The console's sections, in navigation order. The navigation shows a role only what it may open, and the
#: routes check the same roles (`section_required`), so a link never answers 403.
SECTIONS = (
    Section("overview", "工作台", "office.index", OFFICE, ("index", "results", "result_unit", "scheme")),
    Section("units", "被评价单位", "office.units", OFFICE, ("units",)),
    Section("raters", "评价人", "office.raters", OFFICE, ("raters",)),
    Section("imports", "数据导入", "office.imports", WRITERS, ("imports", "import_template")),
    Section("ratings", "好差评", "office.ratings", OFFICE,
            ("rating", "flagged", "device", "register_device", "rotate_device", "set_device", "calendar")),
    Section("cases", "差评工单", "office.cases", CASE_VIEWERS, ("case",)),
)
SECTION_ROLES = {section.key: section.roles for section in SECTIONS}
#: Sections without a navigation label of their own, reached from another page.
SECTION_ROLES.update({"results": OFFICE, "results_write": WRITERS, "scheme": OFFICE})


def may_open(user, key: str) -> bool:
    """May this signed-in user open the section `key`?"""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*SECTION_ROLES[key])


def section_required(key: str):
    """The route check of a section: signed in and one of its roles (see SECTIONS)."""
    return roles_required(*SECTION_ROLES[key])


def navigation(user, endpoint: str | None) -> list[dict]:
    """The navigation links this user may open, with the current one marked active."""
    name = (endpoint or "").rpartition(".")[2]
    return [
        {"label": s.label, "endpoint": s.endpoint, "active": name.startswith(s.active) if s.active else False}
        for s in SECTIONS
        if may_open(user, s.key)
    ]
