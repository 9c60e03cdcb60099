"""Whose fault a bad message is (trio and h11 draw the same line)."""
from __future__ import annotations


class ProtocolError(Exception):
    """Base of both protocol errors."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bad data: reject that frame, count it, keep the connection."""


class LocalProtocolError(ProtocolError):
    """We tried to send something the protocol forbids: a bug on our side."""
