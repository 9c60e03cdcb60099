"""The desk over an open stack (issue 24), driven as a user drives it, off screen: Processes >
Add Strategy... while the others run, its account in the orders table, the account filter,
positions and an equity curve an account; File > Save stack as... and Open stack...; a
process's own settings; another team's programs as external processes (their log panes,
Stop, Kill, the System map). Every wait is a condition, never a sleep."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from engine.config.stack import ProcessEntry
from engine.config.stack_file import load_stack
from tests.support import ROOT

START_MS = 20_000
OK = QDialogButtonBox.StandardButton.Ok


def running(window, *names):
    return all(window.process_panel.state_of(n) == "running" for n in names)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_add_strategy_trades_on_its_own_account_and_the_desk_shows_each(qtbot, make_desk,
                                                                        fast_config):
    adapter, window = make_desk(fast_config)
    window.process_panel.start_all.click()
    qtbot.waitUntil(lambda: running(window, "gateway", "orderbook", "strategy",
                                    "order_manager"), timeout=START_MS)
    # Processes > Add Strategy...: a name, an account, its own windows; started at once
    window.menus.actions["add_strategy"].trigger()
    dialog = window.stack.dialog
    dialog.name.setText("second")
    dialog.account.setText("acct2")
    dialog.fields["short_window"].setValue(3)
    dialog.fields["long_window"].setValue(6)
    assert dialog.problem.text() == ""
    dialog.name.setText("strategy")  # a name taken: said, and OK is off
    assert "already" in dialog.problem.text() and not dialog.buttons.button(OK).isEnabled()
    dialog.name.setText("second")
    pids = {n: p.pid for n, p in adapter.controller.procs.items()}
    dialog.buttons.button(OK).click()
    qtbot.waitUntil(lambda: "second" in window.process_panel.rows
                    and running(window, "second"), timeout=START_MS)
    assert {n: adapter.controller.procs[n].pid for n in pids} == pids, "the others ran on"
    assert adapter.controller.config_of("second").short_window == 3
    assert "second" in window.log_view.panes and "start_second" in window.menus.actions

    # both accounts trade: the orders table says whose each order is
    orders = window.orders_view

    def accounts():
        return {c.account for _, c in orders.model.rows}
    qtbot.waitUntil(lambda: {"strategy", "acct2"} <= accounts(), timeout=30_000)
    assert orders.account_box.findData("acct2") > 0
    # the account filter: its orders only, its positions, its P&L in the header
    orders.account_box.setCurrentIndex(orders.account_box.findData("acct2"))
    assert window.session.picked == "acct2"
    shown = [orders.proxy.index(r, 6).data() for r in range(orders.proxy.rowCount())]
    assert shown and set(shown) == {"acct2"}
    mine = {}
    for _, c in orders.model.rows:
        if c.account == "acct2" and not c.replay:
            mine[c.symbol] = mine.get(c.symbol, 0) + (c.qty if c.side == "BUY" else -c.qty)
    for row, sym in enumerate(orders.pos_model.symbols):
        want = mine.get(sym, 0)
        assert orders.pos_model.index(row, 1).data() == (f"{want:+,d}" if want else "0")
    assert orders.header.text().startswith("acct2")
    # the P&L chart: a curve an account and the total, the picked one named in bold
    charts = window.charts
    qtbot.waitUntil(lambda: {"strategy", "acct2"} <= set(charts.account_curves)
                    and "<b>acct2</b>" in charts.pnl_legend.html, timeout=5_000)
    assert "total" in charts.pnl_legend.html
    orders.account_box.setCurrentIndex(0)
    assert window.session.picked is None
    assert orders.proxy.rowCount() == orders.model.rowCount()
    # every process's lines in the All pane, each under its name
    qtbot.waitUntil(lambda: "second | " in window.log_view.text("*all*"), timeout=5_000)

    # stop it alone, and take it out of the stack
    window.process_panel.rows["second"].stop.click()
    qtbot.waitUntil(lambda: window.process_panel.state_of("second") == "stopped",
                    timeout=10_000)
    assert running(window, "gateway", "orderbook", "strategy", "order_manager")
    remove = window.menus.actions["remove_second"]
    assert remove.isEnabled() and not window.menus.actions["remove_gateway"].isEnabled()
    remove.trigger()
    assert "second" not in window.process_panel.rows and "second" not in window.log_view.panes
    assert "second" not in adapter.model.names and "start_second" not in window.menus.actions


@pytest.mark.timeout(60)
def test_save_and_open_a_stack_and_a_process_of_its_own_settings(qtbot, make_desk, config,
                                                                  tmp_path):
    adapter, window = make_desk(config)
    # a Strategy added, not started
    dialog = window.stack.add_strategy()
    dialog.name.setText("slow")
    dialog.start_now.setChecked(False)
    dialog.buttons.button(OK).click()
    assert window.process_panel.state_of("slow") == "stopped"
    # its own settings: picked by a click on its title, edited in the settings panel
    panel = window.settings_panel
    window.process_panel.rows["slow"].title.clicked.emit()
    assert panel.target == "slow" and panel.target_box.currentData() == "slow"
    assert not panel.tick_interval.isEnabled()  # the Gateway's, not a Strategy's
    panel.long_window.setValue(40)
    panel.short_window.setValue(12)
    assert adapter.model.entry("slow").settings == {"short_window": 12, "long_window": 40}
    panel.select(None)  # the stack's again, as they were
    assert panel.short_window.value() == config.short_window
    # File > Save stack as...
    path = tmp_path / "mine.toml"
    assert window.stack.save_stack_as(str(path))
    plan = load_stack(path)
    assert plan.names == ("gateway", "orderbook", "strategy", "order_manager", "slow")
    assert plan["slow"].config(plan.config).long_window == 40
    # File > Open stack...: another stack's processes everywhere
    assert window.stack.open_stack(str(ROOT / "docs" / "stacks" / "two-strategies.toml"))
    names = ("gateway", "orderbook", "fast", "slow", "order_manager")  # as data flows
    assert tuple(window.process_panel.rows) == names
    assert all(n in window.log_view.panes for n in names)
    assert all(f"start_{n}" in window.menus.actions for n in names)
    assert "start_strategy" not in window.menus.actions
    assert adapter.config.tick_interval == 0.05  # the file's [stack]
    assert adapter.config.log_dir == config.log_dir  # this session's folder still
    window.system_map.refresh()
    node = window.system_map.node("strategy")
    assert node.names == ("fast", "slow")
    assert [panel.target_box.itemData(i) for i in range(panel.target_box.count())] == \
        [None, *adapter.model.names]
    # a file with a mistake: said (file, line, key), and nothing changes
    bad = tmp_path / "bad.toml"
    bad.write_text('[[process]]\nname = "x"\nrole = "broker"\n', encoding="utf-8")
    errors = []
    adapter.errorOccurred.connect(errors.append)
    assert not window.stack.open_stack(str(bad))
    assert errors and f"{bad}:3: key 'role'" in errors[0]
    assert tuple(window.process_panel.rows) == names


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_external_programs_run_in_the_desk_with_their_logs_stop_and_kill(qtbot, make_desk,
                                                                       config):
    plan = load_stack(ROOT / "docs" / "stacks" / "classmates.toml", base=config)
    adapter, window = make_desk(plan.config, plan=plan)
    panel = window.process_panel
    assert panel.rows["their-gateway"].role.text().startswith("ext.")
    panel.start_all.click()
    names = ("their-gateway", "orderbook", "order_manager", "strategy", "their-strategy")
    qtbot.waitUntil(lambda: running(window, *names), timeout=START_MS)
    # their lines in their panes (and in the All pane, under their names)
    qtbot.waitUntil(lambda: "listening" in window.log_view.text("their-gateway"),
                    timeout=10_000)
    qtbot.waitUntil(lambda: '"status":"accepted"' in window.log_view.text("their-strategy"),
                    timeout=10_000)
    assert "their-strategy | " in window.log_view.text("*all*")
    # their order, in the account of their connection; ours trade on their prices
    qtbot.waitUntil(lambda: {"anon", "strategy"} <= {c.account for _, c in
                                                      window.orders_view.model.rows},
                    timeout=30_000)
    # the OS's figures of theirs
    qtbot.waitUntil(lambda: adapter.view("their-gateway").rss_bytes > 1_000_000,
                    timeout=5_000)
    # the System map draws their Gateway, its link from our OrderBook's report
    window.system_map.refresh()
    node = window.system_map.node("gateway")
    assert node.external == ("their-gateway",) and node.state == "running"
    qtbot.waitUntil(lambda: (window.system_map.refresh() or True)
                    and window.system_map.link("prices").status == "flowing", timeout=5_000)
    # Stop: politely (Ctrl+C ends a Python program: SIGINT), not a terminate
    row = panel.rows["their-strategy"]
    row.stop.click()
    qtbot.waitUntil(lambda: panel.state_of("their-strategy") == "stopped", timeout=10_000)
    assert "SIGINT" in panel.state_label("their-strategy")
    assert "terminating" not in window.log_view.text("their-strategy")
    # Start again, then Kill
    row.start.click()
    qtbot.waitUntil(lambda: running(window, "their-strategy"), timeout=START_MS)
    row.kill.click()
    qtbot.waitUntil(lambda: panel.state_of("their-strategy") == "crashed", timeout=10_000)
    assert "killed" in panel.state_label("their-strategy")
    # the rest ran on
    assert running(window, "their-gateway", "orderbook", "order_manager", "strategy")
    log = Path(adapter.config.log_dir) / "their-gateway.log"
    assert "listening" in log.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_check_an_external_process_from_its_row_and_save_the_card(qtbot, make_desk, config,
                                                                   tmp_path):
    """Its row's menu (right click on its name) and Processes > its name: Check... on a copy
    of it; the card in a dialog, saved as Markdown. Ours have no Check... (they are ours)."""
    plan = load_stack(ROOT / "docs" / "stacks" / "classmates.toml", base=config)
    adapter, window = make_desk(plan.config, plan=plan)
    title = window.process_panel.rows["their-gateway"].title
    (check,) = [a for a in title.actions() if a.text().startswith("Check")]
    assert "check_their-gateway" in window.menus.actions
    assert "check_orderbook" not in window.menus.actions
    assert not window.process_panel.rows["orderbook"].title.actions()
    check.trigger()
    dialog = window.stack.dialog
    assert dialog.windowTitle() == "Check their-gateway (gateway)"
    assert not dialog.save.isEnabled()
    qtbot.waitUntil(lambda: dialog.card is not None, timeout=60_000)
    assert dialog.card.exit_code == 0, dialog.card.text()
    assert "7 of 7 required points pass" in dialog.status.text()
    assert "PASS\nevery news frame is an integer 0-100" in dialog.text.toPlainText()
    assert dialog.save.isEnabled() and dialog.save_markdown(str(tmp_path / "card.md"))
    text = (tmp_path / "card.md").read_text(encoding="utf-8")
    assert text.startswith("# gateway check") and "| pass | every price frame" in text
    assert panel_states(window) == {"stopped"}, "the stack itself was not started"
    dialog.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_prices_in_another_teams_shape_are_read_and_the_desk_says_so(qtbot, make_desk, config,
                                                                     tmp_path):
    """Their Gateway sends JSON prices: our OrderBook reads them (counted, said once in its
    log), and the status line says how many frames came in other shapes, by name."""
    stack = tmp_path / "json-gateway.toml"
    stack.write_text(f"""
[stack]
symbols = "AAPL,MSFT"
[[process]]
name = "their-gateway"
role = "gateway"
cwd = {json.dumps(str(ROOT))}
command = ["{{python}}", "-u", "tests/interop/peers/mini_gateway.py", "--price-port",
           "{{price_port}}", "--news-port", "{{news_port}}", "--symbols", "{{symbols}}",
           "--rounds", "100000", "--shape", "json", "--record", "{{log_dir}}/sent.jsonl"]
[[process]]
name = "orderbook"
role = "orderbook"
[[process]]
name = "strategy"
role = "strategy"
[[process]]
name = "order_manager"
role = "order_manager"
""", encoding="utf-8")
    plan = load_stack(stack, base=config)
    adapter, window = make_desk(plan.config, plan=plan)
    window.process_panel.start_all.click()
    qtbot.waitUntil(lambda: "accepting prices as a JSON object of symbol -> price from the "
                            "gateway" in window.log_view.text("orderbook"), timeout=START_MS)
    label = window.status.labels["rejected"]
    qtbot.waitUntil(lambda: "other shapes" in label.text(), timeout=10_000)
    assert "prices as a JSON object of symbol -> price" in label.toolTip()
    assert adapter.controller.totals("orderbook").ticks_applied > 0
    assert window.log_view.text("orderbook").count("accepting prices") == 1


def panel_states(window):
    return {window.process_panel.state_of(n) for n in window.process_panel.rows}


def test_add_command_says_what_is_wrong_before_ok(qtbot, make_desk, config):
    adapter, window = make_desk(config)
    d = window.stack.add_command()
    d.name.setText("peer")
    assert "command line is needed" in d.problem.text()
    d.command.setText("no-such-program-q --port {order_port}")
    assert "no program 'no-such-program-q'" in d.problem.text()
    d.command.setText("ls {nope}")
    assert "no placeholder {nope}" in d.problem.text()
    d.command.setText("ls {order_port}")
    assert d.problem.text() == "" and d.buttons.button(OK).isEnabled()
    d.role.setCurrentText("order_manager")
    d.start_now.setChecked(False)
    d.buttons.button(OK).click()
    entry = adapter.model.entry("peer")
    assert entry == ProcessEntry("peer", "order_manager", command=("ls", "{order_port}"))
    assert window.process_panel.rows["peer"].external
