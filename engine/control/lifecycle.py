"""A child process's lifecycle: its states and every transition between them, in one table
(h11's `_state.py` is the model). The controller moves a process only through `next_state`;
anything not in the table is a bug of ours, raised as such."""
from __future__ import annotations

from enum import Enum
from typing import Dict, Tuple


class State(str, Enum):
    """Where a process is. A str, so that it prints, compares and serialises as its name."""
    STOPPED = "stopped"     # not running (never started, or exited after a stop / cleanly)
    WAITING = "waiting"     # to start once what it depends on is ready
    STARTING = "starting"   # spawned; it has not said it is ready yet
    RUNNING = "running"     # it said it is ready (its servers listen, its book is open)
    STOPPING = "stopping"   # asked to stop; the controller escalates if it does not
    CRASHED = "crashed"     # exited by itself with an error, or was killed

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in (State.STOPPED, State.CRASHED)

    @property
    def active(self) -> bool:
        return not self.finished


class Change(str, Enum):
    """What happens to a process."""
    QUEUE = "queue"            # asked to start; what it depends on is on its way
    START = "start"            # the controller spawned it
    READY = "ready"            # it reported that it runs
    STOP = "stop"              # the controller asked it to stop
    EXIT_OK = "exit ok"        # it exited with code 0
    EXIT_ERROR = "exit error"  # it exited with another code, or by a signal


TRANSITIONS: Dict[Tuple[State, Change], State] = {
    (State.STOPPED, Change.QUEUE): State.WAITING,
    (State.CRASHED, Change.QUEUE): State.WAITING,
    (State.WAITING, Change.START): State.STARTING,
    (State.WAITING, Change.STOP): State.STOPPED,      # it never started: nothing to stop
    (State.STOPPED, Change.START): State.STARTING,
    (State.CRASHED, Change.START): State.STARTING,
    (State.STARTING, Change.READY): State.RUNNING,
    (State.STARTING, Change.STOP): State.STOPPING,
    (State.RUNNING, Change.STOP): State.STOPPING,
    (State.STOPPING, Change.STOP): State.STOPPING,    # asked twice: harmless
    (State.STARTING, Change.EXIT_OK): State.STOPPED,
    (State.RUNNING, Change.EXIT_OK): State.STOPPED,
    (State.STOPPING, Change.EXIT_OK): State.STOPPED,
    (State.STARTING, Change.EXIT_ERROR): State.CRASHED,
    (State.RUNNING, Change.EXIT_ERROR): State.CRASHED,
    # asked to stop, it ended anyway: stopped (escalated to terminate/kill, the exit says so)
    (State.STOPPING, Change.EXIT_ERROR): State.STOPPED,
}

# what a change does where the table has no entry: nothing, by design (e.g. a late "ready"
# report from a process already stopping), rather than a bug
IGNORED = {(State.STOPPING, Change.READY), (State.RUNNING, Change.READY)}


class LifecycleError(RuntimeError):
    """A transition the table does not allow: a bug in the controller."""


def next_state(state: State, change: Change) -> State:
    """The state after `change`; the same state for an ignored change."""
    if (state, change) in IGNORED:
        return state
    try:
        return TRANSITIONS[(state, change)]
    except KeyError:
        raise LifecycleError(f"{change.value!r} is not possible while {state.value}") from None
