"""The conformance checker (`python -m engine.check ROLE`) against ours, against the minimal
peers of peers/ (other teams' code written to the assignment), and against a deliberately
broken one of each role: each gets the card it deserves, and the exit code says so."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.check.card import FAIL, NA, PASS
from engine.check.cli import run_check

from .procs import PEERS, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PY = "{python}"
PEER = f"{PY} {PEERS}"
OURS = {
    "order-manager": [f"{PY} -m engine.order_manager --order-port {{order_port}} "
                      f"--confirm-port {{confirm_port}}"],
    "gateway": [f"{PY} -m engine.gateway --price-port {{price_port}} --news-port {{news_port}}"],
    "orderbook-strategy": [
        f"{PY} -m engine.orderbook --price-port {{price_port}} --shm-name {{shm_name}}",
        f"{PY} -m engine.strategy --price-port {{price_port}} --news-port {{news_port}} "
        f"--order-port {{order_port}} --shm-name {{shm_name}}"],
}
MINI_GATEWAY = (f"{PEER}/mini_gateway.py --price-port {{price_port}} --news-port {{news_port}} "
                f"--record {{log_dir}}/sent.jsonl --rounds 100000")
MINI_TRADER = (f"{PEER}/mini_trader.py --price-port {{price_port}} --news-port {{news_port}} "
               f"--order-port {{order_port}}")
MINI_OM = f"{PEER}/mini_order_manager.py --port {{order_port}} --record {{log_dir}}/got.jsonl"


def statuses(card):
    return {p.key: p.status for p in card.points}


def cli(*args):
    """The command as a user types it; (exit code, what it printed)."""
    res = subprocess.run([sys.executable, "-m", "engine.check", *args], cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=150)
    return res.returncode, res.stdout + res.stderr


@pytest.mark.parametrize("role", sorted(OURS))
def test_ours_pass_every_point(role):
    card = run_check(role, None, OURS[role])
    assert card.exit_code == 0, card.text()
    required = {p.key: p.status for p in card.points if p.required}
    assert set(required.values()) == {PASS}, card.text()


def test_the_order_manager_command_of_the_readme_passes_and_a_peer_that_hangs_up_fails():
    # word for word (a bare `python` is the Python that runs the checker)
    code, out = cli("order-manager", "--command",
                    "python -m engine.order_manager --order-port {order_port} "
                    "--confirm-port {confirm_port}")
    assert code == 0, out
    assert "9 of 9 required points pass: it honours the assignment's contract" in out
    code, out = cli("order-manager", "--command", MINI_OM + " --close-after-first")
    assert code == 1, out
    assert "FAIL  keeps a client's connection open after an order" in out
    assert "then it closed the connection" in out


def test_the_plain_order_manager_is_told_it_printed_an_order_without_quantity():
    card = run_check("order-manager", None, [MINI_OM])
    s = statuses(card)
    assert s["keeps-open"] == s["several-clients"] == s["two-in-one"] == s["split"] == PASS
    assert s["missing-field"] == PASS  # it stays up and serves the others...
    assert s["printed"] == FAIL  # ...but printed the bad order as one
    assert "BUY None AAPL" in card.get("printed").evidence
    assert s["acks"] == NA and card.exit_code == 1


def test_a_running_order_manager_is_checked_at_its_address(tmp_path):
    from engine.net.ports import free_ports
    order_port, confirm_port = free_ports(2)
    p = subprocess.Popen([sys.executable, "-m", "engine.order_manager", "--order-port",
                          str(order_port), "--confirm-port", str(confirm_port), "--log-dir",
                          str(tmp_path)], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        from engine.check.target import Target
        Target.at("127.0.0.1", order_port=order_port).wait_port(order_port)
        card = run_check("order-manager", f"127.0.0.1:{order_port}")
    finally:
        p.kill()
        p.wait(10)
    assert card.exit_code == 0, card.text()
    assert statuses(card)["printed"] == NA  # its output is not the checker's to read


def test_gateways_ours_passes_the_plain_one_passes_and_news_words_fail():
    assert run_check("gateway", None, [MINI_GATEWAY]).exit_code == 0
    code, out = cli("gateway", "--command", MINI_GATEWAY + " --news-words")
    assert code == 1, out
    assert "FAIL  every news frame is an integer 0-100 ended by *" in out
    assert "b'bullish*': not an integer" in out


def test_a_gateway_that_opens_its_news_port_a_moment_later_is_waited_for():
    """Both ports are waited for before the first point (CI once saw the news port refused:
    the plain gateway opens its two ports on two threads)."""
    card = run_check("gateway", None, [MINI_GATEWAY + " --news-late 0.5"])
    assert card.exit_code == 0, card.text()


def test_orderbook_strategy_the_plain_one_passes_and_one_that_ignores_news_fails(tmp_path):
    card = run_check("orderbook-strategy", None, [MINI_TRADER])
    assert card.exit_code == 0, card.text()
    md = tmp_path / "card.md"
    code, out = cli("orderbook-strategy", "--command", MINI_TRADER + " --ignore-news",
                    "--markdown", str(md))
    assert code == 1, out
    assert "FAIL  sends no order where they disagree" in out
    text = md.read_text(encoding="utf-8")
    assert "| **FAIL** | sends no order where they disagree |" in text


def test_a_component_that_cannot_start_is_exit_2_not_a_failing_card():
    code, out = cli("order-manager", "--command", "no-such-program-here --port {order_port}")
    assert code == 2 and "could not run" in out and "no-such-program-here" in out
    code, out = cli("gateway", "--address", "127.0.0.1:5001")  # one port of two
    assert code == 2 and "HOST:PORT,PORT" in out
    code, out = cli("order-manager", "--command", f"{PY} -c \"import sys; sys.exit(3)\"")
    assert code == 2 and "exited" in out


def test_nothing_is_left_behind(tmp_path):
    """The checker's folder and the processes it started are gone after a card."""
    import glob
    import tempfile
    before = set(glob.glob(str(Path(tempfile.gettempdir()) / "ipcdesk-check-*")))
    card = run_check("order-manager", None, [MINI_OM])
    assert card.output  # it ran
    after = set(glob.glob(str(Path(tempfile.gettempdir()) / "ipcdesk-check-*")))
    assert after <= before
