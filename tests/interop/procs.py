"""Processes for the interop tests: ours as a user starts them (`python -m engine.<name>`),
and the minimal peers in peers/ (other teams' code written to the assignment text), each with
its output in a file, always stopped at the end (ours with Ctrl+C, the peers killed)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).resolve().parent / "peers"


class Procs:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.procs: Dict[str, Tuple[subprocess.Popen, Path, bool]] = {}

    def _start(self, name: str, cmd: List[str], ours: bool, env=None) -> subprocess.Popen:
        out = self.folder / f"{name}.out"
        kwargs = {}
        if os.name == "nt":  # Ctrl+Break reaches only a process group of its own
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        with out.open("wb") as fh:
            p = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                 env=dict(os.environ, PYTHONIOENCODING="utf-8", **(env or {})),
                                 **kwargs)
        self.procs[name] = (p, out, ours)
        return p

    def ours(self, module: str, *args, name: str = "", env=None) -> subprocess.Popen:
        """`python -m engine.<module> args...` (known as `name`, default the module)."""
        return self._start(name or module, [sys.executable, "-m", f"engine.{module}",
                                            *map(str, args)], ours=True, env=env)

    def peer(self, name: str, script: str, *args) -> subprocess.Popen:
        """`python peers/<script> args...`"""
        return self._start(name, [sys.executable, str(PEERS / script), *map(str, args)],
                           ours=False)

    def output(self, name: str) -> str:
        return self.procs[name][1].read_text(encoding="utf-8", errors="replace")

    def wait_output(self, name: str, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while True:
            out = self.output(name)
            if text in out:
                return out
            p = self.procs[name][0]
            if p.poll() is not None and text not in self.output(name):
                raise AssertionError(f"{name} exited ({p.returncode}) without printing "
                                     f"{text!r}:\n{out[-3000:]}")
            if time.monotonic() > end:
                raise AssertionError(f"{name} did not print {text!r} within {timeout} s:\n"
                                     f"{out[-3000:]}")
            time.sleep(0.02)

    def stop(self, name: str, timeout: float = 10.0) -> int:
        """Ctrl+C (Ctrl+Break on Windows) for ours, kill for the peers; the exit code."""
        p, _, ours = self.procs[name]
        if p.poll() is None:
            if ours:
                p.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt"  # type: ignore
                              else signal.SIGINT)
            else:
                p.kill()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return p.returncode

    def __enter__(self) -> "Procs":
        return self

    def __exit__(self, *exc) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)
