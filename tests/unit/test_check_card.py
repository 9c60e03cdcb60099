"""The conformance checker's judgements without a component: what a frame is, when orders
add to a position held, which phase an order belongs to, the card's summary and exit code,
and which check the desk runs for a process of a stack."""
from __future__ import annotations

import pytest

from engine.check.card import FAIL, NA, PASS, Card
from engine.check.gateway import news_problem, price_problem
from engine.check.order_manager import printed_verdict
from engine.check.of_stack import check_of
from engine.check.orderbook_strategy import OrderBookStrategyCheck, Phase, read_order
from engine.check.target import CannotRun, parse_address
from engine.config.stack_file import load_stack
from tests.support import ROOT


@pytest.mark.parametrize("frame,ok", [
    (b"AAPL,172.53", True), (b"BRK.B,1", True), (b"AAPL:172.53", False),
    (b"AAPL,172.53,1700000000", False), (b"aapl,1", False), (b"AAPL,-1", False),
    (b"AAPL,nan", False), (b"AAPL,abc", False), (b"TOOLONGSYM,1", False)])
def test_a_price_frame_is_symbol_comma_positive_price(frame, ok):
    assert (price_problem(frame) == "") is ok


@pytest.mark.parametrize("frame,ok", [(b"0", True), (b"73", True), (b"100", True),
                                      (b"101", False), (b"bullish", False), (b"-3", False),
                                      (b"7.5", False)])
def test_a_news_frame_is_an_integer_0_to_100(frame, ok):
    assert (news_problem(frame) == "") is ok


@pytest.mark.parametrize("frame,why", [
    (b'{"side":"BUY","symbol":"AAPL","quantity":10,"price":1.5}', ""),
    (b'{"type":"order","client_order_id":"a-b-1","side":"buy","symbol":"AAPL","qty":10,'
     b'"quantity":10,"price":1,"id":"a-b-1"}', ""),
    (b'{"type":"positions","account":"strategy"}', "no side, symbol, quantity, price"),
    (b'{"side":"HOLD","symbol":"AAPL","quantity":10,"price":1}', "side 'HOLD'"),
    (b'{"side":"BUY","symbol":"AAPL","quantity":0,"price":1}', "quantity 0"),
    (b'{"side":"BUY","symbol":"AAPL","quantity":1,"price":"1"}', "price '1'"),
    (b"BUY 10 AAPL", "not JSON"), (b"[1]", "not a JSON object")])
def test_what_an_order_frame_is(frame, why):
    order, problem = read_order(frame)
    assert (order is None) == bool(why) and why in problem


def o(side, qty=10, symbol="AAPL"):
    return {"side": side, "qty": qty, "symbol": symbol, "price": 100.0}


def test_a_second_buy_while_long_or_sell_while_short_is_twice():
    twice = OrderBookStrategyCheck.twice
    assert twice([o("BUY"), o("SELL", 20), o("BUY", 20)]) == []  # long, short, long again
    assert twice([o("BUY"), o("SELL"), o("BUY")]) == []  # flat between
    assert twice([o("BUY"), o("BUY")]) == [o("BUY")]
    assert twice([o("SELL"), o("BUY", 5), o("SELL")]) == [o("SELL")]  # still short 5
    assert twice([o("BUY"), o("BUY", symbol="MSFT")]) == []  # a symbol each


def test_an_order_belongs_to_the_phase_it_came_in(monkeypatch):
    check = OrderBookStrategyCheck.__new__(OrderBookStrategyCheck)
    phases = [Phase("warm", 1, 0, 50, 0.0, 1.0), Phase("agree", 1, 0, 80, 1.0, 2.0),
              Phase("down", 1, 0, 20, 2.0, 3.0)]
    frames = [(0.5, b'{"side":"BUY","symbol":"A","quantity":1,"price":1}'),
              (1.05, b'{"side":"BUY","symbol":"B","quantity":1,"price":1}'),
              (3.3, b'{"side":"SELL","symbol":"C","quantity":1,"price":1}'),
              (3.9, b'{"side":"SELL","symbol":"D","quantity":1,"price":1}'),
              (2.5, b"junk")]
    monkeypatch.setattr(check, "order_frames", lambda: frames)
    got = check.orders_by_phase(phases)
    assert {k: [x["symbol"] for x in v] for k, v in got.items()} == \
        {"warm": ["A"], "agree": ["B"], "down": ["C"]}  # D: too late after the last phase


def test_the_card_passes_fails_or_could_not_run():
    card = Card("gateway", "x")
    card.point("a", "first point")
    card.point("b", "second | point")
    card.point("c", "optional one", required=False)
    card.set("a", True, "fine")
    card.set("b", True, "fine too")
    card.set("c", False, "no")
    assert card.exit_code == 0 and "2 of 2 required points pass" in card.summary()
    card.set("b", False, "it closed | the connection")
    assert card.exit_code == 1 and card.summary().endswith("failing: second | point")
    md = card.markdown()
    assert "| **FAIL** | second &#124; point | it closed &#124; the connection |" in md
    assert [p.status for p in card.points] == [PASS, FAIL, FAIL]
    card.could_not_run = "no program"
    assert card.exit_code == 2 and card.summary() == "could not run: no program"
    assert Card("x", "y").points == [] and NA == "n/a"


def test_an_address_names_each_port_its_role_needs():
    assert parse_address("127.0.0.1:5001,5002", 2) == ("127.0.0.1", [5001, 5002])
    assert parse_address("[::1]:5003", 1) == ("[::1]", [5003])
    for bad in ("127.0.0.1:5001", "5001,5002", "host:a,b", "host:0,5002", ":5001,5002"):
        with pytest.raises(CannotRun):
            parse_address(bad, 2)


def test_the_desk_checks_a_process_of_a_stack_with_its_pair():
    plan = load_stack(ROOT / "docs" / "stacks" / "classmates.toml")
    by_name = {p.name: p for p in plan.processes}
    role, (cmd,) = check_of(by_name["their-gateway"], plan)
    assert role == "gateway" and cmd.argv == by_name["their-gateway"].command
    assert cmd.cwd == by_name["their-gateway"].cwd
    role, (book, strategy) = check_of(by_name["their-strategy"], plan)
    assert role == "orderbook-strategy" and strategy.argv == by_name["their-strategy"].command
    assert book.argv == by_name["their-reader"].command  # theirs before ours
    role, (book, strategy) = check_of(by_name["orderbook"], plan)
    assert "engine.orderbook" in book.argv and strategy.argv == by_name["their-strategy"].command


def line(n, what="BUY 10 AAPL @ 100.01"):
    return f"12:00:00 Received Order {n}: {what}"


def test_the_printed_lines_are_one_an_order_n_going_up_by_one():
    assert printed_verdict(["listening", line(5), line(6), line(7)], 3)[0] is True
    ok, why = printed_verdict([line(1), line(2), line(4)], 3)
    assert not ok and "steps [1, 2]" in why
    ok, why = printed_verdict([line(1), line(1), line(2)], 3)
    assert not ok and "steps [0, 1]" in why
    ok, why = printed_verdict([line(1), line(2)], 3)
    assert not ok and "2 lines for 3 orders" in why
    ok, why = printed_verdict([line(1), line(2, "BUY None AAPL @ 101.50")], 2)
    assert not ok and "BUY None AAPL" in why
    ok, why = printed_verdict(["listening", "Bad order"], 2)
    assert not ok and "'Bad order'" in why
