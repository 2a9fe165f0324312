"""The Chinese labels of every code the platform shows people: one place, used by pages, reports and exports.

Keys are the codes as stored and exported (an enum's ``value``, a grade or action code of the engine), so this
module imports nothing and anything may import it: the models' ``label`` properties, the services, the templates
(as the ``label`` Jinja filter / the ``labels`` global) and the exports.
"""

# ---------------------------------------------------------------- results (the engine's codes)

#: 等次.
GRADE_ZH = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
#: 编制挂钩 (establishment action); a unit without data has none.
ACTION_ZH = {"priority": "优先保障", "maintain": "维持", "restrict": "从严控制"}
#: Shown instead of a rank, grade or action for a unit without any data.
NO_DATA_ZH = "无数据"
RESULT_STATE_ZH = {"draft": "待发布", "published": "已发布"}
#: Where a scheme leaf's score comes from (a leaf's ``source``; the instruments as in INSTRUMENT_ZH).
LEAF_SOURCE_ZH = {
    "checkpoints": "问效点台账",
    "public": "好差评记录",
    "institution": "事业单位绩效考核得分",
    "problems": "问题台账",
    "overdue": "问题台账（整改超期）",
    "grassroots": "镇街评议问卷",
    "leader": "领导点评问卷",
    "peer": "部门互评问卷",
    "self": "内部自评问卷",
    "deputy": "两代表一委员问卷",
    "expert": "专家评价问卷",
}
#: Shown instead of a score whose group of raters is below its minimum sample (never a number).
TOO_FEW_ZH = "样本不足"

#: Plain-Chinese readings of Krippendorff's alpha, from the highest lower bound down (0.8 and 0.667 are
#: Krippendorff's own thresholds for reliable and tentatively acceptable data).
ALPHA_READINGS = (
    (0.8, "高度一致"),
    (0.667, "较一致"),
    (0.4, "一般"),
    (0.0, "较弱，评价人看法差别大"),
    (float("-inf"), "相互矛盾"),
)
#: Shown instead of an alpha reading when there were too few ratings to compute one.
NO_ALPHA_ZH = "样本太少，无法计算"


def alpha_reading(alpha) -> str:
    """What a Krippendorff's alpha means, in words an office clerk can repeat; NO_ALPHA_ZH when there is none."""
    if alpha is None or alpha != alpha:  # NaN: too few pairs
        return NO_ALPHA_ZH
    return next(text for low, text in ALPHA_READINGS if alpha >= low)


def rank_text(row, empty: str = NO_DATA_ZH):
    """A result row's rank as shown: `empty` (无数据) for a unit without data (no composite, no rank)."""
    if row.composite is None or row.rank is None:
        return empty
    return row.rank


def grade_text(row, empty: str = "—") -> str:
    """A result row's grade in Chinese (优秀 …); `empty` for a unit without data."""
    return label(row.grade if row.composite is not None else None, GRADE_ZH, empty)


def action_text(row, empty: str = "—") -> str:
    """A result row's establishment action in Chinese; `empty` for a unit without data."""
    return label(row.establishment_action if row.composite is not None else None, ACTION_ZH, empty)


# ---------------------------------------------------------------- questionnaires and raters

INSTRUMENT_ZH = {
    "grassroots": "镇街评议",
    "leader": "领导点评",
    "peer": "部门互评",
    "self": "内部自评",
    "deputy": "两代表一委员",
    "expert": "专家评价",
}
RATER_GROUP_ZH = {
    "grassroots": "镇街干部",
    "leader": "市级领导",
    "department": "部门",
    "deputy": "两代表一委员",
    "expert": "专家",
}
PARTICIPANT_KIND_ZH = {"informant": "信息员", "linkage": "联动部门", "expert": "专家"}
ASSIGNMENT_STATE_ZH = {"not_opened": "未开始", "in_progress": "填写中", "submitted": "已提交"}

# ---------------------------------------------------------------- organisation and people

PERIOD_STATE_ZH = {"draft": "草稿", "open": "采集中", "closed": "已截止", "published": "已发布"}
UNIT_KIND_ZH = {"party": "党委部门", "government": "政府部门", "institution": "事业单位"}
ROLE_ZH = {
    "admin": "系统管理员",
    "data_admin": "数据管理员",
    "operator": "业务经办",
    "viewer": "查阅",
    "unit_liaison": "单位联络员",
}

# ---------------------------------------------------------------- public ratings (好差评) and cases

#: Satisfaction levels, 5 = 非常满意.
LEVEL_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
CHANNEL_ZH = {"window": "窗口评价器", "online": "网上平台", "app": "移动端", "hotline": "12345热线", "sms": "短信"}
RATING_FLAG_ZH = {"default": "默认好评", "burst": "短时集中好评", "odd_hour": "非办公时段（0-6时）"}
CASE_STATE_ZH = {
    "open": "待分派",
    "assigned": "待回访",
    "called_back": "已回访",
    "classified": "已定性",
    "rectified": "已整改",
    "fed_back": "已反馈",
    "appealed": "申诉中",
    "closed": "已办结",
}
CASE_CLASS_ZH = {
    "reasonable": "合理差评",
    "mistaken": "误评",
    "malicious": "恶意差评",
    "out_of_scope": "不属于受理范围",
}
CASE_STEP_ZH = {
    "assign": "分派",
    "callback": "回访",
    "classify": "定性",
    "rectify": "整改/说明",
    "feedback": "反馈",
    "appeal": "申诉",
    "review": "复核",
    "close": "办结",
}

# ---------------------------------------------------------------- ledger (check points, problems, suggestions)

CHECKPOINT_STATUS_ZH = {
    "pending": "待完成",
    "on_time": "按时完成",
    "late": "逾期完成",
    "not_done": "未完成",
    "waived": "免于考核",
}
PROBLEM_SOURCE_ZH = {
    "supervision": "日常监管",
    "linkage": "联动部门",
    "informant": "信息员",
    "expert": "专家",
    "evaluation": "评价发现",
    "audit": "审计",
    "inspection": "巡察",
    "petition": "信访",
    "other": "其他",
}
SEVERITY_ZH = {"general": "一般", "serious": "较重", "grave": "严重"}
PROBLEM_STATE_ZH = {"open": "待整改", "rectifying": "整改中", "closed": "已销号"}
SUGGESTION_STATUS_ZH = {"pending": "待甄别", "valid": "有效", "invalid": "无效"}
SUGGESTION_KIND_ZH = {"suggestion": "意见建议", "report": "问题反映"}
#: 问题分类: who solves it.
PROBLEM_CLASS_ZH = {"unit": "单位整改", "office": "编办解决", "reserve": "改革政策储备"}
PROBLEM_ACTION_ZH = {
    "file": "登记",
    "push": "推送",
    "report": "报送整改情况",
    "return": "退回重新整改",
    "close": "验收销号",
    "lookback": "回头看",
    "reopen": "回头看重新整改",
    "interview": "约谈",
    "letter": "函告",
    "notice": "通报",
    "comment": "专家点评",
}
#: The five categories of supervision matters (Zibo): what the console's forms offer for a problem's category.
SUPERVISION_CATEGORIES = ("机构改革落实", "机构编制审批", "编制使用和人员配备", "评估考核", "问题整改")
#: Shown instead of a problem's state when it is overdue on the period's as_of date.
OVERDUE_ZH = "超期"

# ---------------------------------------------------------------- establishment data (实名制) and the vacancy pool

#: The four figures of a unit, as pages name them.
FIGURE_ZH = {
    "establishment": "编制数",
    "actual_staff": "实有人数",
    "leader_posts": "领导职数",
    "leaders_in_post": "实配领导",
}
ESTABLISHMENT_SOURCE_ZH = {"console": "工作台修改", "pool": "空编池"}
POOL_ENTRY_ZH = {"reclaim": "收回入池", "allocate": "调剂出池"}
#: Early warnings (预警) of a unit's establishment figures.
WARNING_ZH = {"over_establishment": "超编", "over_leader_posts": "超职数"}
#: Background report jobs (ReportJob.state).
JOB_STATE_ZH = {"queued": "排队中", "running": "生成中", "done": "已生成", "failed": "生成失败"}
#: Which units an assignment rule's raters rate (AssignmentRule.scope).
TARGET_SCOPE_ZH = {
    "all_units": "全部被评价单位",
    "serving_towns": "服务镇街的单位",
    "other_units": "本单位以外的全部单位",
    "listed_units": "指定单位（不含本单位）",
    "own_unit": "仅本单位",
}

# ---------------------------------------------------------------- imports

#: Further words an import file may use for a code, besides the code itself and its label in the tables
#: above (services.imports.cells: Row.choice). Keyed by the code; a word listed here must not be another
#: code's label in the same table.
IMPORT_SYNONYMS_ZH = {
    "party": ("党委", "党群部门"),
    "government": ("政府",),
    "institution": ("事业",),
    "grassroots": ("镇街",),
    "leader": ("市领导", "领导"),
    "department": ("部门干部", "部门评价人"),
    "deputy": ("代表委员", "两代表一委员评价人"),
    "window": ("窗口", "评价器"),
    "online": ("网上", "网办"),
    "app": ("手机端",),
    "hotline": ("热线", "12345"),
    "on_time": ("按时",),
    "late": ("逾期",),
    "waived": ("免考核", "免予考核"),
    "serious": ("较严重",),
}
#: The words an import file may use for true and false in a 0/1 column (is_default).
IMPORT_FLAG_ZH = {"1": ("是",), "0": ("否",)}

IMPORT_KIND_ZH = {
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


def label(code, table: dict, default: str = "—") -> str:
    """The Chinese label of ``code`` (an enum member or its value) in ``table``; ``default`` when it has none."""
    if code is None:
        return default
    return table.get(getattr(code, "value", code), default)
