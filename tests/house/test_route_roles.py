"""The role table keeps itself true: every route is declared, and every cell holds for its caller."""

import io
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from tests.house.route_roles import COLUMNS, ROUTES, RUN_LAST, SIGN_OUTS

IGNORED_METHODS = {"HEAD", "OPTIONS"}
OFFICE_ACCOUNTS = ("liaison", "viewer", "operator", "data_admin", "admin")


def _declared():
    return {(line[1], line[2]) for line in ROUTES}


def test_every_route_is_in_the_table(app):
    """Is every (method, endpoint) of app.url_map in the role table, and no line left for a gone route?"""
    present = {
        (method, rule.endpoint) for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS
    }
    missing = sorted(present - _declared())
    gone = sorted(_declared() - present)
    assert not missing, "routes missing from tests/house/route_roles.py: " + ", ".join(map(" ".join, missing))
    assert not gone, "lines for routes that no longer exist: " + ", ".join(map(" ".join, gone))


def test_every_line_is_well_formed(app):
    """Does every line have one cell per caller, a URL that reaches its own endpoint, and no duplicate?"""
    adapter = app.url_map.bind("localhost")
    assert len(_declared()) == len(ROUTES)
    for cells, method, endpoint, url, *_ in ROUTES:
        assert len(cells.split()) == len(COLUMNS) and set(cells.split()) <= {"Y", "."}, endpoint
        concrete = url.format(
            assignment=1,
            case=1,
            rating=1,
            device=1,
            version=1,
            response_version=1,
            problem=1,
            step_file=1,
            point=1,
            point_file=1,
            suggestion=1,
        )
        assert adapter.match(urlsplit(concrete).path, method=method)[0] == endpoint, (method, url)


def test_the_checker_tells_refusals_from_answers():
    """Would the cell check notice a route that lets a caller through, or refuses one, against the table?"""

    class Answer:
        def __init__(self, status, location=None):
            self.status_code = status
            self.headers = {"Location": location} if location else {}

    assert _refused(Answer(403)) and _refused(Answer(401))
    assert _refused(Answer(302, "/office/login?next=%2Foffice%2F")) and _refused(Answer(302, "/r/"))
    assert _refused(Answer(302, "/p/"))
    assert not _refused(Answer(200)) and not _refused(Answer(404))
    assert not _refused(Answer(302, "/office/cases"))


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (301, 302, 303, 307):
        return urlsplit(response.headers.get("Location", "")).path in ("/office/login", "/r/", "/p/")
    return False


def _pdf():
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(b"%PDF-1.4 evidence"), filename="evidence.pdf", content_type="application/pdf")


@pytest.fixture
def world(app, make_user):
    """A minimal city in which every route with an id resolves, and one signed-in client per caller."""
    from assessment.models import (
        Assignment,
        BadRatingCase,
        CheckPointFile,
        Participant,
        ParticipantKind,
        Period,
        PeriodState,
        PublicRating,
        Rater,
        RaterGroup,
        ResponseVersion,
        Result,
        StepFile,
        Town,
        Unit,
        UnitKind,
    )
    from assessment.services import access, checkpoints, ledger, network, responses
    from assessment.services.assignments import assign
    from assessment.services.instruments import sync_instruments
    from assessment.services.ledger import ProblemInput
    from assessment.services.ratings.devices import register_device
    from assessment.services.scoring import score_period

    with app.app_context():
        sync_instruments(actor="test")
        town = Town(code="T1", name="龙都街道")
        units = [
            Unit(code=c, name=n, kind=UnitKind.GOVERNMENT, category="政府部门")
            for c, n in (("U01", "市民政局"), ("U02", "市财政局"))
        ]
        from datetime import date

        period = Period(
            name="2026",
            state=PeriodState.OPEN,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
        )
        db.session.add_all([town, period, *units])
        db.session.flush()
        rater = Rater(code="G1", name="张镇干", group=RaterGroup.GRASSROOTS, town_id=town.id)
        informant = Participant(code="I1", name="信息员甲", kind=ParticipantKind.INFORMANT, town_id=town.id)
        linkage = Participant(code="K1", name="市审计局", kind=ParticipantKind.LINKAGE, organisation="审计局")
        db.session.add_all([rater, informant, linkage])
        db.session.flush()
        assign(period, actor="test")
        first = (
            db.session.execute(sa.select(Assignment).filter_by(rater_id=rater.id).order_by(Assignment.id))
            .scalars()
            .first()
        )
        defn = responses.definition(first.instrument)
        answers = {q.id: "4" if defn.scales[q.type].labels else "80" for q in defn.questions}
        responses.save_draft(first, answers)
        responses.submit(first)
        tokens = {
            holder.code: issued.token
            for holder, issued in (
                (i.holder, i) for i in access.issue([rater, informant, linkage], period, actor="test")
            )
        }
        # The supervision network's objects of U01 (the liaison's unit): a problem pushed to it with a
        # rectification report and its evidence file, a check point with evidence, an informant's suggestion.
        problem = ledger.file_problem(period, ProblemInput(unit_id=units[0].id, title="窗口推诿"), actor="test")
        ledger.push(problem, actor="test")
        ledger.report_rectification(problem, "test", note="已整改", files=[_pdf()])
        point = checkpoints.file_check_point(period, units[0], "办结率达标", date(2026, 6, 30), actor="test")
        checkpoints.add_evidence(point, [_pdf()], actor="test")
        suggestion = network.submit_suggestion(
            period, informant, kind="report", unit_id=units[0].id, text="窗口排队过长", file=_pdf()
        )
        db.session.flush()
        net_ids = {
            "problem": problem.id,
            "point": point.id,
            "suggestion": suggestion.id,
            "step_file": db.session.scalar(sa.select(StepFile.id)),
            "point_file": db.session.scalar(sa.select(CheckPointFile.id)),
        }
        _, device_key = register_device("U01", "窗口1", actor="test")
        other_device, _ = register_device("U02", "窗口2", actor="test")
        db.session.commit()
        ids = {"assignment": first.id, "device": other_device.id, **net_ids}

    clients = {}
    for column in COLUMNS:
        clients[column] = app.test_client()
    device = clients["device"]
    device.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {device_key}"
    posted = device.post(
        "/api/v1/ratings", json={"event_id": "e-1", "level": 1, "rated_at": "2026-06-01T10:00:00+08:00"}
    )
    assert posted.status_code == 200, posted.get_json()
    assert posted.get_json()["results"][0]["status"] == "accepted", posted.get_json()
    with app.app_context():
        score_period("2026", actor="test")
        db.session.commit()
        ids["rating"] = db.session.scalar(sa.select(PublicRating.id))
        ids["case"] = db.session.scalar(sa.select(BadRatingCase.id))
        ids["version"] = db.session.scalar(sa.select(Result.version))
        ids["response_version"] = db.session.scalar(sa.select(ResponseVersion.id))
    assert all(ids.values()), ids

    assert clients["rater"].get(f"/r/{tokens['G1']}").status_code == 302
    for column, code in (("informant", "I1"), ("linkage", "K1")):
        assert clients[column].get(f"/r/{tokens[code]}").status_code == 403  # the raters' link is not theirs
        assert clients[column].get(f"/p/{tokens[code]}").status_code == 302  # their own pages
    for column in ("viewer", "operator", "data_admin", "admin", "liaison"):
        role = "unit_liaison" if column == "liaison" else column
        password = make_user(column, role=role, unit_code="U01" if column == "liaison" else None)
        answer = clients[column].post("/office/login", data={"username": column, "password": password})
        assert answer.status_code == 302, column
    return clients, ids


def test_every_cell_holds(world):
    """Does every caller get through exactly the routes its column gives it (403 for office accounts)?"""
    clients, ids = world
    lines = sorted(ROUTES, key=lambda line: RUN_LAST.index(line[2]) + 1 if line[2] in RUN_LAST else 0)
    wrong = []
    for cells, method, endpoint, url, *body in lines:
        url = url.format(**ids)
        body = body[0] if body else {}
        for column, cell in zip(COLUMNS, cells.split(), strict=True):
            client = clients[column]
            if "json" in body:
                response = client.open(url, method=method, json=body["json"])
            else:
                response = client.open(url, method=method, data=body or None)
            refused = response.status_code in (401, 403) if endpoint in SIGN_OUTS else _refused(response)
            status = response.status_code
            response.close()
            if status >= 500:
                wrong.append(f"{method} {url} as {column}: {status}")
            elif refused != (cell == "."):
                wrong.append(f"{method} {url} as {column}: {status}, table says {cell}")
            elif refused and url.startswith("/office") and column in OFFICE_ACCOUNTS and status != 403:
                wrong.append(f"{method} {url} as {column}: refused with {status}, not 403")
    assert not wrong, "\n".join(wrong)
