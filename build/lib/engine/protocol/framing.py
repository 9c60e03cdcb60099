"""Framing: payloads separated by MESSAGE_DELIMITER (`*`), sans IO.

`FrameDecoder` buffers bytes and hands out complete frames; `frame()` makes one. A payload
never contains the delimiter: `frame()` refuses one (our bug), a decoder drops and counts any
frame longer than its cap up to the next delimiter (the peer's)."""
from __future__ import annotations

from typing import List

from .errors import LocalProtocolError

MESSAGE_DELIMITER = b"*"
DEFAULT_MAX_FRAME = 64 * 1024


class FrameDecoder:
    """Splits a byte stream into frames.

    feed() returns the complete frames found so far, in order. Partial frames wait for more
    bytes. Empty frames (a lone `*`) are skipped. A frame longer than `max_frame` is dropped
    up to the next delimiter and counted in `oversize`: the buffer never grows past the cap.
    """

    __slots__ = ("max_frame", "_buf", "_discarding", "oversize", "frames", "bytes_in")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        if max_frame < 1:
            raise LocalProtocolError("max_frame must be positive")
        self.max_frame = max_frame
        self._buf = b""
        self._discarding = False
        self.oversize = 0
        self.frames = 0
        self.bytes_in = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for its delimiter."""
        return len(self._buf)

    def feed(self, data: bytes) -> List[bytes]:
        self.bytes_in += len(data)
        if self._buf:
            data = self._buf + data
            self._buf = b""
        parts = data.split(MESSAGE_DELIMITER)
        tail = parts.pop()
        if self._discarding and parts:
            # the first part ends the oversize frame we were dropping
            parts[0] = b""
            self._discarding = False
        cap = self.max_frame
        out = [p for p in parts if p]
        if out and max(map(len, out)) > cap:
            kept = [p for p in out if len(p) <= cap]
            self.oversize += len(out) - len(kept)
            out = kept
        if self._discarding:
            pass  # still inside an oversize frame: tail is dropped too
        elif len(tail) > cap:
            self.oversize += 1
            self._discarding = True
        else:
            self._buf = tail
        self.frames += len(out)
        return out

    def feed_block(self, data: bytes) -> bytes:
        """feed() without the split: every complete frame, delimiters included, as one block
        of bytes (b"" when there is none), for a caller that parses many small frames at once
        (PriceScanner). The block may hold empty frames and frames over `max_frame`: the
        caller skips and counts those; the buffer and the oversize tail work as in feed()."""
        self.bytes_in += len(data)
        if self._buf:
            data = self._buf + data
            self._buf = b""
        end = data.rfind(MESSAGE_DELIMITER) + 1
        block, tail = data[:end], data[end:]
        if self._discarding and end:
            # the first frame ends the oversize frame we were dropping
            block = block[block.find(MESSAGE_DELIMITER) + 1:]
            self._discarding = False
        if self._discarding:
            pass  # still inside an oversize frame: tail is dropped too
        elif len(tail) > self.max_frame:
            self.oversize += 1
            self._discarding = True
        else:
            self._buf = tail
        return block

    def eof_partial(self) -> bool:
        """True when the stream ended inside a frame (the partial frame is lost)."""
        return bool(self._buf) or self._discarding


def frame(payload: bytes) -> bytes:
    """One frame on the wire; refuses a payload that would break framing."""
    if MESSAGE_DELIMITER in payload:
        raise LocalProtocolError(f"payload contains the delimiter: {payload[:40]!r}")
    if not payload:
        raise LocalProtocolError("empty payload")
    return payload + MESSAGE_DELIMITER
