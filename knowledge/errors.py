"""The knowledge package's exception tree: callers catch :class:`KnowledgeError`."""

from __future__ import annotations

from pathlib import Path

from core.errors import HelpdeskError


class KnowledgeError(HelpdeskError):
    """Base class of every error raised by the knowledge package."""


class FaqFormatError(KnowledgeError):
    """An FAQ source is malformed; the message names the file and the row or entry."""

    def __init__(self, source: Path | str, message: str, *, row: int | None = None) -> None:
        where = f"{source}, row {row}" if row is not None else str(source)
        super().__init__(f"{where}: {message}")
        self.source = str(source)
        self.row = row


class EmbeddingModelError(KnowledgeError):
    """The embedding model could not be loaded (missing path, unknown name, no network)."""
