"""ConfirmStream: the bytes of the confirmations port in; Confirm objects (and, to a desk
that asked for the session, its SessionState and Rejections) out; bad frames counted."""
from __future__ import annotations

from typing import Optional

from engine.protocol import (Confirm, FrameDecoder, Rejection, RemoteProtocolError, SessionState,
                             decode_json)


class ConfirmStream:
    """Bytes of the confirmations port in, Confirm objects out (and, to a desk that asked for
    the session, its SessionState and Rejection frames); bad frames are counted."""
    KINDS = {"state": SessionState, "rejected": Rejection}

    def __init__(self, max_frame: int = 64 * 1024):
        self.max_frame = max_frame
        self.decoder = FrameDecoder(max_frame)
        self.bad_frames = 0
        self.received = 0
        self.last_error: Optional[str] = None
        self._oversize = 0

    def reset(self) -> None:
        """A new connection: a partial frame of the old one is gone."""
        if self.decoder.eof_partial():
            self.bad_frames += 1
        self.decoder = FrameDecoder(self.max_frame)
        self._oversize = 0

    def feed(self, data: bytes) -> list:
        """Confirm objects, the SessionState the OrderManager sends first on a connection and
        the Rejections it tells a desk of, in the order they came."""
        out: list = []
        for f in self.decoder.feed(data):
            try:
                obj = decode_json(f)
                kind = self.KINDS.get(obj.get("type"), Confirm)
                out.append(kind.from_dict(obj))
            except RemoteProtocolError as exc:
                self.bad_frames += 1
                self.last_error = str(exc)
        if self.decoder.oversize != self._oversize:
            self.bad_frames += self.decoder.oversize - self._oversize
            self._oversize = self.decoder.oversize
        self.received += sum(1 for x in out if isinstance(x, Confirm))
        return out

