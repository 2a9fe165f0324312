from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from ..services.imports import KIND_LABELS


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


class ImportForm(FlaskForm):
    kind = SelectField("数据类型", choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    period = StringField(
        "评价周期",
        validators=[
            DataRequired("请填写评价周期"),
            Length(max=32),
            Regexp(r"^[\w\-]+$", message="周期名称只能包含字母、数字"),
        ],
    )
    code_system = SelectField(
        "满意度编码（仅好差评）",
        choices=[
            SelectChoice("standard", "5=非常满意（本平台）"),
            SelectChoice("gbt39046", "1=非常满意（GB/T 39046）"),
        ],
        default="standard",
    )
    new_categories = BooleanField("允许新增分类（仅被评价单位：文件中不在已有分类中的分类将作为新分类创建）")
    file = FileField(
        "文件（CSV 或 XLSX）",
        validators=[FileRequired("请选择文件"), FileAllowed(["csv", "xlsx"], "只接受 CSV 或 XLSX 文件")],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReviewForm(FlaskForm):
    note = TextAreaField("复核意见", validators=[DataRequired("请填写复核意见"), Length(max=2000)])


class SchemeForm(FlaskForm):
    text = TextAreaField("评分方案（YAML）", validators=[DataRequired("方案不能为空")])
    note = StringField("修改说明", validators=[Length(max=500)])
