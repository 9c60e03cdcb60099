#!/usr/bin/env python3
"""IPC Trading Desk launcher.

    python launcher.py                      the desk window (PySide6 + pyqtgraph)
    python launcher.py --headless [--duration S] [--summary FILE.json]
                                            the same four processes without a window

Every flag of the processes (ports, symbols, windows, thresholds...) is accepted here too;
`python launcher.py --help` lists them. Installed (`python -m pip install .`), the same is the
`ipcdesk` command; the launcher itself is in gui/launch.py.
"""
import multiprocessing
import sys
from pathlib import Path

# A double click starts us with some other working directory: make the project importable.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from gui.launch import main  # noqa: E402

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen bundle's children stop here (spawn)
    frozen = getattr(sys, "frozen", False)  # the bundle (packaging/ipcdesk.spec)
    sys.exit(main(prog=Path(sys.executable).stem if frozen else "python launcher.py"))
