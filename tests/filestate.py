"""What a folder holds, to prove that an operation left stored data exactly as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path


def folder_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by its path inside it (the store's ``.lock``
    left out: taking the lock is not a change of data); ``{}`` when there is no folder."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}
