#!/bin/sh
# IPC Trading Desk for a double click in the macOS Finder: a Terminal opens and starts the
# desk (closing the window, or Ctrl+C there, stops every process in order). It uses the
# Python of a virtual environment beside this file (.venv) if there is one.
cd "$(dirname "$0")" || exit 1
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
exec "$PY" launcher.py "$@"
