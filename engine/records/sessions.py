"""Sessions: each launch of the desk or of `--headless` logs into a folder of its own under the
log folder, named by its start (`2026-11-23_14-05-12/`: every process's log, `orders.jsonl`,
at the end `summary.json`), so a new launch numbers orders from 1 and starts flat. Within the
session a restarted OrderManager goes on numbering from the session's order log and a
restarted Strategy recovers the session's positions, as before.

The newest session is `latest` in the log folder (a symbolic link, where the platform lets us
make one) and is named in `latest.txt` everywhere. Processes started by hand in terminals are
not sessions: they use `--log-dir` as given."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

LATEST = "latest"
LATEST_TXT = "latest.txt"
SUMMARY = "summary.json"


def start_session(log_root, now: Optional[float] = None) -> Path:
    """Make the folder of a new session under `log_root` and point `latest` at it."""
    root = Path(log_root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    folder, n = root / stamp, 1
    while True:
        try:
            folder.mkdir()
            break
        except FileExistsError:  # two launches within one second
            n += 1
            folder = root / f"{stamp}-{n}"
    _point_latest(root, folder)
    return folder


def _point_latest(root: Path, folder: Path) -> None:
    (root / LATEST_TXT).write_text(folder.name + "\n", encoding="utf-8")
    link = root / LATEST
    try:
        if link.is_symlink():
            link.unlink()
        elif link.exists():  # not ours to replace
            return
        link.symlink_to(folder.name, target_is_directory=True)
    except OSError:  # Windows without the privilege to link: latest.txt names it
        pass


def latest_session(log_root) -> Optional[Path]:
    """The newest session's folder, or None when there is none."""
    try:
        name = (Path(log_root) / LATEST_TXT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    folder = Path(log_root) / name
    return folder if name and folder.is_dir() else None


def write_summary(folder, summary: dict) -> Path:
    """The session's summary.json (what `--summary` writes too)."""
    path = Path(folder) / SUMMARY
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path
