"""The scheme editor (console form, YAML, versions with their changes) and `assessment scheme show|set`."""

import io
from datetime import date

import pytest
import sqlalchemy as sa

import scoring
from assessment.extensions import db
from assessment.models import Period, PeriodState, Scheme


@pytest.fixture
def period(app):
    with app.app_context():
        db.session.add(
            Period(
                name="2026",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                as_of=date(2026, 12, 31),
                state=PeriodState.OPEN,
            )
        )
        db.session.commit()
    return "2026"


def _count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Scheme))


def _form(page_weights=None, **settings):
    """The editor's form as the default scheme fills it, with some fields changed."""
    data = {
        "editor": "form",
        "note": "",
        "leaves[0].weight": "25",
        "leaves[1].weight": "10",
        "min_n.grassroots": "5",
        "public.m": "30",
        "trimming.method": "one_each",
    }
    data.update(page_weights or {})
    data.update(settings)
    return data


def test_cli_scheme_show_and_set(runner, app, period, tmp_path):
    """Does `scheme set` store a valid file as a new version that `scheme show` then prints?"""
    shown = runner.invoke(args=["scheme", "show", "--period", period])
    assert shown.exit_code == 0 and shown.output == scoring.default_scheme_text()
    changed = scoring.default_scheme_text().replace("m: 30", "m: 45")
    path = tmp_path / "scheme.yaml"
    path.write_text(changed, encoding="utf-8")
    result = runner.invoke(args=["scheme", "set", "--period", period, str(path)])
    assert result.exit_code == 0, result.output
    assert "Stored scheme version 2" in result.output  # version 1: the default it started from
    assert runner.invoke(args=["scheme", "show", "--period", period]).output == changed
    again = runner.invoke(args=["scheme", "set", "--period", period, str(path)])
    assert "unchanged" in again.output and _count(app) == 2


def test_cli_scheme_set_stores_nothing_and_prints_every_error_with_its_path(runner, app, period, tmp_path):
    """Does an invalid file store nothing, exit non-zero and print each problem with its path?"""
    bad = (
        scoring.default_scheme_text()
        .replace("weight: 25", "weight: 20")
        .replace("m: 30", "m: -1")
        .replace("method: one_each", "method: both")
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["scheme", "set", "--period", period, str(path)])
    assert result.exit_code == 1
    for expected in (
        "- public.m: must not be negative",
        "- trimming.method: unknown value 'both'",
        "- positive weights add up to 95, expected 100",
        "各项指标的权重合计为 95，应为 100",
    ):
        assert expected in result.output
    assert _count(app) == 0


def test_cli_scheme_needs_an_existing_period(runner, period):
    """Does `scheme show` for a period that does not exist fail with a clear message?"""
    result = runner.invoke(args=["scheme", "show", "--period", "2099"])
    assert result.exit_code != 0 and "2099" in result.output and "does not exist" in result.output


def test_form_shows_the_tree_and_names_the_field_in_chinese(client, auth, make_user, app, period):
    """Does the form show level 1 / level 2 / leaf with weights, and refuse bad values naming the field?"""
    make_user("office", role="operator")
    auth.login()
    page = client.get("/office/periods/2026/scheme").get_data(as_text=True)
    for text in (
        "核心业务",
        "基层评作为",
        "乡呼县应、上下联动",
        'name="leaves[0].weight" value="25"',
        "最低样本量（镇街评议）",
        "群众评服务平滑参数 m",
        "去掉一个最高分和一个最低分",
        "100",
    ):
        assert text in page
    page = client.post(
        "/office/periods/2026/scheme", data=_form({"leaves[0].weight": "20"}, **{"min_n.grassroots": "五"})
    ).get_data(as_text=True)
    assert "各项指标的权重合计为 95，应为 100" in page
    assert "最低样本量（镇街评议）必须是整数" in page
    assert 'class="invalid" type="text" inputmode="decimal" id="min_n.grassroots"' in page  # marked in place
    assert _count(app) == 0
    low = client.post("/office/periods/2026/scheme", data=_form(**{"min_n.grassroots": "2"})).get_data(as_text=True)
    assert "最低样本量（镇街评议）不能低于 5" in low and _count(app) == 0


def test_form_saves_a_new_version_and_shows_what_changed(client, auth, make_user, app, period):
    """Does a valid form make a new version, and the page list the changed settings against the previous one?"""
    make_user("office", role="operator")
    auth.login()
    same = client.post("/office/periods/2026/scheme", data=_form(), follow_redirects=True).get_data(as_text=True)
    assert "没有修改任何设置" in same and _count(app) == 0
    page = client.post(
        "/office/periods/2026/scheme",
        data=_form(
            {"leaves[0].weight": "20", "leaves[1].weight": "15"}, **{"public.m": "60", "note": "提高专家评价权重"}
        ),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "评分方案已保存为第 2 版" in page
    assert "第 2 版与第 1 版相比的改动" in page
    assert "第 1 项指标「问效点落实」的权重" in page and "第 2 项指标「专家评价」的权重" in page
    assert "群众评服务平滑参数 m" in page and "提高专家评价权重" in page
    with app.app_context():
        text = db.session.scalars(sa.select(Scheme).order_by(Scheme.version.desc())).first().text
    parsed = scoring.load_scheme(text)
    assert parsed.leaf("checkpoints").weight == 20 and parsed.public.m == 60
    old = client.get("/office/periods/2026/scheme?version=1").get_data(as_text=True)
    assert "历史版本" in old and "校验并保存为新版本" not in old


def test_yaml_download_and_upload(client, auth, make_user, app, period):
    """Can the office download the scheme as YAML and upload an edited file as the next version?"""
    make_user("office", role="operator")
    auth.login()
    download = client.get("/office/periods/2026/scheme.yaml")
    assert download.status_code == 200 and download.get_data(as_text=True) == scoring.default_scheme_text()
    edited = download.get_data(as_text=True).replace("bonus_cap: 3", "bonus_cap: 2")
    page = client.post(
        "/office/periods/2026/scheme",
        content_type="multipart/form-data",
        data={"text": "x", "note": "上传", "yaml_file": (io.BytesIO(("\ufeff" + edited).encode()), "s.yaml")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已保存为第 2 版" in page
    assert client.get("/office/periods/2026/scheme.yaml").get_data(as_text=True) == edited
    assert client.get("/office/periods/2026/scheme.yaml?version=9").status_code == 404


def test_a_viewer_cannot_save(client, auth, make_user, app, period):
    """Is a viewer refused when posting the form?"""
    make_user("office", role="viewer")
    auth.login()
    assert client.post("/office/periods/2026/scheme", data=_form({"leaves[0].weight": "20"})).status_code == 403
    assert _count(app) == 0


def test_changes_mark_each_diff_line_and_the_form_marks_deduction_leaves():
    """Does the YAML diff come with each line's kind (added, removed, neither), and does the form's leaf tree say
    which leaves are deductions (no weight field), so the template decides neither?"""
    import yaml

    import scoring
    from assessment.office import scheme_editor

    text = scoring.default_scheme_text()
    _, lines = scheme_editor.changes(text, text.replace("bonus_cap: 3", "bonus_cap: 2", 1))
    kinds = {line: kind for line, kind in lines}
    assert kinds["-bonus_cap: 3"] == "del" and kinds["+bonus_cap: 2"] == "add"
    assert kinds["--- 上一版"] == kinds["+++ 本版"] == ""
    tree, _ = scheme_editor.form_fields(yaml.safe_load(text))
    marked = {leaf["id"]: deduction for _, groups in tree for _, leaves in groups for _, leaf, _, deduction in leaves}
    assert marked["problems"] and marked["overdue"] and not marked["public"] and not marked["leader"]
