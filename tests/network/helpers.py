"""A small supervision network: towns T1, T2; units U01-U03; period 2026 (open, as_of 2026-12-31); informants
I1 (T1), I2 (T2); linkage departments K1 (审计局), K2 (信访局); expert E1; an operator "office"; a liaison of U01
("liaison1") and of U02 ("liaison2")."""

import io

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def upload(data=PNG, name="photo.png"):
    """A file as a form would send it (werkzeug FileStorage)."""
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name)
