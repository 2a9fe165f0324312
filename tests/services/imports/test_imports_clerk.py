"""Files as a clerk fills them (issue 12 item 7): Chinese labels for codes, phone numbers, unit categories."""

import pytest
from sqlalchemy import select

from assessment import labels
from assessment.extensions import db
from assessment.models import (
    Channel,
    CheckPointStatus,
    ProblemSource,
    Rater,
    RaterGroup,
    Severity,
    Unit,
    UnitKind,
)
from assessment.services.imports.cells import choice_words, is_phone
from tests.services.imports.helpers import count, failed, imported, write_csv

CHOICE_ENUMS = (UnitKind, RaterGroup, Channel, CheckPointStatus, ProblemSource, Severity)


@pytest.mark.parametrize("enum_cls", CHOICE_ENUMS, ids=lambda e: e.__name__)
def test_every_label_the_console_shows_names_its_code(enum_cls):
    """Does every choice column accept each code and the Chinese label the console shows for it?"""
    words = choice_words(enum_cls)
    for member in enum_cls:
        assert words[member.value] is member
        assert words[member.label] is member


@pytest.mark.parametrize("enum_cls", CHOICE_ENUMS, ids=lambda e: e.__name__)
def test_no_synonym_is_another_codes_label(enum_cls):
    """Does no extra synonym in labels.IMPORT_SYNONYMS_ZH shadow another member's label or code?"""
    own = {m.label: m for m in enum_cls} | {m.value: m for m in enum_cls}
    for member in enum_cls:
        for word in labels.IMPORT_SYNONYMS_ZH.get(member.value, ()):
            assert own.get(word, member) is member, (word, member)


def test_units_and_raters_with_chinese_labels(city, tmp_path):
    """Do 政府部门 / 党委部门 / 事业单位 and 镇街干部 / 市级领导 import as their codes?"""
    imported(
        "units",
        tmp_path,
        [
            "code,name,kind,category",
            "U10,市民政局,政府部门,政府部门",
            "U11,市委宣传部,党委部门,党委部门",
            "U12,市档案馆,事业单位,事业单位",
            "U13,市商务局,GOVERNMENT,政府部门",
        ],
    )
    kinds = dict(db.session.execute(select(Unit.code, Unit.kind).where(Unit.code.like("U1%"))).all())
    assert kinds == {
        "U10": UnitKind.GOVERNMENT,
        "U11": UnitKind.PARTY,
        "U12": UnitKind.INSTITUTION,
        "U13": UnitKind.GOVERNMENT,
    }
    imported("raters", tmp_path, ["code,name,group,town_code", "G7,赵六,镇街干部,T01", "L7,钱七,市级领导,"])
    query = select(Rater.code, Rater.group).where(Rater.code.in_(["G7", "L7"]))
    groups = dict(db.session.execute(query).all())
    assert groups == {"G7": RaterGroup.GRASSROOTS, "L7": RaterGroup.LEADER}


def test_ratings_and_problems_with_chinese_labels(city, tmp_path):
    """Do 窗口评价器 / 窗口 / 12345热线, 是 / 否, 一般 / 严重 and 日常监管 import as their codes?"""
    from assessment.models import Problem, PublicRating

    imported(
        "ratings",
        tmp_path,
        [
            "event_id,unit_code,level,channel,rated_at,is_default",
            "E1,U01,5,窗口评价器,2026-03-01T09:30:00+08:00,否",
            "E2,U01,4,窗口,2026-03-01T09:31:00+08:00,是",
            "E3,U01,4,12345热线,2026-03-01T09:32:00+08:00,",
        ],
    )
    rows = db.session.execute(
        select(PublicRating.event_id, PublicRating.channel, PublicRating.is_default).order_by(PublicRating.event_id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("E1", Channel.WINDOW, False),
        ("E2", Channel.WINDOW, True),
        ("E3", Channel.HOTLINE, False),
    ]
    imported(
        "problems",
        tmp_path,
        [
            "unit_code,title,source,severity,found_on,deadline",
            "U01,窗口排队时间长,日常监管,一般,2026-03-01,2026-04-01",
            "U01,办事指南未更新,信访,严重,2026-03-02,2026-04-01",
        ],
    )
    query = select(Problem.title, Problem.source, Problem.severity).order_by(Problem.id)
    found = db.session.execute(query).all()
    assert [tuple(r) for r in found] == [
        ("窗口排队时间长", ProblemSource.SUPERVISION, Severity.GENERAL),
        ("办事指南未更新", ProblemSource.PETITION, Severity.GRAVE),
    ]


def test_an_unknown_label_is_still_an_error(city, tmp_path):
    """Is a word that is neither a code nor a label still a row error naming the allowed codes?"""
    assert failed("units", tmp_path, ["code,name,kind,category", "U10,市民政局,政府机关,政府部门"]) == [
        "line 2, column kind: '政府机关' is not one of: party / government / institution"
    ]
    assert failed(
        "ratings",
        tmp_path,
        ["event_id,unit_code,level,channel,rated_at,is_default", "E1,U01,5,window,2026-03-01T09:30:00,对"],
    ) == ["line 2, column is_default: '对' is not 0 or 1"]


# --- phone numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13800000000",
        "138 0000 0000",
        "138-0000-0000",
        "+86 138 0000 0000",
        "0536-1234567",
        "010-12345678",
        "(0536)1234567",
        "（0536）12345678",
        "0536 1234567",
    ],
)
def test_phone_numbers_accepted(text):
    """Are mobile numbers and landlines with their area code accepted, with separators?"""
    assert is_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "1234567",
        "12800000000",
        "1380000000",
        "138000000000",
        "5361234567",
        "0536-123456",
        "电话13800000000",
        "13800000000转1",
        "n/a",
    ],
)
def test_phone_numbers_refused(text):
    """Are short, long, prefix-less or lettered numbers refused?"""
    assert not is_phone(text)


def test_raters_with_a_bad_phone_are_row_errors(city, tmp_path):
    """Is a phone that is not a number a row error on its line, and are good ones stored as written?"""
    header = "code,name,group,town_code,unit_code,phone"
    assert failed(
        "raters",
        tmp_path,
        [
            header,
            "G2,赵六,grassroots,T02,,13800000000",
            "G3,钱七,grassroots,T02,,1380000",
            "E1,孙八,expert,,,无",
        ],
    ) == [
        "line 3, column phone: '1380000' is not a phone number (a mobile number 1xxxxxxxxxx or a landline "
        "with its area code, e.g. 0536-1234567)",
        "line 4, column phone: '无' is not a phone number (a mobile number 1xxxxxxxxxx or a landline "
        "with its area code, e.g. 0536-1234567)",
    ]
    good = [header, "G2,赵六,grassroots,T02,,138 0000 0000", "E1,孙八,expert,,,0536-1234567"]
    imported("raters", tmp_path, good)
    query = select(Rater.code, Rater.phone).where(Rater.code.in_(["G2", "E1"]))
    phones = dict(db.session.execute(query).all())
    assert phones == {"G2": "138 0000 0000", "E1": "0536-1234567"}


# --- unit categories ----------------------------------------------------------------------------------------


def test_an_unknown_category_is_a_row_error_listing_the_known_ones(city, tmp_path):
    """Is a mistyped category a row error listing the known categories, with nothing written?"""
    from assessment.services.imports import ImportFailed, run_import

    lines = ["code,name,kind,category", "U10,市民政局,government,政府部门", "U11,市商务局,government,政府部们"]
    assert failed("units", tmp_path, lines) == [
        "line 3, column category: unknown category '政府部们' (did you mean '政府部门'?); "
        "known: 事业单位, 党委部门, 政府部门; if it is a new category, import again with --new-categories"
    ]
    with pytest.raises(ImportFailed) as info:
        run_import("units", write_csv(tmp_path, lines), "2026")
    db.session.rollback()
    assert info.value.errors[0].chinese() == (
        "第3行，“category”列：分类“政府部们”不存在，是否应为“政府部门”？（已有：事业单位、党委部门、政府部门）；"
        "如确为新增分类，请勾选“允许新增分类”后重新导入"
    )


def test_new_categories_when_allowed_or_when_none_is_known_yet(ctx, tmp_path):
    """Does the first units file define the categories, and a later new one need new_categories?"""
    first = imported("units", tmp_path, ["code,name,kind,category", "U01,市民政局,government,政府部门"])
    assert first.counts["new_categories"] == ["政府部门"] and "New categories: 政府部门." in first.summary()
    lines = ["code,name,kind,category", "U02,市医保局,government,民生保障", "U03,市人社局,government,民生保障"]
    assert failed("units", tmp_path, lines) == [
        f"line {n}, column category: unknown category '民生保障'; known: 政府部门; "
        "if it is a new category, import again with --new-categories"
        for n in (2, 3)
    ]
    report = imported("units", tmp_path, lines, options={"new_categories": True})
    assert report.counts["new_categories"] == ["民生保障"] and "新增分类：民生保障。" in report.summary_zh()
    assert count(Unit) == 3
    again = imported("units", tmp_path, lines)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2}


def test_cli_new_categories_option(app, runner, tmp_path):
    """Does `assessment import units` refuse an unknown category in English, and take --new-categories?"""
    first = write_csv(tmp_path, ["code,name,kind,category", "U01,市民政局,政府部门,政府部门"], name="a.csv")
    assert runner.invoke(args=["import", "units", str(first), "--period", "2026"]).exit_code == 0
    path = write_csv(tmp_path, ["code,name,kind,category", "U02,市医保局,government,民生保障"], name="b.csv")
    result = runner.invoke(args=["import", "units", str(path), "--period", "2026"])
    assert result.exit_code == 1
    assert "line 2, column category: unknown category '民生保障'; known: 政府部门;" in result.output
    result = runner.invoke(args=["import", "units", str(path), "--period", "2026", "--new-categories"])
    assert result.exit_code == 0, result.output
    assert "New categories: 民生保障." in result.output
    with app.app_context():
        assert db.session.execute(select(Unit.category).filter_by(code="U02")).scalar_one() == "民生保障"


def test_cli_bad_phone_in_english(app, runner, tmp_path):
    """Does the command line name the line and column of a bad phone number, in English?"""
    path = write_csv(tmp_path, ["code,name,group,phone", "L1,王五,市级领导,12345"])
    result = runner.invoke(args=["import", "raters", str(path), "--period", "2026"])
    assert result.exit_code == 1
    assert "line 2, column phone: '12345' is not a phone number" in result.output
