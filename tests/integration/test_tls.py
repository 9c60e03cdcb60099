"""TLS on this machine's loopback: the whole stack with certificates from `python -m
engine.net.tls lab`, orders flowing; a plain-text client, a client that trusts another CA and a
client with the wrong token are refused and counted. (tests/integration/test_netns.py does
the same across two network namespaces.)"""
from __future__ import annotations

import shutil
import socket
import ssl

import pytest

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.net.tls import make_lab
from engine.testing import wait_until

from .helpers import order_frame, read_frames

pytestmark = pytest.mark.slow
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None,
                                   reason="the openssl command makes the test certificates")


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificates")
    root = tmp_path_factory.mktemp("labs")
    return make_lab(root / "lab", ["127.0.0.1"]), make_lab(root / "other", ["127.0.0.1"])


def tls_config(config, lab):
    return config.replace(auth_token="t0ken-tls", tls_cert=str(lab["cert"]),
                          tls_key=str(lab["key"]), tls_ca=str(lab["ca"]), tick_interval=0.02,
                          news_interval=0.1, short_window=2, long_window=4, bullish=50,
                          bearish=50)


def tls_client(port, ca):
    ctx = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def closed(sock) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1 << 16) == b""
    except (ConnectionError, ssl.SSLError):
        return True


@needs_openssl
def test_orders_flow_over_tls_and_strangers_are_refused(config, labs):
    lab, other = labs
    cfg = tls_config(config, lab)
    ctl = ProcessController(cfg)
    try:
        ctl.start_all()
        wait_until(lambda: ctl.poll() is not None and
                 ctl.status("strategy").stats is not None and
                 ctl.status("strategy").stats.orders_acked >= 2, 40,
                 what="orders acknowledged over TLS", logs=cfg.log_dir)
        # plain text where TLS is spoken: the handshake fails, no ack, counted
        plain = socket.create_connection(("127.0.0.1", cfg.order_port), timeout=5)
        plain.sendall(b"AUTH t0ken-tls*" + order_frame("plain-1"))
        assert closed(plain)
        plain.close()
        # a client that trusts another CA will not talk to this server
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_client(cfg.order_port, other["ca"])
        # the right CA and the wrong token: refused inside TLS
        wrong = tls_client(cfg.order_port, lab["ca"])
        wrong.sendall(b"AUTH wrong*" + order_frame("wrong-1"))
        assert closed(wrong)
        wrong.close()
        # the right CA and the token: served
        good = tls_client(cfg.price_port, lab["ca"])
        good.sendall(b"AUTH t0ken-tls*")
        assert len(read_frames(good, 5)) == 5
        good.close()
        wait_until(lambda: ctl.poll() is not None and
                 ctl.status("order_manager").stats.refused_tls >= 2 and
                 ctl.status("order_manager").stats.refused_auth >= 1, 10,
                 what="the refusals counted")
        assert ctl.status("gateway").state == State.RUNNING
    finally:
        ctl.close()


@needs_openssl
def test_a_client_given_another_ca_keeps_retrying_and_says_why(config, labs):
    lab, other = labs
    cfg = tls_config(config, lab)
    from engine.processes.gateway import run_gateway
    from engine.processes.orderbook import run_orderbook
    ctl = ProcessController(cfg.replace(tls_ca=str(other["ca"])),
                            roster=Roster.from_targets({"gateway": run_gateway,
                                                        "orderbook": run_orderbook}))
    lines = []
    ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
    try:
        # the OrderBook first: refused while the Gateway is not there yet, then distrusted
        # once it is; the outage is one, and each reason is said
        ctl.start("orderbook")
        wait_until(lambda: ctl.poll() is not None and
                 any("cannot reach gateway prices" in line for line in lines), 20,
                 what="the OrderBook finding no Gateway yet")
        ctl.start("gateway")
        wait_until(lambda: ctl.poll() is not None and
                 any("certificate verify failed" in line for line in lines), 20,
                 what="the OrderBook saying why it cannot connect")
        assert ctl.status("orderbook").state == State.RUNNING  # it retries, it does not die
        assert sum("certificate verify failed" in line for line in lines) == 1  # said once
    finally:
        ctl.close()
