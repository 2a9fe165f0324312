"""The console's import page for the clerk: templates with their notes, reference lists, Chinese labels
accepted, and Chinese row errors naming line and column (unknown category, bad phone)."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Rater, RaterGroup, Town, Unit, UnitKind


def _seed(app):
    with app.app_context():
        db.session.add_all(
            [
                Unit(code="U01", name="市民政局", kind=UnitKind.GOVERNMENT, category="政府部门"),
                Unit(code="U02", name="市委组织部", kind=UnitKind.PARTY, category="党委部门"),
                Town(code="T01", name="密州街道"),
            ]
        )
        db.session.commit()


def _upload(client, kind, body, name=None, **extra):
    data = {
        "kind": kind,
        "period": "2026",
        "code_system": "standard",
        "file": (io.BytesIO(body), name or f"{kind}.csv"),
        **extra,
    }
    return client.post("/office/imports", data=data, content_type="multipart/form-data")


def test_page_explains_templates_and_offers_notes_and_reference_lists(login_as):
    """Does the page explain the template design and link every template, note and reference list?"""
    client = login_as("operator")
    page = client.get("/office/imports").get_data(as_text=True)
    assert "示例行原样保留时自动跳过" in page and "CSV 模板</strong>只有表头行" in page
    assert "允许新增分类" in page and "government（政府部门）" in page
    for kind in ("units", "raters", "ratings", "institution_scores"):
        assert f'href="/office/imports/guide/{kind}.csv"' in page
        assert f'href="/office/imports/template/{kind}.xlsx"' in page
    for name in ("towns", "units", "categories", "instruments"):
        for fmt in ("csv", "xlsx"):
            assert f'href="/office/imports/reference/{name}.{fmt}"' in page


def test_downloads_templates_notes_and_reference_lists(app, login_as):
    """Do the template, 填写说明 and reference downloads answer files a viewer may fetch, CSV with a BOM?"""
    _seed(app)
    client = login_as("viewer")
    xlsx = client.get("/office/imports/template/raters.xlsx")
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.data)).sheetnames == ["raters", "填写说明"]
    guide = client.get("/office/imports/guide/raters.csv")
    assert guide.status_code == 200 and guide.data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''raters_" in guide.headers["Content-Disposition"]
    assert "phone" in guide.data.decode("utf-8-sig") and "0536-1234567" in guide.data.decode("utf-8-sig")
    units = client.get("/office/imports/reference/units.csv")
    assert units.status_code == 200 and units.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(units.data.decode("utf-8-sig"))))
    assert ["U01", "市民政局", "government", "政府部门", "政府部门", "在用"] in rows
    categories = client.get("/office/imports/reference/categories.xlsx")
    sheet = load_workbook(io.BytesIO(categories.data)).worksheets[0]
    assert [c.value for c in sheet["A"]] == ["分类（category）", "党委部门", "政府部门"]
    assert client.get("/office/imports/reference/people.csv").status_code == 404
    assert client.get("/office/imports/guide/people.csv").status_code == 404


def test_the_unchanged_xlsx_template_uploads_as_nothing(app, login_as):
    """Does uploading the XLSX template as downloaded import nothing and say the example row was skipped?"""
    _seed(app)
    client = login_as("operator")
    template = client.get("/office/imports/template/towns.xlsx").data
    response = _upload(client, "towns", template, "towns.xlsx")
    assert response.status_code == 302
    page = client.get("/office/imports").get_data(as_text=True)
    assert "已导入镇街0条" in page and "模板示例行（第2行）未改动，已跳过" in page


def test_chinese_labels_upload(app, login_as):
    """Are 事业单位 and 镇街干部 accepted for the codes in a console upload?"""
    _seed(app)
    client = login_as("operator")
    body = "code,name,kind,category\nU03,市档案馆,事业单位,政府部门\n".encode()
    assert _upload(client, "units", body).status_code == 302
    body = "code,name,group,town_code,phone\nG1,张晓红,镇街干部,T01,138 0000 0001\n".encode()
    assert _upload(client, "raters", body).status_code == 302
    with app.app_context():
        kind = db.session.execute(select(Unit.kind).filter_by(code="U03")).scalar_one()
        assert kind is UnitKind.INSTITUTION
        rater = db.session.execute(select(Rater).filter_by(code="G1")).scalar_one()
        assert rater.group is RaterGroup.GRASSROOTS and rater.phone == "138 0000 0001"


def test_unknown_category_is_a_chinese_row_error_until_allowed(app, login_as):
    """Is a new category refused in Chinese naming line and column, and taken with the checkbox?"""
    _seed(app)
    client = login_as("operator")
    body = "code,name,kind,category\nU03,市医保局,政府部门,民生保障\n".encode()
    response = _upload(client, "units", body)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未写入任何数据" in page
    assert '<td class="num">2</td><td>category</td><td>民生保障</td>' in page
    assert "分类“民生保障”不存在（已有：党委部门、政府部门）" in page
    response = _upload(client, "units", body, new_categories="y")
    assert response.status_code == 302
    assert "新增分类：民生保障" in client.get("/office/imports").get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Unit.category).filter_by(code="U03")).scalar_one() == "民生保障"


def test_bad_phone_is_a_chinese_row_error(app, login_as):
    """Is a phone that is not one a Chinese row error naming line and column, with nothing written?"""
    _seed(app)
    client = login_as("operator")
    body = "code,name,group,town_code,phone\nG1,张晓红,镇街干部,T01,13800000001\n"
    body += "G2,李建国,镇街干部,T01,8888\n"
    response = _upload(client, "raters", body.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<td class="num">3</td><td>phone</td><td>8888</td>' in page
    assert "“8888”不是有效的电话号码" in page
    with app.app_context():
        assert db.session.scalar(select(Rater.id).limit(1)) is None
