"""The desk over TLS: its confirmations listener is a QSslSocket that trusts --tls-ca, and it
shows the OrderManager's session and orders as over plain TCP."""
from __future__ import annotations

import shutil

import pytest

from engine.tls import make_lab

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
    qtbot.waitUntil(lambda: window.listener.connected and window.orders_view.model.total >= 2,
                    timeout=START_MS)
    assert window.listener.sock.isEncrypted()
    assert adapter.controller.status("order_manager").stats.refused_tls == 0
