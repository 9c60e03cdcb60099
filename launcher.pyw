"""IPC Trading Desk for a double click on Windows: .pyw files open with pythonw, so the desk
comes without a console window beside it (closing that console would have killed all five
processes at once, without the ordered stop). Same as `python launcher.py`."""
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gui.launch import main  # noqa: E402

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:], prog="launcher.pyw"))
