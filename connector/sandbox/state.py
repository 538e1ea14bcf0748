"""Sandbox state files: JSON, written atomically so a crash never leaves half a file behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["load_state", "save_state"]


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write ``state`` as JSON to ``path``: to a temporary file in the same directory, then rename.

    The rename is atomic on POSIX, so a reader sees either the old file or the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1, sort_keys=True, default=str)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path | None) -> dict[str, Any] | None:
    """The JSON object saved at ``path``, or None when there is no path or no file yet.

    Raises:
        ValueError: the file exists but is not a JSON object.
    """
    if path is None or not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a sandbox state (expected a JSON object)")
    return data
