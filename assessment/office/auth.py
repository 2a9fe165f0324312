"""Who may see what in the console: one table of sections and roles, used by the navigation and the routes."""

from dataclasses import dataclass
from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from ..extensions import login_manager
from ..models import Role
from ..services import signin


@login_manager.user_loader
def load_user(session_id):
    """The signed-in user, if the session's nonce is still theirs (a sign-out voids copied cookies)."""
    return signin.load_session_user(session_id)


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


def refuse_viewer_writes():
    """Viewers only look: any console request that could change something answers 403, whatever the route.

    Registered on the console's blueprint, so a route added later cannot forget it; sign-in and sign-out are
    not changes of data.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in ("office.login", "office.logout"):
        return None
    if current_user.is_authenticated and current_user.role is Role.VIEWER:
        abort(403)
    return None


#: Everyone in the office (not unit liaisons).
OFFICE = (Role.DATA_ADMIN, Role.OPERATOR, Role.VIEWER)
#: Those who change data.
WRITERS = (Role.DATA_ADMIN, Role.OPERATOR)
#: Unit liaisons see the bad-rating cases of their own unit, nothing else.
CASE_VIEWERS = OFFICE + (Role.UNIT_LIAISON,)
#: Admins only (admins pass every check, so no other role is named).
ADMINS = ()
#: The audit log names raters next to what was done for them: data administrators (and admins).
AUDITORS = (Role.DATA_ADMIN,)


@dataclass(frozen=True)
class Section:
    """A part of the console: its navigation label and its pages, each page with the roles that may open it.

    The label opens the first page the user may open (好差评: the figures for the office, the cases of their
    own unit for a unit liaison); a user who may open none of them does not see the label.
    """

    label: str
    #: (route key in ROUTE_ROLES, endpoint) in order of preference.
    pages: tuple[tuple[str, str], ...]
    #: Endpoint names (the part after "office.") or their prefixes that mark this label as the current one.
    active: tuple[str, ...] = ()


#: Who may open each route of the console; the routes check it (`section_required`) and the navigation reads it,
#: so a link never answers 403.
ROUTE_ROLES = {
    "overview": OFFICE,
    "units": OFFICE,
    "raters": OFFICE,
    "imports": WRITERS,
    "surveys": OFFICE,
    "results": OFFICE,
    "results_write": WRITERS,
    "ratings": OFFICE,
    "cases": CASE_VIEWERS,
    "audit": AUDITORS,
    "users": ADMINS,
}

#: The console's navigation, in order.
SECTIONS = (
    Section("工作台", (("overview", "office.index"),), ("index", "results", "result_unit", "scheme")),
    Section("被评价单位", (("units", "office.units"),), ("units",)),
    Section("评价人", (("raters", "office.raters"),), ("raters",)),
    Section("数据导入", (("imports", "office.imports"),), ("imports", "import_template")),
    Section("评价填报", (("surveys", "office.surveys"),),
            ("survey", "create_period", "move_period", "issue_invitations", "revoke_invitations", "response")),
    Section("好差评", (("ratings", "office.ratings"), ("cases", "office.cases")),
            ("rating", "flagged", "case", "device", "register_device", "rotate_device", "set_device", "calendar")),
    Section("审计日志", (("audit", "office.audit_log"),), ("audit",)),
    Section("账户管理", (("users", "office.users"),), ("users", "unlock_user")),
)


def may_open(user, key: str) -> bool:
    """May this signed-in user open the routes of `key` (see ROUTE_ROLES)?"""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*ROUTE_ROLES[key])


def section_required(key: str):
    """The route check of `key`: signed in and one of its roles (see ROUTE_ROLES)."""
    return roles_required(*ROUTE_ROLES[key])


def navigation(user, endpoint: str | None) -> list[dict]:
    """The navigation links this user may open, each to the first page of its section they may open."""
    name = (endpoint or "").rpartition(".")[2]
    links = []
    for section in SECTIONS:
        target = next((ep for key, ep in section.pages if may_open(user, key)), None)
        if target is not None:
            links.append({"label": section.label, "endpoint": target,
                          "active": bool(section.active) and name.startswith(section.active)})
    return links
