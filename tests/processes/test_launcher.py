"""launcher.py says in plain words why the window cannot open, before Qt would abort."""
import os
import subprocess
import sys

import pytest

from gui import launch as launcher
from tests.support import ROOT


def _ok():
    return None


def _missing():
    raise OSError("libxcb-icccm.so.4: cannot open shared object file: No such file or directory")


def test_no_display_on_linux():
    text = launcher.display_problem({}, "linux", _ok)
    assert "no display" in text and "--headless" in text and "Xvfb" in text


def test_missing_x11_library_is_named_with_the_install_command():
    text = launcher.display_problem({"DISPLAY": ":0"}, "linux", _missing)
    assert "libxcb-icccm.so.4" in text and "apt-get install" in text and "libxcb-icccm4" in text
    assert "dnf install" in text and "--headless" in text


def test_nothing_in_the_way():
    assert launcher.display_problem({"DISPLAY": ":0"}, "linux", _ok) == ""
    # Windows and macOS have their own platform plugin; a chosen platform is the user's call
    assert launcher.display_problem({}, "win32", _missing) == ""
    assert launcher.display_problem({}, "darwin", _missing) == ""
    assert launcher.display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", _missing) == ""
    # a Wayland session uses Qt's Wayland plugin, not the X11 one
    assert launcher.display_problem({"WAYLAND_DISPLAY": "wayland-0",
                                     "XDG_SESSION_TYPE": "wayland"}, "linux", _missing) == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="Windows and macOS always have a display for Qt")
def test_launcher_without_a_display_exits_with_the_message():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    res = subprocess.run([sys.executable, str(ROOT / "launcher.py")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "no display" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("name", ["launcher.py", "launcher.pyw"])
def test_double_click_launchers_run_from_any_folder(tmp_path, name):
    """launcher.pyw (Windows, no console) and launcher.py start from whatever folder a
    double click gives them and write nothing there."""
    res = subprocess.run([sys.executable, str(ROOT / name), "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "--headless" in res.stdout and "--log-dir" in res.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="a macOS Finder launcher (sh)")
def test_macos_command_file_is_executable_and_starts_the_launcher(tmp_path):
    cmd = ROOT / "launcher.command"
    assert os.access(cmd, os.X_OK)
    # the python3 it finds is this test's Python (the one with the requirements installed)
    shims = tmp_path / "bin"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{shims}{os.pathsep}{os.environ.get('PATH', '')}")
    res = subprocess.run(["sh", str(cmd), "--help"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env=env)
    assert res.returncode == 0 and "--headless" in res.stdout, res.stderr
