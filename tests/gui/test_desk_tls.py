"""The desk over TLS: its confirmations listener is a QSslSocket that trusts --tls-ca, and it
shows the OrderManager's session and orders as over plain TCP."""
from __future__ import annotations

import shutil

import pytest

from engine.control.roster import Roster
from engine.net.tls import make_lab

pytestmark = pytest.mark.slow
START_MS = 40_000


@pytest.mark.skipif(shutil.which("openssl") is None,
                    reason="the openssl command makes the test certificates")
def test_the_desk_shows_orders_confirmed_over_tls(qtbot, make_desk, fast_config, tmp_path):
    from PySide6.QtNetwork import QSslSocket
    if not QSslSocket.supportsSsl():
        pytest.skip("Qt finds no TLS library here")
    lab = make_lab(tmp_path / "lab", ["127.0.0.1"])
    cfg = fast_config.replace(auth_token="t0ken-desk", tls_cert=str(lab["cert"]),
                              tls_key=str(lab["key"]), tls_ca=str(lab["ca"]))
    adapter, window = make_desk(cfg)
    assert isinstance(window.listener.sock, QSslSocket)
    window.process_panel.start_all.click()
    qtbot.waitUntil(lambda: window.listener.connected and window.session.orders >= 2,
                    timeout=START_MS)
    assert window.listener.sock.isEncrypted()
    assert adapter.controller.status("order_manager").stats.refused_tls == 0


def test_a_desk_with_remote_servers_starts_only_its_own(qtbot, make_desk, fast_config):
    """--remote gateway,order_manager: the Processes panel shows them as remote without a
    button, Start all starts the OrderBook and the Strategy only, and the desk shows the
    orders of the OrderManager that runs elsewhere (here: under a controller of its own, on
    the same ports, as another machine would)."""
    from engine.control.controller import ProcessController
    from engine.control.lifecycle import State
    from engine.processes.gateway import run_gateway
    from engine.processes.order_manager import run_order_manager
    # the other machine's books are its own (here: another shared-memory name)
    there = fast_config.replace(shm_name=fast_config.shm_name[:20] + "x")
    elsewhere = ProcessController(there, roster=Roster.from_targets({"gateway": run_gateway,
                                                  "order_manager": run_order_manager}))
    try:
        elsewhere.start_all()
        adapter, window = make_desk(fast_config.replace(remote="gateway,order_manager"))
        panel = window.process_panel
        assert set(panel.rows) == {"orderbook", "strategy"}
        assert set(panel.remote) == {"gateway", "order_manager"}
        assert "remote" in panel.remote["gateway"].text()
        assert "remote" in window.log_view.text("gateway")
        panel.start_all.click()
        qtbot.waitUntil(lambda: window.session.orders >= 2, timeout=START_MS)
        assert set(adapter.controller.procs) == {"orderbook", "strategy"}
        assert panel.state_of("strategy") == State.RUNNING
        assert "2 of 2 running" in panel.summary.text() and "2 remote" in panel.summary.text()
    finally:
        elsewhere.stop_all_and_wait()
        elsewhere.close()
