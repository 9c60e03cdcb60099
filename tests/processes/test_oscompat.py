"""What differs between Windows, macOS and Linux: each per-platform rule, tested on this
machine by naming the platform or by simulating what that platform does."""
from __future__ import annotations

import errno
import io
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from engine.config.flags import parse_args
from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.net import client, ports
from engine.platforms.oscompat import console_safe, exit_text
from engine.platforms.paths import data_dir
from engine.trading.market import CsvReplay
from tests.support import ROOT


# -- where files go ---------------------------------------------------------------------------
def test_per_user_data_folder_on_each_platform(tmp_path, monkeypatch):
    """The folder each OS's convention gives (platformdirs), the same as before it was used:
    each platform's rules, driven by the environment they read."""
    home = tmp_path / "home"
    monkeypatch.delenv("IPCDESK_DATA", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))  # what expanduser reads on Windows
    if sys.platform == "win32":  # the known folder itself, which %LOCALAPPDATA% names
        local = Path(os.environ["LOCALAPPDATA"])
    else:  # elsewhere the known folder is given as platformdirs lets a test give it
        local = Path(r"C:\Users\Łukasz\AppData\Local")
        monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", str(local))
    assert data_dir("win32") == local / "IPC Trading Desk"
    assert data_dir("darwin") == home / "Library/Application Support/IPC Trading Desk"
    assert data_dir("linux") == home / ".local/state/ipc-trading-desk"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "x"))
    assert data_dir("linux") == tmp_path / "x/ipc-trading-desk"
    monkeypatch.setenv("IPCDESK_DATA", str(tmp_path / "mine"))
    assert data_dir("linux") == data_dir("win32") == tmp_path / "mine"


def test_logs_never_go_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("IPCDESK_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert Path(Config().log_dir) == tmp_path / "data" / "logs"
    # a folder the user names is taken relative to where they typed it, once and for all
    cfg, _ = parse_args(["--log-dir", "mine", "--prices-csv", "p.csv"])
    monkeypatch.chdir(ROOT)
    assert Path(cfg.log_dir) == tmp_path / "mine" and Path(cfg.prices_csv) == tmp_path / "p.csv"


# -- consoles ---------------------------------------------------------------------------------
def test_a_cp1252_console_gets_escapes_not_an_exception():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    with pytest.raises(UnicodeEncodeError):
        print('side "\u2192BUY" from C:\\Users\\\u0141ukasz', file=stream, flush=True)
    console_safe(stream)
    print('side "\u2192BUY" from C:\\Users\\\u0141ukasz', file=stream, flush=True)
    assert raw.getvalue().decode("cp1252") == \
        'side "\\u2192BUY" from C:\\Users\\\\u0141ukasz\n'



def test_exit_codes_read_the_same_everywhere():
    assert exit_text(1) == "exit 1"
    assert exit_text(-9) == "SIGKILL"
    assert exit_text(-15, killed=True, platform="linux") == "killed (SIGKILL)"
    # Windows: kill() is TerminateProcess, which multiprocessing reports as -SIGTERM
    assert exit_text(-15, killed=True, platform="win32") == "killed (TerminateProcess)"
    # native crashes come as NTSTATUS codes, unsigned or (from some APIs) signed
    assert exit_text(3221225477) == "0xC0000005 access violation"
    assert exit_text(-1073741819 & 0xFFFFFFFF) == "0xC0000005 access violation"
    assert exit_text(0xC0000409) == "0xC0000409 stack buffer overrun"


def test_the_controller_names_a_kill_as_a_kill(config):
    with ProcessController(config) as ctl:
        ctl.start("order_manager")
        deadline = time.monotonic() + 30
        while ctl.status("order_manager").state != "running":
            assert time.monotonic() < deadline
            ctl.poll(0.05)
        events = []
        ctl.subscribe(events.append)
        ctl.kill("order_manager")
        while ctl.status("order_manager").state != "crashed":
            assert time.monotonic() < deadline
            ctl.poll(0.05)
        detail = [e.detail for e in events if getattr(e, "state", "") == "crashed"]
        assert detail and detail[0].startswith("killed (")


def test_poll_survives_an_interrupted_wait(config, monkeypatch):
    """Windows: multiprocessing.connection.wait raises InterruptedError when Ctrl+C arrives;
    the controller's poll (and so the headless loop) must go on to the ordered stop."""
    with ProcessController(config) as ctl:
        ctl.start("order_manager")

        def interrupted(*args, **kwargs):
            raise InterruptedError(4, "Interrupted function call")
        monkeypatch.setattr(multiprocessing.connection, "wait", interrupted)
        ctl._drain = lambda limit=5000: 0  # nothing queued: poll waits, and is interrupted
        assert ctl.poll(0.05) == 0
        monkeypatch.undo()
        del ctl._drain


# -- sockets ----------------------------------------------------------------------------------
def test_localhost_means_ipv4_loopback_for_servers_and_clients():
    cfg = Config(host="localhost")
    assert cfg.connect_host == cfg.bind_host == "127.0.0.1"
    assert client.connect_timeout("127.0.0.1") == client.CONNECT_TIMEOUT_LOCAL <= 0.25
    assert client.connect_timeout("10.0.0.5") == client.CONNECT_TIMEOUT_REMOTE


def test_a_reserved_port_gets_the_port_hint(monkeypatch):
    """Windows refuses a port inside a Hyper-V/WSL excluded range with WSAEACCES."""
    real = socket.socket

    class Refusing(real):
        def bind(self, address):
            err = OSError(errno.EACCES, "An attempt was made to access a socket in a way "
                                        "forbidden by its access permissions")
            err.winerror = 10013
            raise err

    monkeypatch.setattr(ports.socket, "socket", Refusing)
    with pytest.raises(ports.PortInUse) as exc:
        ports.listen("127.0.0.1", 5003, "orders")
    assert "port 5003 (orders) cannot be used" in str(exc.value)
    assert "--order-port" in str(exc.value)


def test_a_restarted_server_is_reached_soon_even_when_connects_hang():
    """On Windows a refused connect to this machine takes ~2 s. Simulated here by a listener
    whose backlog is full (the kernel drops the SYN, so connect() hangs): with the short
    local connect timeout the client still reaches the restarted server within 1 s."""
    clog = socket.socket()
    clog.bind(("127.0.0.1", 0))
    clog.listen(0)
    port = clog.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the backlog: later SYNs are dropped
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.2)
    stop = threading.Event()
    outage = client.Outage(logging.getLogger("test"), "server")
    got, when = [], []

    def reach():
        sock = client.connect("127.0.0.1", port, stop, outage)
        when.append(time.monotonic())
        got.append(sock)

    t = threading.Thread(target=reach, daemon=True)
    t.start()
    time.sleep(1.5)  # the client is stuck in hanging connects
    assert not got
    for s in fillers:
        s.close()
    clog.close()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    back = time.monotonic()
    t.join(5)
    stop.set()
    try:
        assert got and got[0] is not None
        assert when[0] - back < 1.0, when[0] - back
        assert outage.outages == 1  # logged once, not once per try
    finally:
        if got and got[0] is not None:
            got[0].close()
        server.close()


# -- files ------------------------------------------------------------------------------------
def test_a_csv_saved_by_excel_keeps_its_header(tmp_path, caplog):
    path = tmp_path / "prices.csv"
    path.write_bytes(b"\xef\xbb\xbftimestamp,symbol,price\r\n1,AAPL,170.5\r\n1,MSFT,320\r\n"
                     b"2,AAPL,171\r\n")
    with caplog.at_level(logging.INFO):
        replay = CsvReplay(str(path), ["AAPL", "MSFT"], logging.getLogger("csv"))
    assert len(replay.rounds) == 2
    assert "skipped" not in caplog.text  # the BOM no longer hides the header row


def test_replacing_a_stale_segment_prints_no_resource_tracker_traceback(tmp_path, shm_name):
    """Python 3.10-3.12: unlinking a segment the process never registered made the resource
    tracker print a KeyError traceback at exit."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    make_stale = textwrap.dedent(f"""
        from multiprocessing import resource_tracker
        from engine.shm.price_book import SharedPriceBook
        from engine.shm.segment import H_OWNER
        book = SharedPriceBook(["AAPL"], name={shm_name!r})
        book._h[H_OWNER] = {dead}  # its owner is gone
        resource_tracker.unregister(book._shm._name, "shared_memory")  # left behind
        book.close()
    """)
    replace = textwrap.dedent(f"""
        from engine.shm.price_book import SharedPriceBook
        book = SharedPriceBook(["AAPL", "MSFT"], name={shm_name!r})
        assert book.replaced_stale
        book.close(); book.unlink()
    """)
    for code in (make_stale, replace):
        res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr and "KeyError" not in res.stderr, res.stderr


def test_clients_retry_with_a_backoff_capped_at_half_a_second(monkeypatch):
    """The README: clients retry until their server is there, backing off to at most 0.5 s
    between tries, and log one line per outage, not one per try."""
    tries = []

    def refused(address, timeout=None):
        tries.append(time.monotonic())
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(client.socket, "create_connection", refused)
    stop = threading.Event()
    log = logging.getLogger("test-backoff")
    outage = client.Outage(log, "server")
    t = threading.Thread(target=client.connect, args=("127.0.0.1", 9, stop, outage), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while len(tries) < 10 and time.monotonic() < deadline:  # about 3 s of retries
        stop.wait(0.05)
    stop.set()
    t.join(2)
    gaps = [b - a for a, b in zip(tries, tries[1:])]
    assert client.BACKOFF_CAP == 0.5
    assert gaps[0] < 0.05 and max(gaps) <= client.BACKOFF_CAP + 0.05
    assert sum(1 for g in gaps if g > 0.45) >= 2  # it got to the cap and stayed there
    assert outage.outages == 1


def test_an_outage_says_each_kind_of_failure_once(caplog):
    """Refused while the server starts, then a certificate the client does not trust: both
    reasons are said, each once, however many retries fail."""
    import ssl
    log = logging.getLogger("test-outage-kinds")
    outage = client.Outage(log, "order manager")
    refused = ConnectionRefusedError(111, "Connection refused")
    distrust = ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get "
                                               "local issuer certificate")
    with caplog.at_level(logging.WARNING, logger="test-outage-kinds"):
        for exc in [refused] * 3 + [distrust] * 5 + [refused] * 2:
            outage.failed(exc)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and outage.outages == 1
    assert lines[0].startswith("cannot reach order manager (Connection refused)")
    assert lines[1].startswith("still cannot reach order manager") and \
        "certificate verify failed" in lines[1]
