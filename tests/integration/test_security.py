"""Security by default: loopback binding, auth tokens beyond it, nothing executable from a
socket."""

import pytest

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.processes.gateway import run_gateway
from engine.processes.orderbook import run_orderbook
from engine.shm.price_book import SharedPriceBook
from engine.testing import wait_until
from tests.support import ROOT

from .helpers import connect, read_frames

pytestmark = pytest.mark.slow


def test_servers_bind_loopback_by_default(config):
    import logging

    from engine.net.loop import EventLoop
    from engine.net.server import Server
    loop = EventLoop()
    srv = Server(loop, config.bind_host, 0, "prices", logging.getLogger("t"))
    try:
        assert srv.address[0] == "127.0.0.1"
    finally:
        srv.close()
        loop.close()


def test_auth_token_refuses_clients_without_it(config):
    cfg = config.replace(bind="0.0.0.0", auth_token="s3cret-token", insecure=True)
    ctl = ProcessController(cfg, roster=Roster.from_targets({"gateway": run_gateway,
                                                           "orderbook": run_orderbook}))
    lines = []
    ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
    try:
        ctl.start("gateway")
        ctl.start("orderbook")  # presents the token: it gets prices
        wait_until(lambda: ctl.poll() is not None and ctl.status("gateway").state == State.RUNNING,
                 20, what="gateway")
        reader = SharedPriceBook.attach(cfg.shm_name)
        try:
            wait_until(lambda: reader.update_counter > 10, 20, what="prices with the token")
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
        wait_until(lambda: ctl.poll() is not None and
                 sum("refused: no valid auth token" in l for l in lines) >= 2, 10,
                 what="refusals logged")
        friend = connect(cfg.price_port)
        friend.sendall(b"AUTH s3cret-token*")
        assert len(read_frames(friend, 5)) == 5
        friend.close()
    finally:
        ctl.close()


# Modules that turn bytes into live objects, and builtins that run text as code
UNPICKLERS = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle",
              "jsonpickle", "yaml"}
RUNS_CODE = {"eval", "exec", "compile", "__import__"}


def project_sources():
    """Every Python file of the program: the engine, the desk, both launchers, and the
    interop peers (they run against our servers)."""
    files = sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py"))
    files += [ROOT / "launcher.py", ROOT / "launcher.pyw"]
    return files + sorted((ROOT / "tests" / "interop" / "peers").glob("*.py"))


def banned_uses(source: str) -> list:
    """Imports of an unpickler, calls of eval/exec/compile/__import__ (a method such as Qt's
    app.exec() is not the builtin), and multiprocessing's socket Listener/Client, which
    unpickle what they receive."""
    import ast
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in UNPICKLERS]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if mod.split(".")[0] in UNPICKLERS:
                found.append(mod)
            if mod == "multiprocessing.connection":
                found += [a.name for a in node.names if a.name in ("Listener", "Client")]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in RUNS_CODE:
            found.append(f"{node.func.id}() at line {node.lineno}")
        elif isinstance(node, ast.Attribute) and node.attr in ("Listener", "Client") \
                and isinstance(node.value, ast.Attribute) and node.value.attr == "connection":
            found.append(f"connection.{node.attr} at line {node.lineno}")
    return found


def test_the_scan_finds_what_it_bans():
    assert sorted(banned_uses("import pickle\nx = eval(data)\nfrom marshal import loads")) \
        == ["eval() at line 2", "marshal", "pickle"]
    assert banned_uses("app.exec()\nimport json\njson.loads(b)") == []
    assert banned_uses("from multiprocessing.connection import Listener, wait") == ["Listener"]


def test_nothing_from_a_socket_is_unpickled_or_evaluated():
    found = {}
    for path in project_sources():
        uses = banned_uses(path.read_text(encoding="utf-8"))
        if uses:
            found[str(path.relative_to(ROOT))] = uses
    assert not found, found
    assert len(project_sources()) > 20  # the scan saw the whole program
