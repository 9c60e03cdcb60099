"""The desk window (PySide6 + pyqtgraph): Qt views over the engine's ProcessController.

engine/ never imports Qt; gui/ imports engine/. See docs/GUI.md."""
try:
    from ._compat import install as _install_compat
except ImportError:  # pragma: no cover - PySide6 missing: launcher.py explains what to do
    pass
else:
    _install_compat()
