"""The TLS contexts of clients and servers (engine.net.tls): a client checks the server's
certificate and the host name it connects to, so a certificate for another machine is
refused even when the lab's CA signed it."""
from __future__ import annotations

import shutil
import socket
import ssl
import threading

import pytest

from engine.net import tls


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_a_client_context_checks_the_certificate_and_the_host_name(tmp_path):
    lab = tls.make_lab(tmp_path / "lab", ["gateway.lab"])
    ctx = tls.client_context(str(lab["ca"]))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname is True
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_a_certificate_for_another_host_is_refused(tmp_path):
    """The lab's server certificate names gateway.lab, 127.0.0.1 and localhost: a client that
    connects to it as 'orders.lab' refuses it; as 127.0.0.1 it is let in."""
    lab = tls.make_lab(tmp_path / "lab", ["gateway.lab"])
    server_ctx = tls.server_context(str(lab["cert"]), str(lab["key"]))
    client_ctx = tls.client_context(str(lab["ca"]))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(n):
        for _ in range(n):
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as s:
                    s.recv(1)
            except (ssl.SSLError, OSError):
                pass

    t = threading.Thread(target=serve, args=(2,), daemon=True)
    t.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ost"):
                client_ctx.wrap_socket(raw, server_hostname="orders.lab")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"!")
    finally:
        t.join(5)
        listener.close()
