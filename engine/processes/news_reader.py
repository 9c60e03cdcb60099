"""NewsReader: the Strategy's thread on the Gateway's news port: sentiment frames in,
validated (a bad one counted, never fatal), each value handed to the Strategy; it reconnects
by itself."""
from __future__ import annotations

import threading

from engine.config.schema import Config
from engine.measure.rejections import Rejections, reason_of
from engine.net import tls
from engine.net.client import BACKOFF_CAP, ConnectionClosed, Outage, connect, recv_some
from engine.protocol import FrameDecoder, RemoteProtocolError, Sentiment


class NewsReader(threading.Thread):
    def __init__(self, config: Config, stop_event, log, on_value, rejections: Rejections):
        super().__init__(name="news", daemon=True)
        self.config, self.stop_event, self.log = config, stop_event, log
        self.on_value = on_value
        self.rejections = rejections
        self.received = 0
        self.outage = Outage(log, f"gateway news at {config.host}:{config.news_port}")

    def run(self) -> None:
        while not self.stop_event.is_set():
            sock = connect(self.config.connect_host, self.config.news_port, self.stop_event,
                           self.outage, auth_token=self.config.auth_token,
                           tls=tls.for_client(self.config))
            if sock is None:
                return
            sock.settimeout(0.2)
            decoder = FrameDecoder(self.config.max_frame)
            try:
                while not self.stop_event.is_set():
                    data = recv_some(sock)
                    if not data:
                        continue
                    if self.outage.down_since is not None:
                        self.outage.confirmed()
                    for f in decoder.feed(data):
                        try:
                            value = Sentiment.decode(f).value
                        except RemoteProtocolError as exc:
                            self.rejections.reject(reason_of(exc), str(exc))
                            continue
                        self.received += 1
                        self.on_value(value)
            except ConnectionClosed as exc:
                self.outage.lost(str(exc))
            except Exception:  # a bug here must not leave the Strategy without news
                self.log.exception("news reader: unexpected error; reconnecting")
                self.outage.lost("unexpected error")
                if self.stop_event.wait(BACKOFF_CAP):
                    return
            finally:
                sock.close()
