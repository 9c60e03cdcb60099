"""Work around a reference-counting bug of the pinned PySide6 build on Python < 3.12.

PySide6 6.12.0 (an abi3 wheel) returns None, True and False from C++ calls without taking a
new reference: every void method called from Python (`label.setText(...)`,
`item.update()`, ...) and every `signal.emit()` drops one reference to None or True that was
never taken. Python 3.12+ makes these singletons immortal, so nothing happens there; on
3.10/3.11 their count runs down and the process aborts within seconds of charting with
"Fatal Python error: none_dealloc: deallocating None" (or bool_dealloc), pyqtgraph being a
heavy caller.

`install()` probes for the bug once and, only when it is present, gives the three singletons
a huge reference count (2**40: what a 3.12 immortal object effectively has), so the stray
decrements can never reach zero. Imported by gui/__init__.py before anything else runs.
A fixed PySide6 or Python 3.12+ is detected and left alone.
"""
from __future__ import annotations

import ctypes
import sys

BOOST = 1 << 40
SINGLETONS = (None, True, False)
state = {"checked": False, "buggy": False, "boosted": False}


def _returns_borrowed(call, probes: int = 64) -> bool:
    """True when call() returns a singleton without a new reference."""
    before = {id(s): sys.getrefcount(s) for s in SINGLETONS}
    results = [call() for _ in range(probes)]
    for s in SINGLETONS:
        held = sum(1 for r in results if r is s)
        if held and sys.getrefcount(s) - before[id(s)] < held:
            return True
    return False


def _boost(obj) -> bool:
    """Add BOOST to obj's reference count (CPython release build layout: ob_refcnt first)."""
    before = sys.getrefcount(obj)
    cell = ctypes.c_ssize_t.from_address(id(obj))
    cell.value += BOOST
    if abs(sys.getrefcount(obj) - before - BOOST) > 10_000:  # unexpected layout: undo
        cell.value -= BOOST
        return False
    return True


def probe() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        sig = Signal()

    p = _Probe()
    return _returns_borrowed(lambda: p.setObjectName("probe")) or \
        _returns_borrowed(lambda: p.sig.emit())


def install() -> dict:
    """Detect the bug (once) and neutralise it; returns what was found and done."""
    if state["checked"]:
        return state
    state["checked"] = True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return state
    state["buggy"] = probe()
    if state["buggy"]:
        state["boosted"] = all(_boost(s) for s in SINGLETONS)
    return state
