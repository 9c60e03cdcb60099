"""Where files go on each platform: the per-user data folder (by platformdirs, the
convention of the Python ecosystem), and where a tool writes by default. Never the working
directory: a double-clicked launcher may start in C:\\Windows\\System32 or /.

    Windows  %LOCALAPPDATA%\\IPC Trading Desk            (the Local AppData known folder)
    macOS    ~/Library/Application Support/IPC Trading Desk
    Linux    $XDG_STATE_HOME/ipc-trading-desk (default ~/.local/state/ipc-trading-desk)

IPCDESK_DATA overrides it (tests, portable installs)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

APP_NAME = "IPC Trading Desk"
APP_SLUG = "ipc-trading-desk"
DATA_ENV = "IPCDESK_DATA"

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir(platform: str = sys.platform) -> Path:
    """The per-user folder for logs, order logs and videos on `platform` (this machine's by
    default), from the environment of this process."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    if platform == "win32":
        from platformdirs.windows import Windows as Dirs
        name = APP_NAME
    elif platform == "darwin":
        from platformdirs.macos import MacOS as Dirs
        name = APP_NAME
    else:
        from platformdirs.unix import Unix as Dirs
        name = APP_SLUG
    return Path(Dirs(name, appauthor=False).user_state_dir)


def checkout_root() -> Optional[Path]:
    """The project folder when this runs from a source checkout (launcher.py beside
    engine/); None when the package is installed (site-packages is nobody's output folder)."""
    return PROJECT_ROOT if (PROJECT_ROOT / "launcher.py").is_file() else None


def default_output(*parts: str) -> Path:
    """Where a tool writes by default: inside the checkout, else the per-user data folder
    (never the working directory)."""
    return (checkout_root() or data_dir()).joinpath(*parts)


def default_log_dir() -> str:
    return str(data_dir() / "logs")
