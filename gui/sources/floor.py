"""FloorProbe: what the kernel costs on this machine, measured once for the System map (each
hop of tick-to-ack beside its floor). The measurement (engine.measure.floor: a process of its
own echoes TCP and UDP round trips, 5 ms apart, about a second) runs on a thread of its own;
`measured` brings the figures to the GUI thread. Nothing is measured until the map shows."""
from __future__ import annotations

import threading
from typing import Optional

from PySide6.QtCore import QObject, Signal

from engine.measure.floor import hop_floors_us


class FloorProbe(QObject):
    measured = Signal(dict)  # {"wake": us, "handled": us, "ack": us}

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.floors: dict = {}
        self._thread: Optional[threading.Thread] = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Measure once, in the background (again only after a failure)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="floor-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            floors = hop_floors_us()
        except Exception:  # (a machine that cannot spawn: the hops show without floors,
            self._thread = None  # and the next time the map shows, it tries again)
            return
        self.floors = floors
        self.measured.emit(floors)

    def join(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
