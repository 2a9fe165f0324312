"""Signing in and out, and who may see what in the console: one table of sections and roles, used by the
navigation and the routes."""

from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter, login_manager
from ..models import Role
from ..services import signin
from ..urls import safe_next
from . import bp
from .forms import LoginForm


@login_manager.user_loader
def load_user(session_id):
    """The signed-in user, if the session's nonce is still theirs (a sign-out voids copied cookies)."""
    return signin.load_session_user(session_id)


def _refuse():
    """403: the error page, naming the refused action when a form was posted (a viewer pressing a button)."""
    if request.method == "POST":
        abort(make_response(render_template("error.html", status=403, message="您没有权限执行此操作。"), 403))
    abort(403)


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
#: Those who take steps on bad-rating cases: the office's writers, and unit liaisons on their unit's cases.
CASE_WRITERS = WRITERS + (Role.UNIT_LIAISON,)
#: Unit liaisons: their own unit's pages (check points, pushed problems, cases, its published result).
LIAISONS = (Role.UNIT_LIAISON,)
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
    "import_templates": OFFICE,
    "surveys": OFFICE,
    "surveys_write": WRITERS,
    #: Single responses next to their raters: data administrators only, admins included (see STRICT).
    "responses": (Role.DATA_ADMIN,),
    "results": OFFICE,
    "results_write": WRITERS,
    "ratings": OFFICE,
    "ratings_write": WRITERS,
    "cases": CASE_VIEWERS,
    "cases_write": CASE_WRITERS,
    # Check points: the office sees all, a liaison only its own unit's (the views scope by unit).
    "checkpoints": CASE_VIEWERS,
    "checkpoints_write": WRITERS,
    #: A check point's outcome and evidence: the office's writers, and the liaison of its unit (views scope by unit).
    "checkpoints_report": CASE_WRITERS,
    "establishment": OFFICE,
    "establishment_write": WRITERS,
    "liaison": LIAISONS,
    # The problem ledger and the supervision network (informants, experts, linkage departments): the office;
    # "ledger_unit": a problem's rectification report and evidence, also for the liaison of its unit.
    "ledger": OFFICE,
    "ledger_write": WRITERS,
    "ledger_unit": CASE_VIEWERS,
    "network": OFFICE,
    "network_write": WRITERS,
    "audit": AUDITORS,
    "users": ADMINS,
}
#: Keys that admins do not pass: system administrators manage accounts, not raters' answers, and have no unit
#: of their own.
STRICT = frozenset({"responses", "liaison"})

#: The console's navigation, in order.
SECTIONS = (
    Section("工作台", (("overview", "office.index"),), ("index", "results", "result_unit", "scheme")),
    Section("被评价单位", (("units", "office.units"),), ("units",)),
    Section("评价人", (("raters", "office.raters"),), ("raters",)),
    Section("数据导入", (("imports", "office.imports"),), ("imports", "import_template")),
    Section(
        "评价填报",
        (("surveys", "office.surveys"),),
        ("survey", "create_period", "move_period", "issue_invitations", "revoke_invitations", "response"),
    ),
    Section(
        "好差评",
        (("ratings", "office.ratings"), ("cases", "office.cases")),
        ("rating", "flagged", "case", "device", "register_device", "rotate_device", "set_device", "calendar"),
    ),
    Section("本单位", (("liaison", "office.liaison_home"),), ("liaison",)),
    Section("问题台账", (("ledger", "office.ledger_list"),), ("ledger",)),
    Section("监督网络", (("network", "office.network_suggestions"),), ("network",)),
    Section("问效点", (("checkpoints", "office.checkpoints"),), ("checkpoint",)),
    Section("编制实名制", (("establishment", "office.establishment"),), ("establishment", "vacancy")),
    Section("审计日志", (("audit", "office.audit_log"),), ("audit",)),
    Section("账户管理", (("users", "office.users"),), ("users", "unlock_user")),
)


def may_open(user, key: str) -> bool:
    """May this signed-in user open the routes of `key` (see ROUTE_ROLES)?"""
    if not getattr(user, "is_authenticated", False):
        return False
    if key in STRICT:
        return user.role in ROUTE_ROLES[key]
    return user.has_role(*ROUTE_ROLES[key])


def section_required(key: str, post: str | None = None):
    """The route check of `key`: signed in and one of its roles (see ROUTE_ROLES), else 403.

    `post` names the key a POST to the same route needs (a page that reads for everyone and writes for some),
    checked before the form is read: whoever may not act gets 403, never a redirect.
    """
    for name in (key, post):
        if name is not None and name not in ROUTE_ROLES:
            raise KeyError(f"route key {name!r} is not in ROUTE_ROLES")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not may_open(current_user, key):
                _refuse()
            if post is not None and request.method == "POST" and not may_open(current_user, post):
                _refuse()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def navigation(user, endpoint: str | None) -> list[dict]:
    """The navigation links this user may open, each to the first page of its section they may open."""
    name = (endpoint or "").rpartition(".")[2]
    links = []
    for section in SECTIONS:
        target = next((ep for key, ep in section.pages if may_open(user, key)), None)
        if target is not None:
            links.append(
                {
                    "label": section.label,
                    "endpoint": target,
                    "active": bool(section.active) and name.startswith(section.active),
                }
            )
    return links


# --- signing in and out -----------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = signin.sign_in(form.username.data, form.password.data, request.remote_addr)
        except signin.SigninRefused as exc:
            # Status 200 for a failure, so the commit point keeps the failure counters (429 writes nothing).
            flash(exc.message, "error")
            return render_template("office/login.html", form=form), 429 if exc.reason == "throttled" else 200
        login_user(user)  # the sign-in stamp and its audit entry are committed by the commit point
        return redirect(safe_next(request.args.get("next"), url_for("office.home")))
    return render_template("office/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        signin.end_sessions(current_user)
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("office.login"))


@bp.route("/home")
@login_required
def home():
    """Where a signed-in user lands: unit liaisons on their own unit's page, the office on its overview."""
    if current_user.role is Role.UNIT_LIAISON:
        return redirect(url_for("office.liaison_home"))
    return redirect(url_for("office.index"))
