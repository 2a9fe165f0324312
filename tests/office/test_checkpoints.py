"""Check points (问效点) through the year: filing, the unit's report with evidence, the office's waiver, who may
see what, completion by unit and month, and what the `checkpoints` leaf counts."""

import io
from datetime import date

import pytest

from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointFile, CheckPointStatus, Period
from assessment.models.checkpoints import scored_status
from assessment.services import checkpoints as service
from tests.office.unit_city import PW, make_city

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def city(app, make_user):
    make_city(app, make_user)


def _file(client, auth, user, item="全年完成婚姻登记窗口标准化建设", due="2026-03-31", unit="U01"):
    auth.login(user, PW)
    return client.post("/office/checkpoints/new", data={"period": "2026", "unit": unit, "item": item, "due": due})


def _download(client, url):
    response = client.get(url)
    try:
        return response.status_code, response.data
    finally:
        response.close()


def _point(app, item):
    with app.app_context():
        return db.session.execute(db.select(CheckPoint).filter_by(item=item)).scalar_one().id


def test_liaison_files_an_item_for_its_own_unit_only(app, client, auth, city):
    """Does a liaison's filing always land on its own unit, pending, whatever unit the form names?"""
    response = _file(client, auth, "li1", unit="U02")
    assert response.status_code == 302
    with app.app_context():
        point = db.session.execute(db.select(CheckPoint)).scalar_one()
        assert point.unit.code == "U01" and point.status is CheckPointStatus.PENDING
        assert point.due == date(2026, 3, 31)


@pytest.mark.parametrize(
    "form, message",
    [
        ({"item": "", "due": "2026-03-31"}, "问效事项：必填"),
        ({"item": "某事", "due": "2027-01-05"}, "完成时限：须在评价周期内"),
        ({"item": "某事", "due": "31/03/2026"}, "无法识别"),
        ({"item": "某事", "due": ""}, "完成时限：请填写"),
    ],
)
def test_bad_filings_name_the_field_and_write_nothing(app, client, auth, city, form, message):
    """Is a bad filing refused with a Chinese message naming the field, and nothing stored?"""
    auth.login("op", PW)
    response = client.post("/office/checkpoints/new", data={"period": "2026", "unit": "U01", **form})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(CheckPoint)).first() is None


def test_an_item_cannot_be_filed_twice(app, client, auth, city):
    """Is the same item of the same unit refused the second time?"""
    assert _file(client, auth, "li1").status_code == 302
    again = client.post(
        "/office/checkpoints/new",
        data={"period": "2026", "item": "全年完成婚姻登记窗口标准化建设", "due": "2026-04-30"},
    )
    assert again.status_code == 400 and "已登记过" in again.get_data(as_text=True)


def test_viewer_cannot_file_or_waive(app, client, auth, city):
    """May a viewer look at check points but neither file nor waive?"""
    _file(client, auth, "op")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    auth.login("vw", PW)
    assert client.get("/office/checkpoints").status_code == 200
    assert client.get("/office/checkpoints/new?period=2026").status_code == 403
    assert client.post(f"/office/checkpoints/{point}/waive", data={"reason": "x"}).status_code == 403


def test_report_done_late_with_evidence_and_download(app, client, auth, city):
    """Does a report after the due date make the item late, store the file outside the database, and serve it to
    the unit's liaison and the office only?"""
    _file(client, auth, "li1", due="2026-01-31")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    response = client.post(
        f"/office/checkpoints/{point}/report",
        data={
            "outcome": "done",
            "done_on": "2026-02-10",
            "evidence": "已完成并通过验收",
            "files": (io.BytesIO(PDF), "验收报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(CheckPoint, point)
        assert stored.status is CheckPointStatus.LATE and stored.done_on == date(2026, 2, 10)
        row = db.session.execute(db.select(CheckPointFile)).scalar_one()
        assert row.original_name == "验收报告.pdf" and row.stored_name != row.original_name
        assert service.file_path(row).read_bytes() == PDF
        file_id = row.id
    assert _download(client, f"/office/checkpoints/files/{file_id}") == (200, PDF)
    auth.login("li2", PW)
    assert _download(client, f"/office/checkpoints/files/{file_id}")[0] == 404
    assert client.get(f"/office/checkpoints/{point}").status_code == 404
    auth.login("vw", PW)
    assert _download(client, f"/office/checkpoints/files/{file_id}") == (200, PDF)


def test_report_on_time(app, client, auth, city):
    """Is an item completed by its due date on time?"""
    _file(client, auth, "li1", due="2026-03-31")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    client.post(
        f"/office/checkpoints/{point}/report", data={"outcome": "done", "done_on": "2026-03-31", "evidence": "按期完成"}
    )
    with app.app_context():
        assert db.session.get(CheckPoint, point).status is CheckPointStatus.ON_TIME


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("x.exe", b"MZ\x90\x00", "不接受此类型的文件"),
        ("fake.pdf", b"GIF89a not a pdf", "文件内容与扩展名 .pdf 不符"),
        ("big.pdf", b"%PDF-" + b"0" * 3000, "文件超过 2 KB"),
    ],
)
def test_bad_evidence_is_refused_and_nothing_changes(app, client, auth, city, name, content, message):
    """Is a wrong-type, disguised or too large file refused by name, leaving the item pending and no file stored?"""
    app.config["UPLOAD_MAX_BYTES"] = 2048
    _file(client, auth, "li1")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    response = client.post(
        f"/office/checkpoints/{point}/report",
        data={
            "outcome": "done",
            "done_on": "2026-03-01",
            "evidence": "完成",
            "files": [(io.BytesIO(PDF), "ok.pdf"), (io.BytesIO(content), name)],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "佐证材料：" in response.get_data(as_text=True) and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CheckPoint, point).status is CheckPointStatus.PENDING
        assert db.session.execute(db.select(CheckPointFile)).first() is None
        folder = service.uploads.path_of(service.UPLOAD_AREA, "x").parent
        assert not folder.exists() or not any(folder.iterdir())


def test_report_refuses_a_future_date_and_a_second_report(app, client, auth, city):
    """Are a completion date after today and a second report of a completed item refused by name?"""
    _file(client, auth, "li1")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    future = client.post(
        f"/office/checkpoints/{point}/report", data={"outcome": "done", "done_on": "2999-01-01", "evidence": "x"}
    )
    assert future.status_code == 400 and "完成日期：不能晚于今天" in future.get_data(as_text=True)
    assert (
        client.post(
            f"/office/checkpoints/{point}/report", data={"outcome": "done", "done_on": "2026-03-01", "evidence": "x"}
        ).status_code
        == 302
    )
    again = client.post(f"/office/checkpoints/{point}/report", data={"outcome": "not_done", "evidence": "x"})
    assert again.status_code == 400 and "不能改为" in again.get_data(as_text=True)


def test_liaison_cannot_see_or_report_another_units_items(app, client, auth, city):
    """Does a liaison get nothing of another unit's check points: not the item, not its report, not in lists?"""
    _file(client, auth, "li2", item="档案数字化", unit="U02")
    point = _point(app, "档案数字化")
    auth.login("li1", PW)
    assert client.get(f"/office/checkpoints/{point}").status_code == 404
    assert (
        client.post(f"/office/checkpoints/{point}/report", data={"outcome": "not_done", "evidence": "x"}).status_code
        == 404
    )
    listing = client.get("/office/checkpoints?unit=U02").get_data(as_text=True)
    assert "档案数字化" not in listing and "市档案馆" not in listing
    assert client.post(f"/office/checkpoints/{point}/waive", data={"reason": "x"}).status_code == 403


def test_office_waives_with_a_reason_only(app, client, auth, city):
    """Does a waiver need a reason, and then leave the item out of the leaf?"""
    _file(client, auth, "li1")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    auth.login("op", PW)
    empty = client.post(f"/office/checkpoints/{point}/waive", data={"reason": " "})
    assert empty.status_code == 400 and "免于考核理由：必填" in empty.get_data(as_text=True)
    assert client.post(f"/office/checkpoints/{point}/waive", data={"reason": "上级政策调整"}).status_code == 302
    with app.app_context():
        stored = db.session.get(CheckPoint, point)
        assert stored.status is CheckPointStatus.WAIVED and stored.waive_reason == "上级政策调整"
        assert scored_status(stored.status, stored.due, date(2026, 12, 31)) == "waived"


def test_pending_items_count_as_not_done_once_due(app, city):
    """Does the `checkpoints` leaf see a pending item as not done after its due date and not at all before?"""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "unit": ["U01", "U01", "U01"],
            "due": [date(2026, 3, 1), date(2026, 12, 31), date(2026, 5, 1)],
            "status": [CheckPointStatus.PENDING, CheckPointStatus.PENDING, CheckPointStatus.LATE],
        }
    )
    out = service.scored_frame(frame, date(2026, 6, 30))
    assert out.to_dict("records") == [{"unit": "U01", "status": "not_done"}, {"unit": "U01", "status": "late"}]


def test_scoring_feeds_the_leaf_unchanged(app, city):
    """Does the scored leaf follow scoring.md on stored items (on time 1, late ½, not done 0, waived out)?"""
    from assessment.services.gather import gather_inputs

    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        assert db.session.execute(db.select(CheckPoint.id)).first() is None
        from assessment.models import Unit

        u1 = db.session.execute(db.select(Unit).filter_by(code="U01")).scalar_one()
        for i, status in enumerate(["on_time", "late", "not_done", "waived", "pending"]):
            db.session.add(
                CheckPoint(
                    period_id=period.id,
                    unit_id=u1.id,
                    item=f"事项{i}",
                    due=date(2026, 2, 1),
                    status=CheckPointStatus(status),
                )
            )
        db.session.flush()
        inputs = gather_inputs(period)
        assert sorted(inputs.checkpoints["status"]) == ["late", "not_done", "not_done", "on_time", "waived"]
        import scoring

        leaf = scoring.leaves.checkpoint_scores(inputs.checkpoints)
        assert leaf.loc["U01"].iloc[0] == pytest.approx(100 * 1.5 / 4)


def test_completion_by_unit_and_month(app, client, auth, city):
    """Are completion counts per unit and per month of the due date right, and drawn as a chart?"""
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        from assessment.models import Unit

        u1, u2 = (db.session.execute(db.select(Unit).filter_by(code=c)).scalar_one() for c in ("U01", "U02"))
        rows = [
            (u1, "a", date(2026, 1, 10), "on_time"),
            (u1, "b", date(2026, 1, 20), "pending"),
            (u1, "c", date(2026, 2, 5), "late"),
            (u2, "d", date(2026, 2, 5), "waived"),
            (u2, "e", date(2026, 2, 6), "not_done"),
        ]
        for unit, item, due, status in rows:
            db.session.add(
                CheckPoint(period_id=period.id, unit_id=unit.id, item=item, due=due, status=CheckPointStatus(status))
            )
        db.session.commit()
        done = service.completion(period, today=date(2026, 3, 1))
        assert len(done.months) == 12
        assert (done.total.total, done.total.done, done.total.counted, done.total.overdue) == (5, 2, 4, 1)
        jan, feb = done.by_month[date(2026, 1, 1)], done.by_month[date(2026, 2, 1)]
        assert (jan.done, jan.counted, feb.done, feb.counted) == (1, 2, 1, 2)
        by_unit = {u.code: (t.done, t.counted, t.rate) for u, t, _ in done.by_unit}
        assert by_unit == {"U01": (2, 3, pytest.approx(2 / 3)), "U02": (0, 1, 0.0)}
    auth.login("vw", PW)
    page = client.get("/office/checkpoints?period=2026").get_data(as_text=True)
    assert "<svg" in page and "各单位完成情况" in page and "1/2" in page


def test_checkpoints_import_still_works(app, runner, city, tmp_path):
    """Does the `checkpoints` import still load outcomes with their due dates, refusing `pending` as interfaces.md
    lists only the four outcomes?"""
    path = tmp_path / "cp.csv"
    path.write_text(
        "unit_code,item,due,status\nU01,甲,2026-05-01,on_time\nU02,乙,2026-06-01,pending\n", encoding="utf-8"
    )
    refused = runner.invoke(args=["import", "checkpoints", str(path), "--period", "2026"])
    assert refused.exit_code != 0 and "'pending' is not one of: on_time / late / not_done / waived" in refused.output
    path.write_text(
        "unit_code,item,due,status\nU01,甲,2026-05-01,on_time\nU02,乙,2026-06-01,waived\n", encoding="utf-8"
    )
    result = runner.invoke(args=["import", "checkpoints", str(path), "--period", "2026"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = dict(db.session.execute(db.select(CheckPoint.item, CheckPoint.status)).all())
        assert statuses == {"甲": CheckPointStatus.ON_TIME, "乙": CheckPointStatus.WAIVED}


def test_published_period_freezes_check_points(app, client, auth, city):
    """Is a check point of a published period no longer reported or waived?"""
    _file(client, auth, "li1")
    point = _point(app, "全年完成婚姻登记窗口标准化建设")
    with app.app_context():
        from assessment.models import PeriodState

        db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one().state = PeriodState.PUBLISHED
        db.session.commit()
    response = client.post(f"/office/checkpoints/{point}/report", data={"outcome": "not_done", "evidence": "x"})
    assert response.status_code == 400 and "已发布" in response.get_data(as_text=True)


def test_a_duplicate_filing_racing_the_first_is_refused_not_a_500(app, city):
    """When a second session files the same item for the unit while the first has written but not committed,
    is the second refused with the Chinese message (not an IntegrityError), one item kept?"""
    import threading

    from assessment.models import Unit

    filed = threading.Event()

    def first():
        with app.app_context():
            period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
            unit = db.session.execute(db.select(Unit).filter_by(code="U01")).scalar_one()
            service.file_check_point(period, unit, "双击事项", date(2026, 3, 31), "a")
            filed.set()
            threading.Event().wait(0.5)  # the second has passed its check and waits on the write lock
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    assert filed.wait(timeout=30)
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        unit = db.session.execute(db.select(Unit).filter_by(code="U01")).scalar_one()
        with pytest.raises(service.CheckPointError, match="本单位已登记过“双击事项”"):
            service.file_check_point(period, unit, "双击事项", date(2026, 3, 31), "b")
        db.session.rollback()
    thread.join(timeout=60)
    with app.app_context():
        assert len(db.session.execute(db.select(CheckPoint).filter_by(item="双击事项")).all()) == 1


def test_a_waiver_from_a_stale_read_is_refused(app, city):
    """When the unit reported the item done after the office's page read it, is the waiver refused and the
    report kept, not overwritten?"""
    from sqlalchemy import text

    from assessment.models import Unit

    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        unit = db.session.execute(db.select(Unit).filter_by(code="U01")).scalar_one()
        point = service.file_check_point(period, unit, "过期读取", date(2026, 3, 31), "li1")
        db.session.commit()
        stale = db.session.get(CheckPoint, point.id)
        assert stale.status is CheckPointStatus.PENDING
        with db.engine.begin() as other:  # the liaison's report, committed after this page read the item
            other.execute(
                text("UPDATE check_points SET status = 'on_time', version = version + 1 WHERE id = :id"),
                {"id": point.id},
            )
        with pytest.raises(service.CheckPointError) as refused:
            service.waive(stale, "不再考核", "op")
        assert refused.value.message_zh == service.STALE_ZH
        db.session.rollback()
        kept = db.session.get(CheckPoint, point.id)
        assert kept.status is CheckPointStatus.ON_TIME and kept.waive_reason is None


@pytest.mark.parametrize(
    "status, on_due_day, day_after",
    [
        ("pending", ("", False), ("closed", True)),
        ("on_time", ("published", False), ("published", False)),
        ("late", ("published", False), ("published", False)),
        ("not_done", ("closed", False), ("closed", False)),
        ("waived", ("", False), ("", False)),
    ],
)
def test_badge_follows_the_scored_status(status, on_due_day, day_after):
    """Is an item's badge the colour of what the engine counts, and overdue only when pending past its due?"""
    from assessment.templating import checkpoint_badge, checkpoint_overdue

    point = CheckPoint(item="x", due=date(2026, 6, 30), status=CheckPointStatus(status))
    for today, expected in ((date(2026, 6, 30), on_due_day), (date(2026, 7, 1), day_after)):
        assert (checkpoint_badge(point, today), checkpoint_overdue(point, today)) == expected
