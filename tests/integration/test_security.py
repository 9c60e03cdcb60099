"""Security by default: loopback binding, auth tokens beyond it, nothing executable from a
socket."""
import io
import tokenize
from pathlib import Path

import pytest

from engine.gateway import run_gateway
from engine.orderbook import run_orderbook
from engine.shared_memory_utils import SharedPriceBook
from engine.supervisor import RUNNING, ProcessController

from conftest import ROOT
from .helpers import connect, read_frames, wait_for

pytestmark = pytest.mark.slow


def test_servers_bind_loopback_by_default(config):
    import logging
    from engine.net import EventLoop, Server
    loop = EventLoop()
    srv = Server(loop, config.bind_host, 0, "prices", logging.getLogger("t"))
    try:
        assert srv.address[0] == "127.0.0.1"
    finally:
        srv.close()
        loop.close()


def test_auth_token_refuses_clients_without_it(config):
    cfg = config.replace(bind="0.0.0.0", auth_token="s3cret-token")
    ctl = ProcessController(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook})
    lines = []
    ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
    try:
        ctl.start("gateway")
        ctl.start("orderbook")  # presents the token: it gets prices
        wait_for(lambda: ctl.poll() is not None and ctl.status("gateway").state == RUNNING,
                 20, what="gateway")
        reader = SharedPriceBook.attach(cfg.shm_name)
        try:
            wait_for(lambda: reader.update_counter > 10, 20, what="prices with the token")
        finally:
            reader.close()
        intruder = connect(cfg.price_port)
        intruder.sendall(b"AUTH wrong*")
        assert read_frames(intruder, 1, timeout=5) == []  # closed without a single tick
        intruder.close()
        silent = connect(cfg.news_port)
        silent.sendall(b"hello*")
        assert read_frames(silent, 1, timeout=5) == []
        silent.close()
        wait_for(lambda: ctl.poll() is not None and
                 sum("refused: no valid auth token" in l for l in lines) >= 2, 10,
                 what="refusals logged")
        friend = connect(cfg.price_port)
        friend.sendall(b"AUTH s3cret-token*")
        assert len(read_frames(friend, 5)) == 5
        friend.close()
    finally:
        ctl.close()


def test_nothing_from_a_socket_is_unpickled_or_evaluated():
    banned = {"pickle", "cPickle", "marshal", "eval", "exec", "shelve"}
    found = []
    for path in sorted((ROOT / "engine").glob("*.py")) + sorted((ROOT / "gui").glob("*.py")):
        prev = None
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            # the builtins and modules, not methods such as Qt's app.exec()
            if tok.type == tokenize.NAME and tok.string in banned and \
                    not (prev is not None and prev.string == "."):
                found.append(f"{path.name}:{tok.start[0]} {tok.string}")
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                prev = tok
    assert not found, found
