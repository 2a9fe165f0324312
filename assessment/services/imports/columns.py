"""What each import file looks like: the kinds, their Chinese names and their columns (the templates and their
填写说明 are in ``guide``)."""

#: kind -> (required columns, optional columns), exactly as interfaces.md lists them.
COLUMNS = {
    "units": (
        ["code", "name", "kind", "category"],
        ["establishment", "actual_staff", "leader_posts", "leaders_in_post"],
    ),
    "towns": (["code", "name"], []),
    "raters": (["code", "name", "group"], ["town_code", "unit_code", "phone"]),
    "responses": (["rater_code", "instrument", "unit_code", "question", "answer"], []),
    "ratings": (
        ["event_id", "unit_code", "level", "channel", "rated_at"],
        ["is_default", "case_no", "window", "service_item", "staff_code"],
    ),
    "checkpoints": (["unit_code", "item", "due", "status"], []),
    "problems": (
        ["unit_code", "title", "source", "severity", "found_on", "deadline"],
        ["closed_on", "category", "responsible", "class"],
    ),
    "bonuses": (["unit_code", "reason", "points"], []),
    "institution_scores": (["unit_code", "score"], []),
}

KINDS = tuple(COLUMNS)

KIND_LABELS = {
    "units": "被评价单位",
    "towns": "镇街",
    "raters": "评价人",
    "responses": "纸质问卷答案",
    "ratings": "好差评记录",
    "checkpoints": "问效点",
    "problems": "问题台账",
    "bonuses": "加分项",
    "institution_scores": "事业单位绩效考核得分",
}
