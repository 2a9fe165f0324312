"""Imports of paper questionnaires: one response per rater, instrument and unit, versioned on change."""

from datetime import date

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import (
    Assignment,
    AssignmentState,
    Instrument,
    Period,
    Rater,
    Response,
    ResponseSource,
    ResponseVersion,
    Unit,
    UnitKind,
)
from tests.services.imports.helpers import count, failed, imported, snapshot

RESPONSES_OK = [
    "rater_code,instrument,unit_code,question,answer",
    "G1,grassroots,U01,g01,5",
    "G1,grassroots,U01,g02,87.5",
    "G1,grassroots,U01,g03,4",
    "G1,grassroots,U01,g04,3",
    "G1,grassroots,U02,g01,na",
    "G1,grassroots,U02,g02,60",
    "G1,grassroots,U02,g03,na",
    "G1,grassroots,U02,g04,2",
    "D1,peer,U02,p01,4",
    "D1,self,U01,s01,3",
]


def answers_of(rater_code, instrument_key, unit_code):
    """The latest submitted answers of one response, and its version number."""
    response = db.session.execute(
        select(Response)
        .join(Assignment)
        .join(Rater)
        .join(Instrument)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Rater.code == rater_code, Instrument.key == instrument_key, Unit.code == unit_code)
    ).scalar_one()
    version = response.versions[-1]
    return response.current_version, {a.question: a.value for a in version.answers}, version, response


def test_responses_good_and_reimport(city, tmp_path):
    """Does each rater/instrument/unit become one submitted response, and a re-import change nothing?"""
    report = imported("responses", tmp_path, RESPONSES_OK)
    assert report.counts == {"responses": 4, "created": 4, "updated": 0, "unchanged": 0}
    assert report.summary() == "Imported 10 answers (4 responses) into 2026: 4 new, 0 updated, 0 unchanged."
    current, answers, version, response = answers_of("G1", "grassroots", "U02")
    assert current == 1 and answers == {"g01": None, "g02": 60.0, "g03": None, "g04": 2.0}
    assert version.source is ResponseSource.IMPORT and version.recorded_by == "tester"
    assert version.reason == "import data.csv"
    assert response.assignment.state is AssignmentState.SUBMITTED
    before = snapshot()
    again = imported("responses", tmp_path, RESPONSES_OK)
    assert again.counts == {"responses": 4, "created": 0, "updated": 0, "unchanged": 4}
    assert snapshot() == before


def test_responses_changed_answers_make_a_new_version(city, tmp_path):
    """Does a changed answer add version 2 to that response only, keeping version 1?"""
    imported("responses", tmp_path, RESPONSES_OK)
    changed = list(RESPONSES_OK)
    changed[1] = "G1,grassroots,U01,g01,4"
    report = imported("responses", tmp_path, changed)
    assert report.counts == {"responses": 4, "created": 0, "updated": 1, "unchanged": 3}
    current, answers, _version, response = answers_of("G1", "grassroots", "U01")
    assert current == 2 and answers == {"g01": 4.0, "g02": 87.5, "g03": 4.0, "g04": 3.0}
    assert [len(v.answers) for v in response.versions] == [4, 4]
    assert count(ResponseVersion) == 5


def test_responses_existing_assignment_is_used(city, tmp_path):
    """Does an import submit into an assignment the office already made?"""
    period = Period(name="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), as_of=date(2026, 12, 31))
    db.session.add(period)
    db.session.flush()
    ids = {r.code: r.id for r in db.session.execute(select(Rater)).scalars()}
    units = {u.code: u.id for u in db.session.execute(select(Unit)).scalars()}
    peer = db.session.execute(select(Instrument).filter_by(key="peer")).scalar_one()
    db.session.add(Assignment(period_id=period.id, rater_id=ids["D1"], unit_id=units["U02"], instrument_id=peer.id))
    db.session.commit()
    imported("responses", tmp_path, RESPONSES_OK)
    assert count(Assignment) == 4
    assert answers_of("D1", "peer", "U02")[3].assignment.state is AssignmentState.SUBMITTED


def test_responses_peer_and_self_rules(city, tmp_path):
    """Are a department rating itself in peer review, self review of another unit, a wrong group refused?"""
    assert failed(
        "responses",
        tmp_path,
        [
            "rater_code,instrument,unit_code,question,answer",
            "D1,peer,U01,p01,4",
            "D1,self,U02,s01,4",
            "G1,peer,U02,p01,4",
            "L1,self,U01,s01,4",
        ],
    ) == [
        ("line 2, column unit_code: rater D1 belongs to unit 'U01': a department does not rate itself in peer review"),
        "line 3, column unit_code: self review is only about the rater's own unit (U01), not 'U02'",
        ("line 4, column instrument: instrument 'peer' is for department raters; rater G1 is in group grassroots"),
        "line 5, column instrument: instrument 'self' is for department raters; rater L1 is in group leader",
    ]


def test_responses_bad_answers(city, tmp_path):
    """Are unknown codes and questions, bad answers, repeats and missing questions all reported?"""
    assert failed(
        "responses",
        tmp_path,
        [
            "rater_code,instrument,unit_code,question,answer",
            "G1,grassroots,U01,g01,6",
            "G1,grassroots,U01,g02,101",
            "G1,grassroots,U01,g09,5",
            "G1,grassroots,U01,g01,4",
            "X9,grassroots,U01,g01,4",
            "G1,survey,U01,g01,4",
            "D1,self,U01,s01,na",
            "G1,grassroots,U02,g01,",
            "G1,grassroots,U03,g01,5",
            "G1,grassroots,U01,g03,5",
            "G1,grassroots,U01,g04,5",
        ],
    ) == [
        "line 2, column answer: '6' is not a likert5 answer (1-5, or na)",
        "line 3, column answer: '101' is not a score100 answer (0-100, or na)",
        "line 4, column question: instrument 'grassroots' has no question 'g09'",
        ("line 5, column question: question 'g01' is answered twice by rater G1 for this unit (first on line 2)"),
        "line 6, column rater_code: unknown rater code 'X9'",
        "line 7, column instrument: unknown instrument 'survey' (known: grassroots, peer, self)",
        "line 8, column answer: instrument 'self' has no don't-know option",
        "line 9, column answer: a value is required (write na for don't know)",
        (
            "line 9, column question: the response of rater G1 about unit U02 (grassroots) has no answer to "
            "g02, g03, g04; every question needs a row (na for don't know)"
        ),
        (
            "line 10, column question: the response of rater G1 about unit U03 (grassroots) has no answer to "
            "g02, g03, g04; every question needs a row (na for don't know)"
        ),
    ]


def test_responses_without_instruments_say_run_init_db(ctx, tmp_path):
    """Without stored instruments, does the error tell the office to run init-db?"""
    db.session.add(Unit(code="U01", name="a", kind=UnitKind.PARTY, category="c"))
    db.session.commit()
    errors = failed("responses", tmp_path, ["rater_code,instrument,unit_code,question,answer", "G1,peer,U01,p01,4"])
    assert any("assessment init-db" in e for e in errors)
