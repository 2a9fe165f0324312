"""One way in for raters (/r/) and participants (/p/): a personal link or an access code (services/access.py)
puts only the key's id in the session, and every page checks that key again.

- A code typed at either page opens its holder's pages (people pick the wrong page); a link opens only the
  pages it was made for (links are built by access.link_for, so a mismatch is a copied or altered link).
- A rater may look at a closed period read-only (``g.read_only``, ``g.closed_message``); anything else that
  does not open (revoked, holder inactive, not yet open, closed for a participant) ends the session's slot.
- One browser session holds one holder: entering as someone else leaves the other slot.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for

from ..errors import api_error
from ..services import access

RATER, PARTICIPANT = "rater", "participant"
#: Per kind of holder: the session slot, the home page, the code page, the page frame (web/layout.html's child).
SLOTS = {
    RATER: ("rater_key", "web.rater_home", "web.enter_code", "web/rater/layout.html"),
    PARTICIPANT: ("participant_key", "web.participant_home", "web.participant_code", "web/network/layout.html"),
}
WRONG_LINK = {RATER: "该链接不用于填写问卷。", PARTICIPANT: "该链接不用于报送信息。"}
#: Per kind of holder: the code page's heading and button, and the title of a refusal.
WORDS = {
    RATER: ("填写评价问卷", "进入问卷", "无法打开问卷"),
    PARTICIPANT: ("信息员·专家·联动部门", "进入", "无法打开"),
}


def kind_of(key) -> str:
    return RATER if key.rater_id is not None else PARTICIPANT


def _read_only_allowed(exc: access.AccessError) -> bool:
    """A closed period still opens a rater's pages, read-only."""
    return exc.reason == "closed" and exc.key is not None and kind_of(exc.key) == RATER


def refuse(message: str, status: int, kind: str, title: str | None = None):
    """A refusal in the holder's pages: JSON for the answer script, else the message page."""
    if request.path.endswith("/answer"):
        return api_error(status, "access", message)
    _, _, code_endpoint, layout = SLOTS[kind]
    page = render_template(
        "web/message.html",
        layout=layout,
        title=title or WORDS[kind][2],
        message=message,
        code_url=url_for(code_endpoint),
    )
    return page, status


def enter(key):
    """Start the holder's session on this key (only its id is kept) and go to the holder's home page."""
    for slot, *_ in SLOTS.values():
        session.pop(slot, None)
    slot, home, *_ = SLOTS[kind_of(key)]
    session[slot] = key.id
    access.touch(key)
    return redirect(url_for(home))


def _code_form(kind: str, error, code: str) -> str:
    _, _, code_endpoint, layout = SLOTS[kind]
    heading, button, _ = WORDS[kind]
    return render_template(
        "web/code.html",
        layout=layout,
        heading=heading,
        button=button,
        action=url_for(code_endpoint),
        error=error,
        code=code,
    )


def code_page(kind: str):
    """The access-code form of /r/ or /p/: a right code enters its holder's pages; wrong codes are slowed per
    client by access.resolve_code (a refusal answers 200 so that the commit point keeps the count)."""
    code = ""
    if request.method == "POST":
        code = request.form.get("code", "")
        try:
            return enter(access.resolve_code(code, request.remote_addr))
        except access.AccessError as exc:
            if _read_only_allowed(exc):
                return enter(exc.key)
            if exc.reason == "throttled":
                return _code_form(kind, exc.message, ""), 429
            return _code_form(kind, exc.message, code), 200
    return _code_form(kind, None, code)


def open_link(token: str, kind: str):
    """A personal link /r/<token> or /p/<token>: enter, and the token leaves the address bar."""
    try:
        key = access.resolve_token(token)
    except access.AccessError as exc:
        if _read_only_allowed(exc) and kind == RATER:
            return enter(exc.key)
        session.pop(SLOTS[kind][0], None)
        return refuse(exc.message, {"unknown": 404, "revoked": 410}.get(exc.reason, 403), kind)
    if kind_of(key) != kind:
        return refuse(WRONG_LINK[kind], 403, kind)
    return enter(key)


def load_holder(kind: str):
    """Re-check the session's key before a holder's page: sets g.key, g.period, g.read_only (and
    g.closed_message); returns a response when the page must not open."""
    slot, _, code_endpoint, _ = SLOTS[kind]
    key_id = session.get(slot)
    key = access.get_key(key_id) if isinstance(key_id, int) else None
    if key is None:
        session.pop(slot, None)
        if request.path.endswith("/answer"):
            return refuse("请使用编办发给您的个人链接，或在此输入访问码。", 401, kind, title="请先进入问卷")
        return redirect(url_for(code_endpoint))
    g.read_only = False
    try:
        access.check_key(key)
    except access.AccessError as exc:
        if not _read_only_allowed(exc):
            session.pop(slot, None)
            return refuse(exc.message, 403, kind)
        g.read_only, g.closed_message = True, exc.message
    if kind_of(key) != kind:
        session.pop(slot, None)
        return refuse(WRONG_LINK[kind], 403, kind)
    g.key, g.period = key, key.period
    access.touch(key)
    return None
