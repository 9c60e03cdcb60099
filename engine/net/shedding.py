"""LoadShedder: what a Server does instead of spinning or growing when too much comes at it.
The server owns one and asks it; the shedder holds no socket and calls nothing back, so its
rules read (and test) on their own:

* accept() failing for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM):
  accepting pauses for ACCEPT_PAUSE_S[0], doubling to ACCEPT_PAUSE_S[1] while it lasts (or
  until one of the server's clients goes, freeing a descriptor), said once per episode;
* past `max_clients` a new connection is accepted and closed at once (counted);
* a client that has not finished its TLS handshake, or not given its token, within
  AUTH_TIMEOUT_S is dropped; while the server is under pressure (accepts paused lately, or
  more than half the cap held) an input port also drops clients that never sent a byte
  within SILENT_TIMEOUT_S.

The timings are read from this module when used, so a test can shorten them."""
from __future__ import annotations

import errno
import logging
import time
from typing import Optional

ACCEPT_PAUSE_S = (0.1, 1.0)  # accepts paused this long when descriptors run out, doubling
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
AUTH_TIMEOUT_S = 5.0         # a client with a token to give gives it at once
SILENT_TIMEOUT_S = 10.0      # under pressure: an input port's client that never sent a byte
PRESSURE_MEMORY_S = 30.0     # accepts paused within this long: still under pressure
SWEEP_EVERY_S = 0.5          # how often clients are looked over for their time


class LoadShedder:
    """One server's load rules and counters (see the module's text)."""

    def __init__(self, what: str, log: logging.Logger, max_clients: int,
                 input_port: bool = False):
        self.what, self.log = what, log
        self.max_clients = max_clients
        # clients are expected to send (orders): one that never does may be dropped when
        # the server is under pressure
        self.input_port = input_port
        self.refused_full = 0     # connections closed at once: max_clients held
        self.dropped_idle = 0     # never authenticated, or silent on an input port
        self.accept_pauses = 0    # times accepting was paused for want of descriptors
        self.paused_until = 0.0   # accepting again at this time (0: accepting)
        self._pause_s = ACCEPT_PAUSE_S[0]
        self._episode: Optional[list] = None  # [start, pauses] of descriptors running out
        self._pressure_until = 0.0
        self._next_sweep = 0.0

    # -- accepting ----------------------------------------------------------------------------
    def out_of_descriptors(self, exc: OSError) -> bool:
        return exc.errno in OUT_OF_DESCRIPTORS

    def pause_accepting(self, exc: OSError, clients: int) -> None:
        """accept() failed for want of descriptors: the backlog waits, the clients held are
        served meanwhile. The server stops watching its listening socket until `resume_due`."""
        now = time.monotonic()
        self.accept_pauses += 1
        self._pressure_until = now + PRESSURE_MEMORY_S
        if self._episode is None:
            self._episode = [now, 0]
            self.log.warning("%s: cannot accept (%s): pausing accepts for %.1f s, doubling to "
                             "%.0f s while it lasts; the %d clients connected are served",
                             self.what, exc.strerror or exc, self._pause_s, ACCEPT_PAUSE_S[1],
                             clients)
        self._episode[1] += 1
        self.paused_until = now + self._pause_s
        self._pause_s = min(self._pause_s * 2, ACCEPT_PAUSE_S[1])

    def accepted(self, clients: int) -> None:
        """An accept worked: an episode of missing descriptors, if any, is over."""
        if self._episode is not None:
            start, pauses = self._episode
            self._episode = None
            self._pause_s = ACCEPT_PAUSE_S[0]
            self.log.info("%s: accepting again after %.1f s (%d pauses); %d clients "
                          "connected", self.what, time.monotonic() - start, pauses, clients)

    def full(self, clients: int) -> bool:
        """True (and counted) when a new connection must be closed at once: the cap is held."""
        if clients < self.max_clients:
            return False
        self.refused_full += 1
        self._pressure_until = time.monotonic() + PRESSURE_MEMORY_S
        return True

    def descriptor_freed(self) -> None:
        """A client went: while paused, accept again at the next turn."""
        if self.paused_until:
            self.paused_until = time.monotonic()

    def resume_due(self, now: float) -> bool:
        """True once, when a pause is over and the server should watch its socket again."""
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
            return True
        return False

    # -- clients past their time --------------------------------------------------------------
    def under_pressure(self, now: float, clients: int) -> bool:
        return now < self._pressure_until or clients > self.max_clients // 2

    def sweep_due(self, now: float) -> bool:
        """True every SWEEP_EVERY_S: time to look at each client with `overdue`."""
        if now < self._next_sweep:
            return False
        self._next_sweep = now + SWEEP_EVERY_S
        return True

    def overdue(self, peer, now: float, busy: bool) -> Optional[str]:
        """Why `peer` is to be dropped now (counted), or None. `busy`: under_pressure()."""
        age = now - peer.connected_at
        if peer.handshaking and age > AUTH_TIMEOUT_S:
            why = f"dropped: no TLS handshake within {AUTH_TIMEOUT_S:g} s"
        elif not peer.authed and age > AUTH_TIMEOUT_S:
            why = f"dropped: no auth token within {AUTH_TIMEOUT_S:g} s"
        elif busy and self.input_port and not peer.heard and age > SILENT_TIMEOUT_S:
            why = f"dropped: silent for {SILENT_TIMEOUT_S:g} s while the server is busy"
        else:
            return None
        self.dropped_idle += 1
        return why

    def wake_in(self, now: float) -> float:
        """Seconds until a timer of ours is due."""
        wake = self._next_sweep - now
        if self.paused_until:
            wake = min(wake, self.paused_until - now)
        return max(wake, 0.0)
