"""Each server in a real spawned process, talked to by plain sockets (netcat-like clients)."""
import json
import re
import threading

import pytest

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.processes.gateway import run_gateway
from engine.processes.order_manager import run_order_manager
from engine.processes.orderbook import run_orderbook
from engine.protocol import Ack, Confirm
from engine.shm.price_book import SharedPriceBook
from engine.testing import read_jsonl, wait_until

from .helpers import connect, order_frame, read_frames

pytestmark = pytest.mark.slow
PRICE_RE = re.compile(rb"^[A-Z]{1,8},\d+\.\d{2}$")


@pytest.fixture
def controller(config):
    ctls = []

    def make(**targets):
        ctl = ProcessController(config, roster=Roster.from_targets(targets))
        ctls.append(ctl)
        return ctl
    yield make
    for ctl in ctls:
        ctl.close()


def wait_running(ctl, *names, timeout=20):
    wait_until(lambda: ctl.poll() is not None and all(ctl.status(n).state == State.RUNNING
                                                  for n in names),
             timeout, what=f"{names} running")


def test_price_port_sends_only_symbol_price_frames(config, controller):
    ctl = controller(gateway=run_gateway)
    ctl.start("gateway")
    wait_running(ctl, "gateway")
    a, b = connect(config.price_port), connect(config.price_port)
    fa, fb = read_frames(a, 50), read_frames(b, 50)
    assert all(PRICE_RE.match(f) for f in fa + fb), fa[:5]
    assert {f.split(b",")[0].decode() for f in fa} == set(config.symbols)
    # one walk shared by every client: both see the same prices for the same rounds
    common = set(fa) & set(fb)
    assert len(common) >= 10
    a.close(), b.close()


def test_news_port_sends_sentiment_0_to_100(config, controller):
    ctl = controller(gateway=run_gateway)
    ctl.start("gateway")
    wait_running(ctl, "gateway")
    s = connect(config.news_port)
    values = [int(f) for f in read_frames(s, 5)]
    assert all(0 <= v <= 100 for v in values)
    s.close()


def test_order_manager_acks_logs_prints_and_confirms(config, controller):
    ctl = controller(order_manager=run_order_manager)
    lines = []
    ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
    ctl.start("order_manager")
    wait_running(ctl, "order_manager")
    listener = connect(config.confirm_port)
    wait_until(lambda: ctl.poll() is not None
               and any("confirmations: client#1" in l for l in lines),
               what="confirm listener registered")
    s = connect(config.order_port)
    s.sendall(order_frame("nc-1-1", "BUY", "AAPL", 10, 173.2))
    ack = Ack.decode(read_frames(s, 1)[0])
    assert (ack.status, ack.order_id, ack.client_order_id) == ("accepted", 1, "nc-1-1")
    raw = read_frames(listener, 1)[0]  # a plain listener: live confirmations only
    assert json.loads(raw) == {"type": "confirm", "order_id": 1, "side": "BUY", "qty": 10,
                               "symbol": "AAPL", "price": 173.2,
                               "client_order_id": "nc-1-1", "account": "nc"}  # the docs' frame
    conf = Confirm.decode(raw)
    assert (conf.order_id, conf.side, conf.qty, conf.symbol, conf.price) == \
        (1, "BUY", 10, "AAPL", 173.2)
    wait_until(lambda: ctl.poll() is not None and
             "Received Order 1: BUY 10 AAPL @ 173.20" in lines, what="printed line")
    # resend: acknowledged again with the same id, never logged twice
    s.sendall(order_frame("nc-1-1"))
    ack = Ack.decode(read_frames(s, 1)[0])
    assert (ack.status, ack.order_id) == ("duplicate", 1)
    # bad orders: rejected with a reason, the connection stays usable
    s.sendall(order_frame("nc-1-2", side="HOLD") + b'{"type":"order"*' + b"not json*"
              + order_frame("nc-1-3", qty=-5) + order_frame("nc-1-4", symbol="ZZZZ")
              + order_frame("nc-1-5", "SELL", "MSFT", 5, 325.0))
    acks = [Ack.decode(f) for f in read_frames(s, 6)]
    assert [a.status for a in acks] == ["rejected"] * 5 + ["accepted"]
    assert all(a.reason for a in acks[:5])
    assert acks[0].client_order_id == "nc-1-2" and acks[1].client_order_id is None
    assert acks[5].order_id == 2
    s.close()
    # a listener that asks for the session (the desk does) gets it: totals, then the orders,
    # then the session's rejections (a plain listener, like `listener`, gets none of these)
    late = connect(config.confirm_port)
    late.sendall(b'{"type":"session"}*')
    frames = [json.loads(f) for f in read_frames(late, 8)]
    assert frames[0] == {"type": "state", "orders": 2, "positions": {"AAPL": 10, "MSFT": -5},
                         "fills": {"AAPL": 1, "MSFT": 1}, "replay": 2,
                         "pnl": {"AAPL": [173.2, 0], "MSFT": [325.0, 0]},
                         "accounts": {"nc": {"positions": {"AAPL": 10, "MSFT": -5},
                                             "fills": {"AAPL": 1, "MSFT": 1},
                                             "pnl": {"AAPL": [173.2, 0], "MSFT": [325.0, 0]}}}}
    assert [(f["order_id"], f["replay"]) for f in frames[1:3]] == [(1, True), (2, True)]
    assert all(isinstance(f["time"], float) for f in frames[1:3])
    refused = frames[3:]
    assert [f["type"] for f in refused] == ["rejected"] * 5 and all(f["replay"] for f in refused)
    assert [f["reason"] for f in refused] == [a.reason for a in acks[:5]]
    assert refused[2]["frame"] == "not json" and '"HOLD"' in refused[0]["frame"]
    # and from then on it hears of each rejection as it happens
    with connect(config.order_port) as bad:
        bad.sendall(order_frame("nc-1-6", symbol="QQQQ"))
        assert Ack.decode(read_frames(bad, 1)[0]).status == "rejected"
    live = json.loads(read_frames(late, 1)[0])
    assert live["type"] == "rejected" and "QQQQ" in live["reason"] and "replay" not in live
    late.close()
    assert b'"type":"rejected"' not in drained(listener, 0.3)
    listener.close()
    ctl.stop_and_wait("order_manager")
    records = read_jsonl(f"{config.log_dir}/orders.jsonl")
    assert [(r["order_id"], r["client_order_id"]) for r in records] == [(1, "nc-1-1"),
                                                                        (2, "nc-1-5")]
    st = ctl.status("order_manager").stats
    assert st.orders_logged == 2 and st.orders_rejected == 6 and \
        st.orders_duplicate == 1


def test_concurrent_clients_logged_and_acked_exactly(config, controller):
    ctl = controller(order_manager=run_order_manager)
    ctl.start("order_manager")
    wait_running(ctl, "order_manager")
    clients, per_client = 8, 200
    acked = [[] for _ in range(clients)]

    def client(k):
        s = connect(config.order_port)
        s.sendall(b"".join(order_frame(f"c{k}-x-{i}", "BUY" if i % 2 else "SELL", "MSFT", 1 + i,
                                       100.0 + i) for i in range(per_client)))
        acked[k] = [Ack.decode(f) for f in read_frames(s, per_client, timeout=30)]
        s.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    all_acks = [a for acks in acked for a in acks]
    assert len(all_acks) == clients * per_client
    assert all(a.status == "accepted" for a in all_acks)
    ids = sorted(a.order_id for a in all_acks)
    assert ids == list(range(1, clients * per_client + 1))
    ctl.stop_and_wait("order_manager")
    records = read_jsonl(f"{config.log_dir}/orders.jsonl")
    assert len(records) == clients * per_client
    assert len({r["client_order_id"] for r in records}) == len(records)
    assert [r["order_id"] for r in records] == list(range(1, len(records) + 1))


def test_orderbook_writes_shared_memory_and_resumes_after_gateway_restart(config, controller):
    ctl = controller(gateway=run_gateway, orderbook=run_orderbook)
    logs = []
    ctl.subscribe(lambda ev: logs.append((getattr(ev, "name", ""), getattr(ev, "text", ""))))
    ctl.start("gateway")
    ctl.start("orderbook")
    wait_running(ctl, "gateway", "orderbook")
    reader = SharedPriceBook.attach(config.shm_name)  # as another process would
    try:
        wait_until(lambda: all(reader.read(s) for s in config.symbols), what="all prices")
        ctl.stop_and_wait("gateway")
        assert ctl.status("gateway").state == State.STOPPED
        frozen = reader.update_counter
        ctl.start("gateway")
        wait_until(lambda: reader.update_counter > frozen + 20, what="prices flowing again")
        ctl.poll()
        ob_logs = [t for n, t in logs if n == "orderbook"]
        assert sum("lost gateway prices" in t for t in ob_logs) == 1  # logged once per outage
        assert any("reconnected to gateway prices" in t for t in ob_logs)
        assert ctl.status("orderbook").state == State.RUNNING
    finally:
        reader.close()
    ctl.stop_and_wait("gateway")
    ctl.stop_and_wait("orderbook")
    assert ctl.totals("gateway").ticks_sent == ctl.totals("orderbook").ticks_applied


def test_port_in_use_is_one_clear_line(config, controller):
    import socket
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", config.price_port))
    blocker.listen()
    try:
        ctl = controller(gateway=run_gateway)
        logs = []
        ctl.subscribe(lambda ev: logs.append(getattr(ev, "text", "")))
        ctl.start("gateway")
        wait_until(lambda: ctl.poll() is not None and ctl.status("gateway").state == "crashed",
                 what="gateway exits")
        assert ctl.status("gateway").exitcode == 2
        assert any(f"port {config.price_port} (prices) is already in use" in l
                   and "--price-port" in l for l in logs)
        assert not any("Traceback" in l for l in logs)
    finally:
        blocker.close()


def test_csv_replay(config, controller):
    from tests.support import ROOT
    csv_path = ROOT / "data" / "sample_prices.csv"
    ctl = controller(gateway=run_gateway)
    import dataclasses
    ctl.config = dataclasses.replace(config, prices_csv=str(csv_path))
    ctl.start("gateway")
    wait_running(ctl, "gateway")
    s = connect(config.price_port)
    frames = read_frames(s, 10)
    s.close()
    rows = csv_path.read_text().splitlines()[1:11]
    assert frames == [(r.split(",")[1] + "," + r.split(",")[2]).encode() for r in rows]


def test_a_process_opens_all_its_servers_or_none():
    """The second port taken: the first server is closed again (its port free at once) and
    the PortInUse names the second."""
    import logging
    import socket

    from engine.net.loop import EventLoop
    from engine.net.ports import PortInUse
    from engine.net.server import open_servers
    from engine.testing import free_ports
    first, second = free_ports(2)
    busy = socket.socket()
    busy.bind(("127.0.0.1", second))
    busy.listen(1)
    loop = EventLoop()
    try:
        with pytest.raises(PortInUse) as exc:
            open_servers(loop, logging.getLogger("test"), "127.0.0.1",
                         [(first, "prices", {}), (second, "news", {})])
        assert f"port {second} (news)" in str(exc.value)
        again = socket.socket()
        again.bind(("127.0.0.1", first))  # closed, not leaked
        again.close()
    finally:
        busy.close()
        loop.close()


def drained(sock, seconds: float) -> bytes:
    """Whatever the socket receives within `seconds`."""
    import socket
    sock.settimeout(seconds)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data
