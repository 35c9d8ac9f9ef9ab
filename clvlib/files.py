"""Writing files so that an interrupted run never leaves a half-written one under the real name,
and checksums that let a reader (and ``make``) tell a truncated or edited file from the one written.

Standard library only: ``clvlib/pipeline/integrity.py`` runs it with the system Python before the
environment exists.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from clvlib.errors import ChecksumError

__all__ = ["atomic_write", "checksum_path", "sha256", "verify_checksum"]


def checksum_path(path: Path) -> Path:
    """The checksum file of ``path``: ``<name>.sha256`` next to it (``sha256sum -c`` format)."""
    path = Path(path)
    return path.with_name(f"{path.name}.sha256")


def atomic_write(path: Path, write: Callable[[Path], object], checksum: bool = False) -> Path:
    """Call ``write(tmp)`` on a hidden temporary name next to ``path``, then rename it to ``path``.

    With ``checksum``, ``<name>.sha256`` is written next to it (after the file, so an interruption
    in between leaves a checksum that does not match, never a wrong file that looks right).

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "a.txt"
    >>> atomic_write(target, lambda p: p.write_text("x")).read_text(), sorted(q.name for q in target.parent.iterdir())
    ('x', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    if checksum:
        checksum_path(path).unlink(missing_ok=True)
    os.replace(tmp, path)
    if checksum:
        digest = sha256(path)
        atomic_write(checksum_path(path), lambda p: p.write_text(f"{digest}  {path.name}\n"))
    return path


def verify_checksum(path: Path) -> Path:
    """Return ``path`` if it matches its checksum file, else raise :class:`ChecksumError`.

    Examples
    --------
    >>> import tempfile
    >>> f = atomic_write(Path(tempfile.mkdtemp()) / "x.txt", lambda p: p.write_text("abc"), checksum=True)
    >>> verify_checksum(f).name
    'x.txt'
    >>> _ = f.write_text("abd")
    >>> verify_checksum(f)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    clvlib.errors.ChecksumError: ...x.txt does not match the checksum written with it ...
        rerun the notebook that writes it (make paper does).
    """
    path = Path(path)
    fix = "rerun the notebook that writes it (make paper does)."
    if not path.exists():
        raise ChecksumError(f"{path} is missing; {fix}")
    record = checksum_path(path)
    if not record.exists():
        raise ChecksumError(f"{path} has no checksum file {record.name} (an interrupted or older run wrote it); {fix}")
    if record.read_text().split()[0] != sha256(path):
        raise ChecksumError(
            f"{path} does not match the checksum written with it (truncated, corrupted or edited); {fix}"
        )
    return path


def sha256(path: Path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
