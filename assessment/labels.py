"""Chinese labels of result codes, shared by the console and the printed report."""

GRADE_ZH = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
ACTION_ZH = {"priority": "优先保障", "maintain": "维持", "restrict": "从严控制"}
