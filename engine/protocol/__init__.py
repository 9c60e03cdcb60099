"""The wire protocol, sans IO: nothing here touches a socket.

    errors     RemoteProtocolError (the peer's fault) and LocalProtocolError (ours)
    framing    `*`-delimited frames: FrameDecoder, frame()
    messages   every message, declared once: PriceTick, Sentiment, Order, Ack, Confirm,
               PositionsRequest, PositionsReply, SessionRequest, SessionState, Rejection; JSON decoding with
               its caps
    fastpath   NumPy over whole blocks of price frames: PriceScanner, encode_price_rounds
"""
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .fastpath import PriceScanner, encode_price_rounds, to_cents
from .framing import DEFAULT_MAX_FRAME, MESSAGE_DELIMITER, FrameDecoder, frame
from .messages import (ACK_STATUSES, AUTH_PREFIX, MAX_JSON_DEPTH, SIDES, Ack, Confirm, Hello,
                       HELLO_FEATURES, Message,
                       Order, PositionsReply, PositionsRequest, PriceTick, Rejection, Sentiment,
                       SessionRequest, SessionState, auth_frame, decode_json, encode_json,
                       format_received, is_hello, parse_price, valid_id)

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError", "PriceScanner",
           "encode_price_rounds", "to_cents", "DEFAULT_MAX_FRAME", "MESSAGE_DELIMITER",
           "FrameDecoder", "frame", "ACK_STATUSES", "AUTH_PREFIX", "MAX_JSON_DEPTH", "SIDES",
           "Ack", "Confirm", "Hello", "HELLO_FEATURES", "Message", "Order", "PositionsReply", "PositionsRequest",
           "PriceTick", "Rejection", "Sentiment", "SessionRequest", "SessionState", "auth_frame", "decode_json", "encode_json",
           "format_received", "is_hello", "parse_price", "valid_id"]
