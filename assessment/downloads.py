"""The one way a route sends a generated file (STYLE.md "Generate, then send").

werkzeug's `send_file(download_name=…)` writes the Content-Disposition per RFC 6266 / RFC 5987: an ASCII
`filename` and, for a name such as a period named in Chinese, the exact name UTF-8 percent-encoded in
`filename*`. Cache-Control: no-store is set on every console response by `security`.
"""

import io
import re

from flask import send_file

#: Characters no header may hold (werkzeug refuses a header with a line break): replaced in the file name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def attachment(data: bytes | str, filename: str, mimetype: str):
    """A response that downloads `data` (bytes, or text sent as UTF-8) as `filename` (any characters)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=_CONTROL.sub("_", filename))
