"""What differs between Windows, macOS and Linux, in one place (no Qt).

Each function says which platform it is for; code elsewhere calls these instead of testing
`sys.platform` itself, so every per-platform path can be read (and tested) here.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from typing import Callable, Optional

WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"


# -- consoles ----------------------------------------------------------------------------------
def console_safe(stream):
    """A text stream that never raises UnicodeEncodeError: on Windows, output redirected to a
    file or a pipe is encoded in the ANSI code page (cp1252), which has no '→' or 'Ł'; a log
    line holding one (a hostile order, a user folder) must not end the run. Characters the
    encoding lacks are written as \\u escapes."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # a closed or detached stream
            pass
    return stream


def stop_signals() -> tuple:
    """The signals that ask a terminal program to stop: Ctrl+C everywhere, Ctrl+Break on
    Windows, SIGTERM and SIGHUP (a logout, `kill`) on macOS and Linux."""
    names = ("SIGINT", "SIGBREAK", "SIGTERM") if WINDOWS else ("SIGINT", "SIGTERM", "SIGHUP")
    return tuple(getattr(signal, n) for n in names if hasattr(signal, n))


def on_console_close(request_stop: Callable[[], None], stopped: threading.Event,
                     grace_s: float = 4.5) -> bool:
    """Windows only: closing the console window (or logging off, shutting down) runs the
    ordered stop instead of killing every process at once. Windows gives a console handler
    about 5 s; it asks for the stop and waits for `stopped` up to `grace_s`. Returns True when
    the handler is installed (False elsewhere: there SIGHUP/SIGTERM do this)."""
    if not WINDOWS:
        return False
    import ctypes
    from ctypes import wintypes
    CTRL_CLOSE, CTRL_LOGOFF, CTRL_SHUTDOWN = 2, 5, 6
    HANDLER = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)

    def handler(kind):
        if kind not in (CTRL_CLOSE, CTRL_LOGOFF, CTRL_SHUTDOWN):
            return False  # Ctrl+C and Ctrl+Break go to Python's signal handlers
        request_stop()
        stopped.wait(grace_s)
        return True

    on_console_close._keep = HANDLER(handler)  # the callback must outlive this call
    return bool(ctypes.windll.kernel32.SetConsoleCtrlHandler(on_console_close._keep, True))


# -- processes -----------------------------------------------------------------------------------
# Windows exit codes of processes that crashed natively (NTSTATUS), shown by name
NTSTATUS = {0xC0000005: "access violation", 0xC00000FD: "stack overflow",
            0xC0000409: "stack buffer overrun", 0xC000013A: "Ctrl+C / console closed",
            0xC0000017: "out of memory", 0xC0000374: "heap corruption",
            0xC000001D: "illegal instruction", 0xC0000094: "integer divide by zero"}


def exit_text(code: Optional[int], killed: bool = False, platform: str = sys.platform) -> str:
    """How a child's exit reads: `exit 1`, `SIGSEGV`, `killed (SIGKILL)` /
    `killed (TerminateProcess)`, `0xC0000005 access violation`."""
    if killed:
        return "killed (TerminateProcess)" if platform == "win32" else "killed (SIGKILL)"
    if code is None:
        return ""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    unsigned = code & 0xFFFFFFFF
    if unsigned >= 0xC0000000:  # a Windows NTSTATUS, not a small exit code
        name = NTSTATUS.get(unsigned)
        return f"0x{unsigned:08X}" + (f" {name}" if name else "")
    return f"exit {code}"


# -- sockets -------------------------------------------------------------------------------------
# errno values that mean "this port cannot be used here", besides "already in use": Windows
# refuses ports inside a range Hyper-V, WSL or Docker reserved with WSAEACCES (10013)
PORT_FORBIDDEN = {errno.EACCES, 10013}
PORT_TAKEN = {errno.EADDRINUSE, 10048}


def port_forbidden_hint(port: int) -> str:
    if WINDOWS:
        return (f"Windows reserves port {port} (Hyper-V, WSL or Docker; see "
                "`netsh interface ipv4 show excludedportrange protocol=tcp`)")
    return f"port {port} needs privileges here"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_from_outside(pid: int) -> str:
    """Do what `kill -9 <pid>` (Task Manager's End task on Windows) does to a process: no
    chance to clean up. Returns how the desk then names the exit. (The fault drill's tests
    and the demo tour kill a child this way, from outside the controller.)"""
    if os.name == "nt":  # pragma: no cover - TerminateProcess with exit code 1
        import ctypes
        handle = ctypes.windll.kernel32.OpenProcess(1, False, pid)  # PROCESS_TERMINATE
        ctypes.windll.kernel32.TerminateProcess(handle, 1)
        ctypes.windll.kernel32.CloseHandle(handle)
        return "exit 1"
    os.kill(pid, signal.SIGKILL)
    return "SIGKILL"


# -- names ---------------------------------------------------------------------------------------
def name_process(name: str) -> None:
    """Show this process as 'ipcdesk: <name>' in ps, top, htop and Activity Monitor (and its
    thread as <name> where the OS keeps a short name: Linux's 15 characters), instead of the
    spawn_main line every child shares. Where the platform does not allow it, nothing."""
    try:
        import setproctitle
        setproctitle.setproctitle(f"ipcdesk: {name}")
        setproctitle.setthreadtitle(name[:15])
    except (ImportError, OSError, AttributeError):  # pragma: no cover - no wheel here
        pass
