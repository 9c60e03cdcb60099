"""The whole stack: headless launcher, and each process alone in its own 'terminal'."""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.control.controller import ProcessController
from engine.control.summary import run_summary
from engine.processes.orderbook import run_orderbook
from engine.processes.reports import Reporter
from engine.shm.price_book import SharedPriceBook
from engine.shm.segment import segment_exists
from engine.testing import read_jsonl, wait_until
from tests.support import ROOT

pytestmark = pytest.mark.slow


def flags(config, **extra):
    args = ["--price-port", config.price_port, "--news-port", config.news_port,
            "--order-port", config.order_port, "--confirm-port", config.confirm_port,
            "--shm-name", config.shm_name, "--log-dir", config.log_dir, "--seed", 3]
    # a fast, eager market so that orders come within a couple of seconds
    fast = {"--tick-interval": 0.02, "--news-interval": 0.1, "--short-window": 2,
            "--long-window": 4, "--bullish": 50, "--bearish": 50}
    fast.update(extra)
    for k, v in fast.items():
        args += [k, v]
    return [str(a) for a in args]


def test_headless_run_produces_acked_logged_orders(config, tmp_path):
    summary = tmp_path / "s.json"
    res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--headless",
                          "--duration", "4", "--summary", str(summary)] + flags(config),
                         capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    s = json.loads(summary.read_text())
    for key in ("ticks_sent", "ticks_applied", "bad_frames", "news_sent", "orders_sent",
                "orders_acked", "orders_logged", "latency_us", "shm_bytes", "processes"):
        assert key in s
    assert s["ticks_applied"] > 0 and s["ticks_applied"] == s["ticks_sent"]
    assert s["orders_logged"] >= 1
    assert s["orders_logged"] == s["orders_acked"] == s["orders_sent"]
    assert s["bad_frames"] == 0
    assert s["shm_bytes"] == 288 + 328
    for name in ("gateway", "orderbook", "strategy", "order_manager"):
        assert s["processes"][name]["exitcode"] == 0
    for kind in ("tick_to_decision", "tick_to_ack"):
        lat = s["latency_us"][kind]
        assert lat["count"] > 0 and 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    # every process's lines, prefixed with its name, and the OrderManager's exact line
    out = res.stdout
    for name in ("gateway", "orderbook", "strategy", "order_manager"):
        assert f"] {name} started" in out
    assert "] Received Order 1: " in out
    session = Path(s["session"])  # the run's own folder under --log-dir
    assert session.parent == Path(config.log_dir) and (session / "summary.json").is_file()
    assert len(read_jsonl(session / "orders.jsonl")) == s["orders_logged"]
    assert s["pnl"]["method"] == "average cost" and set(s["pnl"]) >= {"realized", "total"}
    assert not segment_exists(config.shm_name)
    assert not segment_exists(config.signal_shm_name)


def test_two_headless_runs_in_a_row_are_two_sessions(config, tmp_path):
    """Each run numbers its orders from 1 and starts flat, in a folder of its own; `latest`
    names the second; each session's summary.json carries its P&L from its own order log."""
    eager = ["--bullish", "50", "--bearish", "50", "--short-window", "2", "--long-window", "4",
             "--tick-interval", "0.02", "--news-interval", "0.1"]
    sessions = []
    for _ in range(2):
        res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--headless",
                              "--duration", "4"] + flags(config) + eager,
                             capture_output=True, text=True, timeout=90, cwd=tmp_path)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        sessions.append(Path(res.stdout.split("] session ", 1)[1].splitlines()[0]))
    first, second = sessions
    assert first != second and first.parent == second.parent == Path(config.log_dir)
    assert (Path(config.log_dir) / "latest.txt").read_text(encoding="utf-8").strip() == \
        second.name
    for folder in sessions:
        orders = read_jsonl(folder / "orders.jsonl")
        assert orders and [o["order_id"] for o in orders] == list(range(1, len(orders) + 1))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["orders_logged"] == len(orders) and summary["session"] == str(folder)
        assert summary["pnl"]["symbols"], "the orders have a P&L"
    strategy_log = (second / "strategy.log").read_text(encoding="utf-8")
    assert "positions recovered from the order manager: all flat" in strategy_log


def _start(module, config, tmp_path):
    log = open(tmp_path / f"{module}.out", "w+")
    kwargs = {}
    if os.name == "nt":  # pragma: no cover
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    p = subprocess.Popen([sys.executable, "-m", f"engine.{module}"] + flags(config),
                         stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, **kwargs)
    return p, log


def test_each_process_in_its_own_terminal_any_order(config, tmp_path):
    """Started in reverse order (clients before servers), one interpreter each; Ctrl+C
    (SIGINT) stops each cleanly; the standalone OrderBook owns and removes its segment."""
    procs = {}
    try:
        for module in ("strategy", "orderbook", "order_manager", "gateway"):
            procs[module] = _start(module, config, tmp_path)
            time.sleep(0.3)  # really out of order: clients retry before servers exist
        orders = tmp_path / "logs" / "orders.jsonl"
        wait_until(lambda: orders.exists() and read_jsonl(orders), timeout=30,
                 what="an order logged")
        om_out = (tmp_path / "order_manager.out")
        wait_until(lambda: "Received Order 1: " in om_out.read_text(), what="printed order line")
        line = [l for l in om_out.read_text().splitlines() if l.startswith("Received Order 1:")]
        rec = read_jsonl(orders)[0]
        assert line[0] == (f"Received Order 1: {rec['side']} {rec['qty']} {rec['symbol']} "
                           f"@ {rec['price']:.2f}")
    finally:
        for module in ("strategy", "gateway", "orderbook", "order_manager"):
            if module in procs:
                p, _ = procs[module]
                p.send_signal(signal.SIGINT if os.name != "nt" else signal.CTRL_BREAK_EVENT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    for module, (p, log) in procs.items():
        log.seek(0)
        text = log.read()
        log.close()
        assert p.returncode == 0, f"{module}: {text[-2000:]}"
        assert "Traceback" not in text, f"{module}: {text[-2000:]}"
    assert not segment_exists(config.shm_name)
    assert not segment_exists(config.signal_shm_name)


def fake_gateway(chunks, ready):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    ready.append(srv.getsockname()[1])

    def serve():
        conn, _ = srv.accept()
        for c in chunks:
            conn.sendall(c)
            time.sleep(0.01)
        ready.append("sent")
        try:
            conn.recv(1)  # hold the connection until the client leaves
        except OSError:
            pass
        conn.close()
        srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_orderbook_rejects_bad_frames_and_keeps_good_ones(config):
    chunks = [b"AAPL,100.00*\xff\xfe*AAPL,nan*AAPL,-3*ZZZZ,1.00*MSFT,1", b"01.50*",
              b"A" * 200_000, b"*GOOG,inf*GOOG,0*TSLA,abc*,5*AAPL,101.25*", b"x" * 10]
    ready = []
    t = fake_gateway(chunks, ready)
    wait_until(lambda: ready, what="fake gateway")
    cfg = config.replace(price_port=ready[0])
    book = SharedPriceBook(cfg.symbols, name=cfg.shm_name)
    stop = threading.Event()
    events = queue.Queue()
    runner = threading.Thread(target=run_orderbook, args=(cfg, stop),
                              kwargs={"reporter": Reporter(events, "orderbook")})
    runner.start()
    try:
        wait_until(lambda: "sent" in ready and book.read("AAPL") == 101.25, what="good frames")
        assert book.read("MSFT") == 101.5
        assert book.read_row("AAPL").seq == 2
        assert book.update_counter == 3
        assert book.read("GOOG") is None and book.read("TSLA") is None
    finally:
        stop.set()
        runner.join(10)
        t.join(5)
        book.close()
        book.unlink()
    assert not runner.is_alive()
    stats = [m[2] for m in list(events.queue) if m[0] == "stats"][-1]
    # \xff\xfe, nan, -3, unknown ZZZZ, the 200 kB frame, inf, 0, abc, ",5"
    assert stats.bad_frames == 9
    assert stats.ticks_applied == 3


def test_strategy_resends_unacknowledged_orders_after_order_manager_restart(config):
    cfg = config.replace(short_window=2, long_window=4, bullish=50, bearish=50,
                         news_interval=0.1, tick_interval=0.02)
    ctl = ProcessController(cfg)
    try:
        ctl.start_all()
        wait_until(lambda: ctl.poll() is not None and
                 ctl.status("order_manager").stats.orders_logged >= 2,
                 timeout=30, what="first orders", logs=cfg.log_dir)
        ctl.stop_and_wait("order_manager")
        wait_until(lambda: ctl.poll() is not None and
                 ctl.status("strategy").stats.orders_pending >= 2,
                 timeout=30, what="orders waiting while the OrderManager is down", logs=cfg.log_dir)
        ctl.start("order_manager")
        wait_until(lambda: ctl.poll() is not None and
                 ctl.status("strategy").stats.orders_resent >= 2 and
                 ctl.status("strategy").stats.orders_pending == 0,
                 timeout=30, what="resent orders acknowledged", logs=cfg.log_dir)
        ctl.stop_all_and_wait()
        s = run_summary(ctl)
    finally:
        ctl.close()
    records = read_jsonl(f"{cfg.log_dir}/orders.jsonl")
    coids = [r["client_order_id"] for r in records]
    assert len(coids) == len(set(coids)), "an order was logged twice"
    assert s["orders_acked"] == s["orders_sent"] == len(records) == s["orders_logged"]
    # numbering went on from the log after the restart
    assert [r["order_id"] for r in records] == list(range(1, len(records) + 1))
    # the Strategy logs each order once its fate is known, with why it was sent; an order
    # made while the OrderManager was down is also logged as waiting
    import re
    log = Path(cfg.log_dir, "strategy.log").read_text(encoding="utf-8")
    acked = re.findall(r"\(short [\d.]+ [<>] long [\d.]+, sentiment \d+\) -> \w+: "
                       r"order \d+( \(resent\))?, \d+ us after the tick", log)
    assert len(acked) == s["orders_acked"], log[-2000:]
    assert "waiting for the order manager" in log
    assert "sentiment None" not in log and "long 0.000" not in log


def test_headless_with_a_port_in_use_says_so_and_ends_with_exit_code_1(config, tmp_path):
    """The README: a port in use is one line naming it and its flag; that process exits with
    code 2 (its row or line says crashed (exit 2)), the others keep running, and a headless
    run ends with exit code 1."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", config.price_port))
    blocker.listen()
    try:
        res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--headless",
                              "--duration", "3"] + flags(config), capture_output=True,
                             text=True, timeout=90, cwd=tmp_path)
    finally:
        blocker.close()
    out = res.stdout
    assert res.returncode == 1, out[-2000:]
    line = [l for l in out.splitlines() if "is already in use" in l]
    assert len(line) == 1 and f"port {config.price_port} (prices)" in line[0] \
        and "--price-port" in line[0], out[-2000:]
    assert "gateway: crashed (exit 2)" in out
    assert "order_manager: running" in out and "Traceback" not in out + res.stderr
