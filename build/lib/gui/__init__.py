"""The desk window (PySide6 + pyqtgraph): Qt views over the engine's ProcessController.

engine/ never imports Qt; gui/ imports engine/. See "The desk" in README.md."""
