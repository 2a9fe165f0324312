"""Office accounts in the console (账户管理): who may sign in, who is locked out, and lifting a lock-out."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..extensions import db
from ..models import User
from ..services import signin
from . import bp
from .auth import section_required
from .forms import ActionForm


@bp.route("/users")
@section_required("users")
def users():
    accounts = db.session.execute(db.select(User).order_by(User.role, User.username)).scalars().all()
    locks = {u.id: signin.locked_until(u.username) for u in accounts}
    return render_template("office/users/list.html", accounts=accounts, locks=locks, form=ActionForm())


@bp.route("/users/<username>/unlock", methods=["POST"])
@section_required("users")
def unlock_user(username):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        abort(404)
    signin.unlock(user.username, actor=current_user.username)
    flash(f"已解除账户 {user.username} 的登录锁定。", "success")
    return redirect(url_for("office.users"))
