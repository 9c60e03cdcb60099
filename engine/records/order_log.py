"""The order log, orders.jsonl in a session's folder: one JSON object a line, written by the
OrderManager (OrderLog: appended and flushed before any ack) and read back in one way
(`read_order_log`) by it, the summary's P&L and the desk's CSV export."""
from __future__ import annotations

import csv
import json
import logging
import mmap
import os
import time
from collections import deque
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional

from engine.protocol import Confirm, Order, SessionState
from engine.records.seen_ids import WINDOW, SeenIds
from engine.trading.pnl import AccountBooks, PnLBook

# the columns of an export, in the order a person reads an order
CSV_COLUMNS = ("order_id", "local_time", "time", "side", "qty", "symbol", "price",
               "client_order_id", "account")


def local_time(t) -> str:
    """Epoch seconds as the orders table shows them, with the date: 2026-12-04 03:44:49.815
    (local time). '' without a time."""
    if t in (None, ""):
        return ""
    t = float(t)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


ORDERS_FILE = "orders.jsonl"
# orders sent again to a confirmation listener that connects (with the session's totals
# first): ~130 bytes each, well inside a client's output cap
REPLAY_MAX = 1000
_LINE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one per order


class OrderLog:
    """The durable order log: one JSON object a line, appended and flushed before any ack.

    Flushed means handed to the operating system: an acknowledged order survives the
    OrderManager crashing or being killed, not an OS crash or a power cut. With `sync` (the
    --sync-orders flag) each flush also waits for the disk (fsync): one fsync for all the
    orders that arrived together (group commit), so it costs a batch, not an order."""

    def __init__(self, path: Path, log: logging.Logger, sync: bool = False,
                 window: int = WINDOW):
        self.path = path
        self.sync = sync
        self.syncs = 0
        # the ids logged, for deduplication: the latest ones, and counters (seen_ids.py)
        self.seen = SeenIds(self.find, window=window)
        self.positions: Dict[str, Dict[str, int]] = {}
        # the session as a listener sees it: every account together (position, fills and
        # P&L per symbol in one book), and the latest orders
        self.count = 0
        self.recent: deque = deque(maxlen=REPLAY_MAX)
        self.pnl = PnLBook()
        self.books: Dict[str, PnLBook] = {}  # the same, account by account
        self.next_id = 1
        self.loaded = 0
        bad = []
        for rec in read_order_log(path, on_skip=bad.append):
            oid, coid = rec["order_id"], rec["client_order_id"]
            self.seen.add(coid, oid)
            self.next_id = max(self.next_id, oid + 1)
            self._position(rec)
            self._seen(oid, coid, rec["side"], rec["qty"], rec["symbol"], rec["price"],
                       rec.get("time", 0.0), str(rec.get("account") or ""))
            self.loaded += 1
        if self.loaded or bad:
            log.info("order log %s: %d orders, numbering goes on from %d%s", path,
                     self.loaded, self.next_id,
                     f"; {len(bad)} unreadable lines skipped" if bad else "")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("ab")
        # a line cut short by a crash must not glue onto the next one
        if self._fh.tell() and not path.read_bytes().endswith(b"\n"):
            self._fh.write(b"\n")
        self._pending: List[bytes] = []

    def _position(self, rec: dict) -> None:
        account = str(rec.get("account") or "")
        if account:
            self._add(account, rec["symbol"], rec["qty"] if rec["side"] == "BUY" else -rec["qty"])

    def _seen(self, oid: int, coid: str, side: str, qty: int, symbol: str, price: float,
              t: float, account: str) -> None:
        self.count += 1
        self.recent.append((oid, coid, side, qty, symbol, price, t, account))
        self.pnl.fill(symbol, side, qty, price)
        if account:
            self.books.setdefault(account, PnLBook()).fill(symbol, side, qty, price)

    def state(self) -> bytes:
        """What a confirmation listener gets first: the session's totals, then its latest
        orders again (replay), oldest first."""
        frames = [SessionState(orders=self.count, replay=len(self.recent),
                               accounts={a: book_state(b) for a, b in self.books.items()},
                               **book_state(self.pnl)).encode()]
        frames += [Confirm(order_id=oid, side=side, qty=qty, symbol=sym, price=price,
                           client_order_id=coid, time=t, replay=True,
                           account=account or None).encode()
                   for oid, coid, side, qty, sym, price, t, account in self.recent]
        return b"".join(frames)

    def _move(self, account: str, order: Order) -> None:
        if account:
            self._add(account, order.symbol, order.qty if order.side == "BUY" else -order.qty)

    def _add(self, account: str, symbol: str, delta: int) -> None:
        book = self.positions.setdefault(account, {})
        book[symbol] = book.get(symbol, 0) + delta

    def add(self, order: Order, account: str) -> int:
        oid = self.next_id
        self.next_id += 1
        self.seen.add(order.client_order_id, oid)
        self._move(account, order)
        now = round(time.time(), 6)
        self._seen(oid, order.client_order_id, order.side, order.qty, order.symbol,
                   float(order.price), now, account)
        # the line json.dumps would write for {"order_id", "client_order_id", "side",
        # "symbol", "qty", "price", "account", "time"}, written directly (side and symbol
        # are checked plain ASCII; the ids go through the JSON encoder)
        self._pending.append(
            (f'{{"order_id":{oid},"client_order_id":{_LINE(order.client_order_id)},'
             f'"side":"{order.side}","symbol":"{order.symbol}","qty":{order.qty},'
             f'"price":{float(order.price)!r},"account":{_LINE(account)},'
             f'"time":{now!r}}}\n').encode("utf-8"))
        return oid

    def find(self, coid: str) -> Optional[int]:
        """The order id of the latest order the log on disk holds with client_order_id
        `coid`, or None (a search of the file: for a resend older than what is kept in
        memory)."""
        self.flush()
        quoted = _LINE(coid).encode("utf-8")
        with self.path.open("rb") as fh:
            try:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file
                return None
            with mm:
                end = len(mm)
                while True:
                    i = mm.rfind(quoted, 0, end)
                    if i < 0:
                        return None
                    start = mm.rfind(b"\n", 0, i) + 1
                    stop = mm.find(b"\n", i)
                    try:
                        rec = json.loads(mm[start:stop if stop >= 0 else len(mm)])
                        if rec.get("client_order_id") == coid:
                            return int(rec["order_id"])
                    except (ValueError, KeyError, TypeError, AttributeError):
                        pass  # a line cut short, or the id's text inside another field
                    end = start

    def flush(self) -> None:
        """Write and flush everything added since the last flush: call before sending acks."""
        if self._pending:
            self._fh.write(b"".join(self._pending))
            self._pending.clear()
            self._fh.flush()
            if self.sync:
                os.fsync(self._fh.fileno())
                self.syncs += 1

    def close(self) -> None:
        self.flush()
        self._fh.close()


def book_state(book: PnLBook) -> dict:
    """A P&L book as a session state carries it: positions, fills, [average, realized
    cents] per symbol."""
    held = book.holdings
    return {"positions": {s: h.position for s, h in held.items()},
            "fills": {s: h.fills for s, h in held.items()},
            "pnl": {s: [h.average, h.realized_cents] for s, h in held.items()}}


# the fields of a logged order, and how each is read back
FIELDS = {"order_id": int, "client_order_id": str, "side": str, "symbol": str, "qty": int,
          "price": float}


def read_order_log(path, on_skip: Optional[Callable[[bytes], None]] = None) -> Iterator[dict]:
    """Every order of an order log, oldest first, its fields typed (FIELDS; `time`, when
    there, a float). A line that is not a whole order (one cut short by a crash mid-write,
    or not ours) is skipped, and handed to `on_skip`. The OrderManager, the summary's P&L
    and the desk's export all read the log through this."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw)
                rec.update({k: read(rec[k]) for k, read in FIELDS.items()})
                if "time" in rec:
                    rec["time"] = float(rec["time"])
            except (ValueError, KeyError, TypeError, AttributeError):
                if on_skip is not None:
                    on_skip(raw)
                continue
            yield rec


def books_of_log(path) -> AccountBooks:
    """Every order of an order log in a P&L book of its account."""
    return AccountBooks().fills_from(read_order_log(path))


def pnl_of_log(path, marks: Mapping[str, float]) -> dict:
    """The session's P&L of an order log (the sum of its accounts'), its open positions
    marked to `marks`."""
    return books_of_log(path).summary(marks)


def accounts_of_log(path, marks: Mapping[str, float]) -> dict:
    """Each account of an order log: its orders, its open positions and its P&L (marked to
    `marks`). The accounts' P&L adds up to pnl_of_log's."""
    books = books_of_log(path)
    orders: Dict[str, int] = {}
    for a, b in books.books.items():
        orders[a] = sum(h.fills for h in b.holdings.values())
    return {a or "(none)": {"orders": orders[a],
                            "positions": {s: h.position for s, h in sorted(b.holdings.items())
                                          if h.position},
                            "pnl": b.summary(marks)}
            for a, b in sorted(books.books.items())}


def write_orders_csv(records: Iterable[dict], path) -> int:
    """Orders as CSV (a header, then a row an order, CSV_COLUMNS; fields an order lacks are
    empty): `local_time` as the table shows it (a spreadsheet reads it as a time), `time` the
    epoch seconds of the log. Returns how many rows were written."""
    n = 0
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
        out.writeheader()
        for rec in records:
            out.writerow(dict(rec, local_time=local_time(rec.get("time"))))
            n += 1
    return n
