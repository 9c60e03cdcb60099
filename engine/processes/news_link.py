"""NewsLink: the Strategy's link to the Gateway's news port, served by the Strategy's one
loop: sentiment frames in, validated (a bad one counted, never fatal), each value handed to
the Strategy; it reconnects by itself."""
from __future__ import annotations

from engine.config.schema import Config
from engine.measure.rejections import Rejections, reason_of
from engine.net import tls
from engine.net.client import Outage
from engine.net.links import Link
from engine.protocol import FrameDecoder, RemoteProtocolError, Sentiment


class NewsLink(Link):
    def __init__(self, config: Config, log, on_value, rejections: Rejections):
        self.config, self.log, self.on_value = config, log, on_value
        self.rejections = rejections
        self.received = 0
        self.decoder = FrameDecoder(config.max_frame)
        super().__init__(config.connect_host, config.news_port,
                         Outage(log, f"gateway news at {config.host}:{config.news_port}"),
                         "news", auth_token=config.auth_token, tls=tls.for_client(config))

    def _connected(self) -> None:
        self.decoder = FrameDecoder(self.config.max_frame)

    def _readable(self, data: bytes, now_ns: int) -> None:
        if self.outage.down_since is not None:
            self.outage.confirmed()
        try:
            for f in self.decoder.feed(data):
                try:
                    value = Sentiment.decode(f).value
                except RemoteProtocolError as exc:
                    self.rejections.reject(reason_of(exc), str(exc))
                    continue
                self.received += 1
                self.on_value(value)
        except Exception:  # a bug here must not leave the Strategy without news
            self.log.exception("news link: unexpected error; reconnecting")
            self.drop("unexpected error")
