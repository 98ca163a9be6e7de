"""What freezes a Board decision at launch: one SHA-256 over the proposal's text and each of
its documents.

The frozen hash is the SHA-256 of a short text of lines, each ending in a newline: first
the SHA-256 of the proposal's text (UTF-8), then the SHA-256 of each document's bytes, in
the order the documents are listed; every hash as 64 lower-case hexadecimal digits. Anyone
holding the text and the files can recompute it, e.g.
`printf '%s\\n' <text hash> <document hash>... | sha256sum`. Changing the text, a file, or
the order of the files changes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def text_hash(text: str) -> str:
    """The SHA-256 of a proposal's text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def frozen_hash(text: str, document_hashes: Sequence[str]) -> str:
    """The SHA-256 that freezes a proposal's text and its documents, in their order."""
    lines = [text_hash(text), *document_hashes]
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode("ascii")).hexdigest()
