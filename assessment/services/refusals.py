"""What a service raises when it refuses a request: one base class, so pages and commands treat every refusal alike.

A refusal carries a Chinese message for people (`message_zh`, naming the field: "整改期限：不能早于发现日期。")
and optionally the field. Nothing has been committed when it is raised; the request's commit point (a 4xx answer)
or `transactions.refused()` (a redirect) drops whatever the service had flushed.
"""


class Refused(ValueError):
    """A service refused: `message_zh` for people, `field` (Chinese name) when one field is at fault."""

    def __init__(self, message_zh: str, field: str | None = None):
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.field = field


def text(value, field_zh: str, max_len: int | None = None, required: bool = True, error=Refused) -> str | None:
    """A trimmed text field, None when blank and optional; `error` (a Refused class) names the field when it is
    required and blank ("问题标题：必填。") or too long."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise error(f"{field_zh}：必填。", field_zh)
        return None
    if max_len and len(cleaned) > max_len:
        raise error(f"{field_zh}：不能超过 {max_len} 个字（现有 {len(cleaned)} 个）。", field_zh)
    return cleaned
