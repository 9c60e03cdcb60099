import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.flags import parse_args
from engine.config.schema import Config
from tests.support import ROOT

FLAGS = ["--host", "--bind", "--auth-token", "--price-port", "--news-port", "--order-port",
         "--confirm-port", "--symbols", "--shm-name", "--log-dir", "--tick-interval",
         "--news-interval", "--short-window", "--long-window", "--bullish", "--bearish", "--qty",
         "--account", "--seed", "--volatility", "--prices-csv", "--sync-orders", "--strict-wire", "--log-max-mb", "--max-clients",
         "--tls-cert", "--tls-key", "--tls-ca", "--insecure", "--remote", "--spin-us"]


def test_defaults_run_out_of_the_box():
    c = Config()
    assert (c.host, c.price_port, c.news_port, c.order_port, c.confirm_port) == \
        ("127.0.0.1", 5001, 5002, 5003, 5004)
    assert c.symbols == ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
    assert (c.tick_interval, c.news_interval, c.short_window, c.long_window) == (0.1, 1.0, 5, 20)
    assert (c.bullish, c.bearish, c.qty) == (60, 40, 10)
    assert Path(c.log_dir).is_absolute() and Path(c.log_dir).name == "logs"  # per-user folder
    assert len(c.signal_shm_name) <= 30


def test_flags_build_the_config():
    c, _ = parse_args(["--symbols", "aapl,MSFT", "--price-port", "6001", "--short-window", "3",
                       "--long-window", "9", "--bullish", "70", "--bearish", "30", "--qty", "5",
                       "--seed", "1", "--tick-interval", "0.5", "--shm-name", "desk2"])
    assert c.symbols == ("AAPL", "MSFT") and c.price_port == 6001
    assert (c.short_window, c.long_window, c.bullish, c.bearish, c.qty, c.seed) == \
        (3, 9, 70, 30, 5, 1)
    assert c.shm_name == "desk2" and c.tick_interval == 0.5
    c, _ = parse_args(["--bind", "0.0.0.0", "--auth-token", "s3cret", "--insecure", "--prices-csv",
                       "p.csv", "--host", "localhost", "--news-port", "6002", "--order-port",
                       "6003", "--confirm-port", "6004", "--news-interval", "0.5"])
    assert (c.bind, c.auth_token, Path(c.prices_csv).name) == ("0.0.0.0", "s3cret", "p.csv")
    assert (c.host, c.news_port, c.order_port, c.confirm_port, c.news_interval) == \
        ("localhost", 6002, 6003, 6004, 0.5)


@pytest.mark.parametrize("argv", [["--short-window", "20", "--long-window", "5"],
                                  ["--bullish", "30", "--bearish", "70"], ["--qty", "0"],
                                  ["--shm-name", "x" * 30], ["--symbols", "TOO_LONG_SYM"],
                                  ["--bind", "0.0.0.0"]])
def test_invalid_flags_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_non_loopback_bind_needs_a_token_and_tls_or_insecure():
    with pytest.raises(ValueError, match="auth-token"):
        Config(bind="0.0.0.0")
    with pytest.raises(ValueError, match="--tls-cert and\n?.*--tls-key|--insecure"):
        Config(bind="0.0.0.0", auth_token="s3cret")
    with pytest.raises(ValueError, match="go together"):
        Config(tls_cert="server.pem")
    assert Config(bind="0.0.0.0", auth_token="s3cret", insecure=True).bind_host == "0.0.0.0"
    tls = Config(bind="0.0.0.0", auth_token="s3cret", tls_cert="s.pem", tls_key="s.key")
    assert Path(tls.tls_cert).is_absolute() and tls.bind_host == "0.0.0.0"


@pytest.mark.parametrize("module", ["engine.gateway", "engine.orderbook", "engine.strategy",
                                    "engine.order_manager"])
def test_every_process_explains_the_same_flags(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                         text=True, cwd=ROOT, timeout=60).stdout
    for flag in FLAGS:
        assert option_line(flag).search(out), f"{module} --help lacks {flag}"


def option_line(flag: str):
    """A flag's own entry in --help (two spaces in, then the flag), not a mention of it in
    another flag's help (--bind's says it needs --auth-token)."""
    import re
    return re.compile(rf"^  {re.escape(flag)}(?![\w-])", re.MULTILINE)


def test_launcher_help():
    out = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--help"],
                         capture_output=True, text=True, timeout=60).stdout
    for flag in ["--headless", "--duration", "--summary"] + FLAGS:
        assert option_line(flag).search(out), f"launcher.py --help lacks {flag}"


def test_flags_are_never_abbreviated():
    """`--short 3` is refused, not quietly taken for --short-window (nor left for a saved
    setting to override)."""
    with pytest.raises(SystemExit) as exc:
        parse_args(["--short", "3"])
    assert exc.value.code == 2
    res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--short", "3",
                          "--headless"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "unrecognized arguments: --short 3" in res.stderr


def test_the_flags_say_what_was_given():
    from engine.config.flags import given
    _, ns = parse_args(["--short-window", "3", "--symbols", "A,B"])
    assert given(ns) == {"short_window": 3, "symbols": ("A", "B")}


def test_every_setting_is_declared_once_with_its_flag():
    from engine.config.schema import settings
    flags = [s.flag for _, s in settings()]
    assert sorted(flags) == sorted(FLAGS) and len(set(flags)) == len(flags)


def test_a_config_survives_its_own_command_line():
    from engine.config.flags import to_flags
    cfg = Config(symbols=("AAPL", "X"), short_window=3, long_window=9, seed=4,
                 prices_csv="p.csv", tick_interval=0.25, auth_token="s3cret",
                 sync_orders=True, log_max_mb=2.5, max_clients=50)
    back, _ = parse_args(to_flags(cfg))
    assert back == cfg.replace(auth_token=None)
    assert "s3cret" not in to_flags(cfg)


def test_symbols_as_a_count_make_a_universe():
    """--symbols 500: the five defaults, then three-letter names, the same every run, each
    once; a start price for each from its name (the same every run, $10 to $500)."""
    from engine.config.schema import MAX_UNIVERSE, universe
    from engine.trading.market import START_PRICES, start_price
    cfg, _ = parse_args(["--symbols", "500"])
    assert len(cfg.symbols) == 500 and len(set(cfg.symbols)) == 500
    assert cfg.symbols[:5] == ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
    assert cfg.symbols == universe(500) and universe(3) == cfg.symbols[:3]
    assert len(set(universe(MAX_UNIVERSE))) == MAX_UNIVERSE
    assert parse_args(["--symbols", "ibm, aapl"])[0].symbols == ("IBM", "AAPL")
    with pytest.raises(ValueError):
        universe(MAX_UNIVERSE + 1)
    prices = [start_price(s) for s in cfg.symbols[5:]]
    assert all(10 <= p <= 500 for p in prices) and len(set(prices)) > 400
    assert start_price("AAPL") == START_PRICES["AAPL"] and start_price("XYZ") == start_price("XYZ")
