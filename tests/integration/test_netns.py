"""Across machines, for real: the Gateway and the OrderManager in one Linux network namespace,
the OrderBook, the Strategy and a confirmation listener in another, joined by a veth pair
(10.231.x.1 and .2), speaking TLS with certificates from `python -m engine.net.tls lab` and the
auth token inside. Orders flow; a plain-text client, a client that trusts another CA and a
client with the wrong token are refused. Needs root, `ip netns` and `openssl`: skipped, with
the reason, elsewhere."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.net.tls import make_lab
from tests.support import ROOT

pytestmark = pytest.mark.slow

TOKEN = "t0ken-across"
PORTS = {"--price-port": 15101, "--news-port": 15102, "--order-port": 15103,
         "--confirm-port": 15104}
FAST = ["--tick-interval", "0.02", "--news-interval", "0.1", "--short-window", "2",
        "--long-window", "4", "--bullish", "50", "--bearish", "50"]


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def why_not() -> str:
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux's"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if not shutil.which("ip") or not shutil.which("openssl"):
        return "needs the ip and openssl commands"
    probe = f"ipcdprobe{os.getpid() % 10000}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode:
        return f"ip netns add is not permitted here: {made.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return ""


@pytest.fixture
def two_hosts():
    reason = why_not()
    if reason:
        pytest.skip(reason)
    n = os.getpid() % 200 + 20
    a, b = f"ipcd{n}a", f"ipcd{n}b"
    subnet = f"10.231.{n}"
    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("link", "add", f"v{n}a", "type", "veth", "peer", "name", f"v{n}b")
        ip("link", "set", f"v{n}a", "netns", a)
        ip("link", "set", f"v{n}b", "netns", b)
        ip("-n", a, "addr", "add", f"{subnet}.1/24", "dev", f"v{n}a")
        ip("-n", b, "addr", "add", f"{subnet}.2/24", "dev", f"v{n}b")
        for ns, dev in ((a, f"v{n}a"), (b, f"v{n}b")):
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield a, b, f"{subnet}.1"
    finally:
        ip("netns", "del", a, check=False)  # the veth pair goes with it
        ip("netns", "del", b, check=False)


class Hosts:
    """Processes started in a namespace (`ip netns exec` execs them: the pid is theirs)."""

    def __init__(self, folder: Path):
        self.folder, self.procs = folder, []

    def run(self, ns: str, name: str, *args) -> subprocess.Popen:
        out = open(self.folder / f"{name}.out", "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, *args],
                             cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.procs.append(p)
        return p

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


PROBE = r'''
import json, socket, ssl, sys, time
host, order_port, confirm_port, ca, other_ca, token = sys.argv[1:7]
out = {}
def tls(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=5),
                           server_hostname=host)
def closed(s):
    s.settimeout(5)
    try:
        return s.recv(65536) == b""
    except (ConnectionError, ssl.SSLError):
        return True
listener = tls(confirm_port, ca)
listener.sendall(b"AUTH " + token.encode() + b'*{"type":"session"}*')
listener.settimeout(10)
out["session"] = listener.recv(65536)[:200].decode("utf-8", "replace")
plain = socket.create_connection((host, int(order_port)), timeout=5)
plain.sendall(b"AUTH " + token.encode() + b"*")
out["plain_refused"] = closed(plain)
try:
    tls(order_port, other_ca)
    out["other_ca_refused"] = False
except ssl.SSLCertVerificationError as exc:
    out["other_ca_refused"] = True
wrong = tls(order_port, ca)
wrong.sendall(b"AUTH wrong*")
out["wrong_token_refused"] = closed(wrong)
print(json.dumps(out))
'''


def test_orders_flow_over_tls_between_two_network_namespaces(two_hosts, tmp_path):
    a, b, server_ip = two_hosts
    lab = make_lab(tmp_path / "lab", [server_ip])
    other = make_lab(tmp_path / "other", [server_ip])
    ports = [str(x) for kv in PORTS.items() for x in kv]
    logs_a, logs_b = tmp_path / "logs-a", tmp_path / "logs-b"
    common = ["--auth-token", TOKEN, "--host", server_ip, *ports, *FAST]
    serve = [*common, "--bind", server_ip, "--tls-cert", str(lab["cert"]), "--tls-key",
             str(lab["key"]), "--log-dir", str(logs_a)]
    shm = f"ipcn{os.getpid() % 100000}"
    reach = [*common, "--tls-ca", str(lab["ca"]), "--log-dir", str(logs_b), "--shm-name", shm]
    hosts = Hosts(tmp_path)
    try:
        hosts.run(a, "gateway", "-m", "engine.gateway", *serve)
        hosts.run(a, "order_manager", "-m", "engine.order_manager", *serve)
        hosts.run(b, "orderbook", "-m", "engine.orderbook", *reach)
        hosts.run(b, "strategy", "-m", "engine.strategy", *reach)
        orders = logs_a / "orders.jsonl"
        end = time.monotonic() + 60
        while not (orders.exists() and len(orders.read_text(encoding="utf-8").splitlines()) >= 3):
            assert time.monotonic() < end, "no orders across the namespaces: " + "\n".join(
                f"--- {n}\n{hosts.output(n)[-1500:]}" for n in
                ("gateway", "order_manager", "orderbook", "strategy"))
            assert all(p.poll() is None for p in hosts.procs), "a process ended early"
            time.sleep(0.1)
        probe = subprocess.run(["ip", "netns", "exec", b, sys.executable, "-c", PROBE,
                                server_ip, str(PORTS["--order-port"]),
                                str(PORTS["--confirm-port"]), str(lab["ca"]), str(other["ca"]),
                                TOKEN], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        seen = json.loads(probe.stdout.strip().splitlines()[-1])
        assert seen["session"].startswith('{"type":"state","orders":')  # the session so far
        assert seen["plain_refused"] and seen["other_ca_refused"]
        assert seen["wrong_token_refused"]
        records = [json.loads(l) for l in orders.read_text(encoding="utf-8").splitlines()]
        assert all(r["account"] == "strategy" for r in records)
    finally:
        hosts.stop()
    om_log = hosts.output("order_manager")
    assert "refused: TLS handshake failed" in om_log
    assert "refused: no valid auth token" in om_log
    strategy_log = hosts.output("strategy")
    assert f"connected to order manager at {server_ip}" in strategy_log
    assert all(p.returncode == 0 for p in hosts.procs), [p.returncode for p in hosts.procs]
