"""OrdersListener: the desk's client of the OrderManager's confirmations port. A QTcpSocket
(QSslSocket with --tls-ca) on the GUI thread's event loop: connecting and reading never
block. It reconnects with capped backoff (<= 1 s) whenever the OrderManager goes away, asks
for the session first (an OrderManager of ours answers with its state, its latest orders and
rejections; another sends live confirmations only), and decodes `*`-delimited JSON frames
(bad frames are counted and skipped)."""
from __future__ import annotations

import time
from typing import Optional

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QSslCertificate, QSslSocket, QTcpSocket

from engine.net.client import connect_timeout
from engine.protocol import Confirm, Rejection, SessionRequest, auth_frame

from ..models.confirms import ConfirmStream
from ..models.session import OrderSession

BACKOFF_START_MS = 50
BACKOFF_CAP_MS = 1000


class OrdersListener(QObject):
    """Connects to host:port, reconnects after any loss, keeps `session` (an OrderSession)
    and then emits what it decoded: the views read the session after each signal."""

    confirmsReceived = Signal(list)       # [(received_epoch_s, Confirm), ...]
    stateReceived = Signal(object)        # the session so far (SessionState), on each connect
    rejectionsReceived = Signal(list)     # [Rejection, ...]: order frames refused, and why
    connectionChanged = Signal(bool)

    def __init__(self, host: str, port: int, auth_token: Optional[str] = None,
                 max_frame: int = 64 * 1024, parent: Optional[QObject] = None,
                 tls_ca: Optional[str] = None, session: Optional[OrderSession] = None):
        super().__init__(parent)
        self.session = session if session is not None else OrderSession()
        self.host, self.port, self.auth_token = host, port, auth_token
        self.tls_ca = tls_ca  # TLS (QSslSocket) to an OrderManager whose certificate it signs
        self.stream = ConfirmStream(max_frame)
        self.connected = False
        self.connects = 0          # successful connections (reconnects = connects - 1)
        self.attempts = 0
        self._backoff = BACKOFF_START_MS
        self._running = False
        self.sock = self._new_socket()
        self.retry = QTimer(self)
        self.retry.setSingleShot(True)
        self.retry.timeout.connect(self._connect)
        # a connect that neither succeeds nor fails soon is given up and retried (on Windows
        # a refused connect to this machine takes about 2 s: see engine.net.client.connect_timeout)
        self.give_up = QTimer(self)
        self.give_up.setSingleShot(True)
        self.give_up.timeout.connect(self._on_connect_timeout)

    def _new_socket(self) -> QTcpSocket:
        if self.tls_ca:
            sock = QSslSocket(self)
            tls = sock.sslConfiguration()
            tls.setCaCertificates(QSslCertificate.fromPath(self.tls_ca))
            tls.setPeerVerifyMode(QSslSocket.PeerVerifyMode.VerifyPeer)
            sock.setSslConfiguration(tls)
            sock.encrypted.connect(self._on_connected)  # talk only once it is encrypted
        else:
            sock = QTcpSocket(self)
            sock.connected.connect(self._on_connected)
        sock.disconnected.connect(self._on_disconnected)
        sock.errorOccurred.connect(self._on_error)
        sock.readyRead.connect(self._on_ready_read)
        return sock

    @property
    def bad_frames(self) -> int:
        return self.stream.bad_frames

    def start(self) -> None:
        self._running = True
        self._connect()

    def stop(self) -> None:
        self._running = False
        self.retry.stop()
        self.give_up.stop()
        # After a refused connect Qt keeps that attempt's descriptor open until the next
        # connect (abort() of an unconnected socket does nothing): a stopped listener would
        # hold it for good. Deleting the socket closes it; a fresh one serves a new start.
        # (Never called from one of the socket's own signals.)
        old, self.sock = self.sock, self._new_socket()
        old.blockSignals(True)
        old.abort()
        shiboken6.delete(old)
        self._set_connected(False)

    def set_endpoint(self, host: str, port: int, auth_token: Optional[str] = None) -> None:
        if (host, port, auth_token) == (self.host, self.port, self.auth_token):
            return
        self.host, self.port, self.auth_token = host, port, auth_token
        if self._running:
            self.sock.abort()
            self._set_connected(False)
            self._backoff = BACKOFF_START_MS
            self._connect()

    # -- socket events ------------------------------------------------------------------
    def _connect(self) -> None:
        if not self._running:
            return
        if self.sock.state() != QAbstractSocket.SocketState.UnconnectedState:
            self.sock.abort()
        self.attempts += 1
        self.give_up.start(int(connect_timeout(self.host) * 1000))
        if self.tls_ca:
            self.sock.connectToHostEncrypted(self.host, self.port)
        else:
            self.sock.connectToHost(self.host, self.port)

    def _on_connect_timeout(self) -> None:
        if self.sock.state() != QAbstractSocket.SocketState.ConnectedState:
            self.sock.abort()
            self._set_connected(False)
            self._schedule()

    def _schedule(self) -> None:
        if not self._running or self.retry.isActive():
            return
        self.retry.start(self._backoff)
        self._backoff = min(self._backoff * 2, BACKOFF_CAP_MS)

    def _on_connected(self) -> None:
        self.give_up.stop()
        s = self.sock
        # a TCP self-connect (nobody listening, and the kernel picked the target port as
        # our source port) would squat the OrderManager's port: drop it and retry
        if s.localPort() == s.peerPort() and s.localAddress() == s.peerAddress():
            s.abort()
            self._schedule()
            return
        self._backoff = BACKOFF_START_MS
        self.stream.reset()
        self.connects += 1
        if self.auth_token:
            s.write(auth_frame(self.auth_token))
        # the session so far first (an OrderManager of ours answers with its state and its
        # latest orders; another one sends only live confirmations, which is fine)
        s.write(SessionRequest().encode())
        self._set_connected(True)

    def _on_disconnected(self) -> None:
        self._set_connected(False)
        self._schedule()

    def _on_error(self, _err) -> None:
        if self.sock.state() != QAbstractSocket.SocketState.ConnectedState:
            self._set_connected(False)
            self._schedule()

    def _on_ready_read(self) -> None:
        data = bytes(self.sock.readAll())
        if data:
            self.received(data)

    def received(self, data: bytes) -> None:
        """Bytes from the OrderManager (the socket's, or a test's): decoded, the session
        kept, then the signals, in the order the frames came."""
        now, batch, refused = time.time(), [], []
        for item in self.stream.feed(data):
            if isinstance(item, Confirm):
                batch.append((item.time if item.replay and item.time else now, item))
                continue
            if isinstance(item, Rejection):
                refused.append(item)
                continue
            if batch:  # what came before the state, then the state
                self._confirmed(batch)
                batch = []
            self.session.reset_to(item)
            self.stateReceived.emit(item)
        if batch:
            self._confirmed(batch)
        if refused:
            self.rejectionsReceived.emit(refused)

    def _confirmed(self, batch: list) -> None:
        self.session.confirmed(batch)
        self.confirmsReceived.emit(batch)

    def _set_connected(self, value: bool) -> None:
        if value != self.connected:
            self.connected = value
            self.connectionChanged.emit(value)

