"""Uploaded files (evidence, photos): checked by size and by content, stored under instance/uploads/<area>/.

Files never go into the database; a row keeps the stored name. The stored name is random (never the uploader's
name), so a path cannot be guessed or steered, and only views that check who may see the row serve the file.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .refusals import Refused

#: Accepted types: extension -> (content type, what the first bytes must look like).
TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}
#: The accepted types as pages name them.
TYPES_ZH = "PDF、JPG、PNG、DOCX、XLSX"


class UploadError(Refused):
    """A file that cannot be accepted; `message_zh` names the field and says why."""


@dataclass
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int


def _folder(area: str) -> Path:
    return Path(current_app.instance_path) / "uploads" / area


def _size_zh(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def given(files) -> list:
    """The files a form really sent: a file input left empty arrives as a FileStorage without a name."""
    return [f for f in (files or []) if f is not None and getattr(f, "filename", "")]


def store_all(files, area: str, field_zh: str, max_files: int) -> list[StoredFile]:
    """Check and store every given file, or none: more than `max_files` is refused, and on the first bad file
    the ones already stored are removed again before UploadError is raised."""
    files = given(files)
    if len(files) > max_files:
        raise UploadError(f"{field_zh}：一次最多上传 {max_files} 个文件。", field_zh)
    stored = []
    try:
        for upload in files:
            stored.append(check_and_store(upload, area, field_zh))
    except UploadError:
        remove_all(area, stored)
        raise
    return stored


def check_and_store(upload, area: str, field_zh: str = "附件") -> StoredFile:
    """Check an uploaded file (werkzeug FileStorage) and store it under instance/uploads/<area>/.

    Refuses an empty or too large file and one whose extension is not accepted or whose first bytes do not match
    it (a renamed .exe is not a PDF). The limit is the setting UPLOAD_MAX_BYTES. The file is written to a temporary
    name and renamed, so a failed write leaves no half file under the stored name.
    """
    original = os.path.basename((getattr(upload, "filename", None) or "").replace("\\", "/")).strip()
    if not original:
        raise UploadError(f"{field_zh}：请选择文件。", field_zh)
    ext = original.rpartition(".")[2].lower() if "." in original else ""
    if ext not in TYPES:
        raise UploadError(f"{field_zh}：不接受此类型的文件（{original}），只接受 {TYPES_ZH}。", field_zh)
    max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    data = upload.stream.read(max_bytes + 1)
    if not data:
        raise UploadError(f"{field_zh}：文件是空的（{original}）。", field_zh)
    if len(data) > max_bytes:
        raise UploadError(f"{field_zh}：文件超过 {_size_zh(max_bytes)}（{original}）。", field_zh)
    content_type, magics = TYPES[ext]
    if not data.startswith(magics):
        raise UploadError(f"{field_zh}：文件内容与扩展名 .{ext} 不符（{original}）。", field_zh)
    folder = _folder(area)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.{ext}"
    temporary = folder / f".{stored}.part"
    temporary.write_bytes(data)
    temporary.replace(folder / stored)
    return StoredFile(stored, original[:200], content_type, len(data))


def path_of(area: str, stored_name: str) -> Path:
    """Where a stored file is (the name comes from the database, never from the request)."""
    return _folder(area) / os.path.basename(stored_name)


def remove_all(area: str, stored: list[StoredFile]):
    """Delete stored files whose rows will not be written (a refused step)."""
    for done in stored:
        remove(area, done.stored_name)


def remove(area: str, stored_name: str):
    """Delete a stored file if it is there (used when the row that needed it was not written)."""
    path_of(area, stored_name).unlink(missing_ok=True)
