"""`python -m pip install .` gives a working install: the dependencies are the tested pins
of requirements.txt, every command named in pyproject.toml exists, and a wheel built from
the checkout runs its commands from another folder, importing only what it installed."""
import importlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT


def project():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and later")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def requirement_lines(section: str):
    """The pins of one '# Runtime' / '# Tests' block of requirements.txt, comments dropped."""
    out, current = [], None
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            current = line.strip("# ").lower()
            continue
        pin = line.split("  #")[0].strip()
        if pin and current == section:
            out.append(re.sub(r"\s*;\s*", "; ", pin).replace("'", '"'))
    return out


def test_dependencies_are_the_pins_of_requirements_txt():
    deps = [d.replace("'", '"') for d in project()["dependencies"]]
    assert deps == requirement_lines("runtime")
    assert project()["optional-dependencies"]["test"] == requirement_lines("tests")


def test_every_command_points_at_a_main():
    scripts = project()["scripts"]
    assert {"ipcdesk", "ipcdesk-headless", "ipcdesk-gateway", "ipcdesk-orderbook",
            "ipcdesk-strategy", "ipcdesk-order-manager", "ipcdesk-bench",
            "ipcdesk-drill", "ipcdesk-check"} <= set(scripts)
    for name, target in scripts.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name


OFFLINE = ("Could not find a version that satisfies", "No matching distribution",
           "Failed to establish a new connection", "Temporary failure in name resolution")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_pip_install_into_a_fresh_venv_runs_from_another_folder(tmp_path):
    """`python -m pip install .` into a fresh venv (its own build of setuptools, as on a
    user's machine); the runtime libraries come from this environment so that the test
    does not download PySide6 again. The commands run from a folder that is not the
    checkout and write nothing there."""
    import venv
    env_dir, elsewhere, data = tmp_path / "venv", tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    exe = ".exe" if os.name == "nt" else ""
    python = bindir / f"python{exe}"
    import shutil  # a copy: building writes *.egg-info next to the sources
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ci-venv", "__pycache__", ".hypothesis", ".pytest_cache",
        ".ruff_cache", "*.egg-info", "build", "logs"))
    res = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q",
                          "install", "--no-deps", str(src)],
                         cwd=elsewhere, capture_output=True, text=True, timeout=240)
    if res.returncode and any(s in res.stderr for s in OFFLINE):
        pytest.skip("no package index reachable to build the wheel: " + res.stderr[-300:])
    assert res.returncode == 0, res.stderr[-3000:]
    import sysconfig
    env = {**os.environ, "IPCDESK_DATA": str(data),
           "PYTHONPATH": sysconfig.get_paths()["purelib"]}  # numpy, PySide6, pyqtgraph
    code = ("import engine, gui; print(engine.__file__); "
            "from engine.platforms.paths import checkout_root; print(checkout_root())")
    out = subprocess.run([str(python), "-c", code], env=env, cwd=elsewhere,
                         capture_output=True, text=True, check=True).stdout.split()
    assert Path(out[0]).is_relative_to(env_dir), "the installed copy, not the checkout"
    assert out[1] == "None", "an install is not a checkout: outputs go to the data folder"
    from engine.testing import free_ports, unique_shm_name
    ports = [str(p) for p in free_ports(4)]
    res = subprocess.run(
        [str(bindir / f"ipcdesk-headless{exe}"), "--duration", "3",
         "--price-port", ports[0], "--news-port", ports[1], "--order-port", ports[2],
         "--confirm-port", ports[3], "--shm-name", unique_shm_name("ipcpip"),
         "--summary", str(tmp_path / "summary.json")],
        env=env, cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "ticks sent" in res.stdout and (tmp_path / "summary.json").is_file()
    help_text = subprocess.run([str(bindir / f"ipcdesk{exe}"), "--help"], env=env,
                               cwd=elsewhere, capture_output=True, text=True,
                               timeout=60).stdout
    assert help_text.startswith("usage: ipcdesk")
    assert not any(elsewhere.iterdir()), "nothing written to the working directory"
    assert (data / "logs" / "latest.txt").is_file(), "the run was a session of the data folder"
    session = data / "logs" / (data / "logs" / "latest.txt").read_text(encoding="utf-8").strip()
    assert (session / "orders.jsonl").is_file() and (session / "summary.json").is_file()
