"""What an interrupted upload leaves behind so that running the command again resumes it: a
small JSON file per source file in the user's cache directory (`$XDG_CACHE_HOME/glint`)."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path


def cache_dir() -> Path:
    """Where resume files live."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "glint" / "uploads"


@dataclass
class UploadState:
    """One upload in progress: the source as it was (size, modification time), which image
    and S3 upload, and the ETag S3 answered for each part sent so far."""

    source: str
    size: int
    mtime_ns: int
    endpoint: str
    image_id: str
    upload_id: str
    part_size: int
    parts: dict[int, str] = field(default_factory=dict)


class StateFile:
    """The resume file of one source; writes are atomic and serialised across threads."""

    def __init__(self, source: Path, directory: Path | None = None) -> None:
        source = source.resolve()
        name = hashlib.sha256(str(source).encode()).hexdigest()[:32]
        self.path = (directory or cache_dir()) / f"{name}.json"
        self._lock = threading.Lock()

    def load(self) -> UploadState | None:
        """The saved state, or None when there is none (or it is unreadable)."""
        try:
            raw = json.loads(self.path.read_text())
            raw["parts"] = {int(n): v for n, v in raw.get("parts", {}).items()}
            return UploadState(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, state: UploadState) -> None:
        """Write the state (atomically: a crash never leaves half a file)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(asdict(state)))
            os.replace(temp, self.path)

    def record_part(self, state: UploadState, number: int, etag: str) -> None:
        """Note a part S3 accepted, and persist at once."""
        with self._lock:
            state.parts[number] = etag
        self.save(state)

    def remove(self) -> None:
        """Forget the upload (it completed, or the user starts afresh)."""
        self.path.unlink(missing_ok=True)
