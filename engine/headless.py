"""`python -m engine.headless` (installed: `ipcdesk-headless`): the stack without a window,
as `python launcher.py --headless` runs it (engine/control/headless.py)."""
import multiprocessing

from engine.control.headless import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
