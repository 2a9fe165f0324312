"""Chinese labels of codes (grades, actions, satisfaction levels, instruments), shared by pages and reports."""

GRADE_ZH = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
ACTION_ZH = {"priority": "优先保障", "maintain": "维持", "restrict": "从严控制"}
LEVEL_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
INSTRUMENT_ZH = {"grassroots": "镇街评议", "leader": "领导点评", "peer": "部门互评", "self": "内部自评",
                 "deputy": "两代表一委员", "expert": "专家评价"}
