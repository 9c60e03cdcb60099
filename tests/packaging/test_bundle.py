"""The bundle (packaging/ipcdesk.spec) builds in a fresh venv with the documented build
requirements, and runs with no Python on PATH from another folder: headless for ten seconds
(every process started by spawn from the frozen executable, orders acked and logged, nothing
left behind) and the demo tour recorded off screen. Slow: one build, about two minutes in all.

The fresh venv gets packaging/requirements-build.txt from the package index; the runtime
libraries (NumPy, PySide6, pyqtgraph, PyAV...) come from this environment on PYTHONPATH, so
the test does not download them again (docs/bundle.md builds with both files)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from engine.shm.segment import segment_exists
from engine.testing import free_ports, unique_shm_name
from tests.support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

OFFLINE = ("Could not find a version that satisfies", "No matching distribution",
           "Failed to establish a new connection", "Temporary failure in name resolution")


def executable(dist: Path) -> Path:
    if sys.platform == "darwin":
        return dist / "IPC Trading Desk.app" / "Contents" / "MacOS" / "ipcdesk"
    return dist / "ipcdesk" / ("ipcdesk.exe" if os.name == "nt" else "ipcdesk")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("bundle")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    res = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q",
                          "install", "-r", str(ROOT / "packaging" / "requirements-build.txt")],
                         capture_output=True, text=True, timeout=300)
    if res.returncode and any(s in res.stderr for s in OFFLINE):
        pytest.skip("no package index reachable for PyInstaller: " + res.stderr[-300:])
    assert res.returncode == 0, res.stderr[-3000:]
    paths = sysconfig.get_paths()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join({paths["purelib"], paths["platlib"]}),
           "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run([str(python), "-m", "PyInstaller", "--noconfirm", "--log-level",
                          "WARN", "--distpath", str(work / "dist"), "--workpath",
                          str(work / "build"), str(ROOT / "packaging" / "ipcdesk.spec")],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    exe = executable(work / "dist")
    assert exe.is_file()
    return exe


def run_bundle(exe: Path, tmp_path: Path, *args, timeout: float = 120):
    """The bundle from a folder of its own, with no Python on PATH and its own data folder."""
    elsewhere, data, empty = tmp_path / "elsewhere", tmp_path / "data", tmp_path / "nobin"
    for d in (elsewhere, empty):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME",
                                                             "VIRTUAL_ENV")}
    env.update(PATH=str(empty), IPCDESK_DATA=str(data), QT_QPA_PLATFORM="offscreen")
    if os.name == "nt":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    res = subprocess.run([str(exe), *args], cwd=elsewhere, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert not any(elsewhere.iterdir()), "nothing written to the working directory"
    return res, data


def test_the_bundle_runs_headless_with_no_python(bundle, tmp_path):
    ports = [str(p) for p in free_ports(4)]
    shm = unique_shm_name("ipcbnd")
    res, data = run_bundle(bundle, tmp_path, "--headless", "--duration", "10", "--summary",
                           str(tmp_path / "s.json"), "--price-port", ports[0], "--news-port",
                           ports[1], "--order-port", ports[2], "--confirm-port", ports[3],
                           "--shm-name", shm)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["orders_acked"] > 0 and summary["orders_acked"] == summary["orders_logged"]
    assert summary["ticks_sent"] == summary["ticks_applied"] > 0
    for name, p in summary["processes"].items():  # each a spawned child of the executable
        assert p["state"] == "stopped" and p["exitcode"] == 0, (name, p)
    session = data / "logs" / (data / "logs" / "latest.txt").read_text(encoding="utf-8").strip()
    orders = (session / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(orders) == summary["orders_logged"]
    for name in ("gateway", "orderbook", "strategy", "order_manager"):
        assert (session / f"{name}.log").is_file(), f"{name} logged to the data folder"
    assert not segment_exists(shm) and not segment_exists(shm + "_s"), "shared memory left"
    assert "Traceback" not in res.stdout + res.stderr
    psutil = pytest.importorskip("psutil")
    left = [p for p in psutil.process_iter(["exe"]) if p.info["exe"] == str(bundle)]
    assert not left, f"processes left behind: {left}"


def test_the_bundle_records_the_demo_tour_off_screen(bundle, tmp_path):
    video = tmp_path / "demo.mp4"
    ports = [str(p) for p in free_ports(4)]
    res, _ = run_bundle(bundle, tmp_path, "--demo-video", str(video), "--price-port",
                        ports[0], "--news-port", ports[1], "--order-port", ports[2],
                        "--confirm-port", ports[3], "--shm-name", unique_shm_name("ipcbnv"),
                        timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert video.is_file() and video.stat().st_size > 100_000
    assert "video:" in res.stdout + res.stderr  # its closing line: the video and its frames


@pytest.mark.skipif(os.name == "nt", reason="Ctrl+C is a console event on Windows, not SIGINT")
def test_the_bundle_runs_a_stack_file_and_stops_in_order_on_ctrl_c(bundle, tmp_path):
    """A stack file's five processes (two Strategies on their accounts), each spawned from
    the executable; Ctrl+C stops them in order, every order acked is logged, nothing left."""
    import signal
    import time
    data, empty = tmp_path / "data", tmp_path / "nobin"
    empty.mkdir()
    ports = [str(p) for p in free_ports(4)]
    shm = unique_shm_name("ipcbns")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=str(empty), IPCDESK_DATA=str(data))
    proc = subprocess.Popen(
        [str(bundle), "--headless", "--stack", str(ROOT / "docs" / "stacks" /
                                                   "two-strategies.toml"),
         "--duration", "120", "--summary", str(tmp_path / "s.json"), "--price-port", ports[0],
         "--news-port", ports[1], "--order-port", ports[2], "--confirm-port", ports[3],
         "--shm-name", shm], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        lines = []
        acked = re.compile(r"^\[\s*(fast|slow)\] .*: order \d+", re.M)
        while time.monotonic() < deadline:  # until each Strategy has an order acked
            lines.append(proc.stdout.readline())
            if {m.group(1) for m in acked.finditer("".join(lines))} == {"fast", "slow"}:
                break
        proc.send_signal(signal.SIGINT)
        out = "".join(lines) + proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, out[-3000:]
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert set(summary["accounts"]) == {"fast", "slow"}
    assert summary["orders_acked"] == summary["orders_logged"] > 0
    assert all(p["exitcode"] == 0 for p in summary["processes"].values()), summary["processes"]
    last = out.index("order_manager: stopping")  # the Strategies first, the OrderManager last
    assert out.index("fast: stopped") < last and out.index("slow: stopped") < last, out[-3000:]
    assert not segment_exists(shm), "shared memory left"
