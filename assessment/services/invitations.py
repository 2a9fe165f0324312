"""Invitations (评价邀请): a fresh personal link and access code per rater, as CSV and as printable sheets.

Issuing goes through services/access.py, which stores only hashes and revokes the rater's previous key: the
link and code exist in clear only in what `issue_invitations` returns, so the CSV and the PDF built from it
are the only place they are ever shown. Builders return bytes; only the route or the CLI sends or writes them.
"""

import io
import zipfile
from dataclasses import dataclass

import segno
from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import case, func

from ..extensions import db
from ..models import AccessKey, Assignment, AssignmentState, Rater, RaterGroup
from ..spreadsheets import csv_bytes
from . import access
from .exports import render_pdf
from .refusals import Refused

#: The invitations CSV's columns (interfaces.md, `assessment invitations`).
INVITATION_COLUMNS = ["rater_code", "name", "group", "town_code", "link", "access_code"]

#: Sheet sizes the console and the CLI offer (one rater per page).
PAGE_SIZES = ("A5", "A4")


class InvitationError(Refused):
    """Invitations refused: `str()` in English (CLI), `message_zh` for the console."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message_zh)
        self.args = (message,)  # str() stays English for the command line


@dataclass(frozen=True)
class Invitation:
    """What one rater receives: their link and access code, shown this once."""

    rater: Rater
    link: str
    code: str

    @property
    def code_display(self):
        """The code in two groups of four (ABCD-EFGH), easier to read out and type; hyphens are ignored."""
        return access.format_code(self.code)


def parse_group(value: str | None) -> RaterGroup | None:
    """A rater group code (grassroots, leader, department, deputy, expert), None for empty."""
    if not value:
        return None
    try:
        return RaterGroup(value.strip())
    except ValueError:
        raise InvitationError(
            f"unknown rater group '{value}': use one of {', '.join(g.value for g in RaterGroup)}",
            "评价人类别：请选择列表中的类别。",
        ) from None


def select_raters(period, group: RaterGroup | None = None, codes=(), without_key: bool = False) -> list[Rater]:
    """The active raters who have assignments in `period`, optionally of one group and/or with these codes,
    and with `without_key` only those who hold no live link yet (new raters, after a later `assign`).

    A code that is unknown, inactive, or without assignments in the period is an error naming it, so a typo
    never silently leaves someone without an invitation.
    """
    codes = [c.strip() for c in codes if c and c.strip()]
    with_work = db.select(Assignment.rater_id).where(Assignment.period_id == period.id).distinct()
    query = db.select(Rater).where(Rater.id.in_(with_work), Rater.active.is_(True))
    if group is not None:
        query = query.where(Rater.group == group)
    if codes:
        query = query.where(Rater.code.in_(codes))
    if without_key:
        live = db.select(AccessKey.rater_id).where(
            AccessKey.period_id == period.id, AccessKey.revoked_at.is_(None), AccessKey.rater_id.is_not(None)
        )
        query = query.where(Rater.id.not_in(live))
    raters = sorted(db.session.execute(query).scalars().all(), key=_rater_order)
    if codes:
        missing = sorted(set(codes) - {r.code for r in raters})
        if missing:
            shown = ", ".join(missing[:20])
            raise InvitationError(
                f"no active rater with assignments in period {period.name}"
                f"{' and group ' + group.value if group else ''}: {shown}",
                f"评价人编码：{'、'.join(missing[:20])} 不存在、已停用或在本周期没有评价任务"
                f"{'（或不属于所选类别）' if group else ''}。",
            )
    if not raters:
        if without_key:
            raise InvitationError(
                f"every selected rater of period {period.name} already holds a live link",
                "所选评价人都已有有效的个人链接；如需重新发放，请取消“只发给尚未发放的评价人”。",
            )
        raise InvitationError(
            f"no rater has assignments in period {period.name}"
            f"{' in group ' + group.value if group else ''}: run `assessment assign --period {period.name}`",
            "没有可发送邀请的评价人：请先生成评价任务" + ("，或换一个评价人类别。" if group else "。"),
        )
    return raters


def rater_sort_key(group: RaterGroup, town_code: str | None, code: str):
    """Raters as the office lists them (invitations, reminders): by group (grassroots first, as RaterGroup),
    town (raters without a town last), then code."""
    return list(RaterGroup).index(group), not town_code, town_code or "", code


def _rater_order(rater):
    return rater_sort_key(rater.group, rater.town.code if rater.town else None, rater.code)


def issue_invitations(period, raters, actor: str, base_url: str | None = None) -> list[Invitation]:
    """Issue a fresh link and code to each rater (revoking their previous ones) and return them, in order;
    links point at `base_url`, else where access.base_url says."""
    return [
        Invitation(rater=item.holder, link=access.link_for(item.holder, item.token, base_url), code=item.code)
        for item in access.issue(raters, period, actor)
    ]


def build_csv(invitations: list[Invitation]) -> bytes:
    """The invitations as CSV (spreadsheets.csv_bytes): INVITATION_COLUMNS, one row per rater."""
    rows = (
        [
            inv.rater.code,
            inv.rater.name,
            inv.rater.group.value,
            inv.rater.town.code if inv.rater.town else "",
            inv.link,
            inv.code_display,
        ]
        for inv in invitations
    )
    return csv_bytes(INVITATION_COLUMNS, rows)


def qr_svg(link: str) -> Markup:
    """The link as a QR code, an inline SVG element (segno; error correction M survives a creased sheet)."""
    qr = segno.make(link, error="m", micro=False)
    return Markup(qr.svg_inline(scale=4, border=4, omitsize=True, title="个人链接二维码"))


def build_pdf(invitations: list[Invitation], period, base_url: str | None = None, page_size: str = "A5") -> bytes:
    """Printable invitation sheets, one page per rater: name, what to do, the QR code, the access code, the
    deadline (the period's end) and the office's phone (setting OFFICE_PHONE)."""
    if page_size not in PAGE_SIZES:
        raise InvitationError(f"page size must be one of {', '.join(PAGE_SIZES)}", "纸张：请选择 A5 或 A4。")
    sheets = [
        {
            "inv": inv,
            "qr": qr_svg(inv.link),
            "group": inv.rater.group.label,
            "town": inv.rater.town.name if inv.rater.town else None,
        }
        for inv in invitations
    ]
    html = render_template(
        "report/invitations.html",
        sheets=sheets,
        period=period,
        page_size=page_size,
        code_url=access.entry_url(Rater(), base_url),
        office_phone=current_app.config["OFFICE_PHONE"],
        office_name=current_app.config["OFFICE_NAME"],
    )
    return render_pdf(html)


def build_zip(invitations: list[Invitation], period, base_url: str | None = None, page_size: str = "A5") -> bytes:
    """The CSV and the PDF sheets of one issue together (the console offers both from one issue)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"invitations_{period.name}.csv", build_csv(invitations))
        archive.writestr(f"invitations_{period.name}.pdf", build_pdf(invitations, period, base_url, page_size))
    return buffer.getvalue()


def invitation_rows(period, group: RaterGroup | None = None) -> list[dict]:
    """The raters with assignments in `period` (optionally of one group) with their access state, for the
    console: {"rater", "assigned", "submitted", "key" (the live AccessKey or None), "revoked" (count)}."""
    submitted = func.sum(case((Assignment.state == AssignmentState.SUBMITTED, 1), else_=0))
    query = (
        db.select(Rater, func.count(), submitted)
        .join(Assignment, Assignment.rater_id == Rater.id)
        .where(Assignment.period_id == period.id)
        .group_by(Rater.id)
    )
    if group is not None:
        query = query.where(Rater.group == group)
    keys = (
        db.session.execute(
            db.select(AccessKey).where(AccessKey.period_id == period.id, AccessKey.rater_id.is_not(None))
        )
        .scalars()
        .all()
    )
    live, revoked = {}, {}
    for key in keys:
        if key.revoked_at is None:
            live[key.rater_id] = key
        else:
            revoked[key.rater_id] = revoked.get(key.rater_id, 0) + 1
    rows = [
        {
            "rater": rater,
            "assigned": n,
            "submitted": int(done or 0),
            "key": live.get(rater.id),
            "revoked": revoked.get(rater.id, 0),
        }
        for rater, n, done in db.session.execute(query).all()
    ]
    return sorted(rows, key=lambda row: _rater_order(row["rater"]))


def revoke_invitations(period, raters, actor: str) -> int:
    """Revoke the raters' live links and codes in `period` (they stop working at once); returns how many."""
    return access.revoke(raters, period, actor)


def demo_invitations(period, base_url: str, actor: str = "demo"):
    """Fresh access for two demo raters with work still to do, for `make run` to print: a grassroots rater
    (the matrix pages) for the link and a leader or expert (the single-unit pages) for the code.

    Returns (invitation by link, invitation by code): the same invitation twice when there is no second rater,
    (None, None) when nobody has work left. Raters who have opened nothing come first, so the newcomer starts
    from an empty questionnaire.
    """
    submitted = func.sum(case((Assignment.state == AssignmentState.SUBMITTED, 1), else_=0))
    opened = func.sum(case((Assignment.state != AssignmentState.NOT_OPENED, 1), else_=0))

    def pick(groups):
        return db.session.execute(
            db.select(Rater)
            .join(Assignment, Assignment.rater_id == Rater.id)
            .where(Assignment.period_id == period.id, Rater.active.is_(True), Rater.group.in_(groups))
            .group_by(Rater.id)
            .having(submitted < func.count())
            .order_by(opened, Rater.code)
            .limit(1)
        ).scalar_one_or_none()

    first = pick([RaterGroup.GRASSROOTS]) or pick(list(RaterGroup))
    if first is None:
        return None, None
    second = pick([RaterGroup.LEADER, RaterGroup.EXPERT])
    chosen = [first] + ([second] if second is not None and second.id != first.id else [])
    issued = issue_invitations(period, chosen, actor, base_url)
    return issued[0], issued[-1]
