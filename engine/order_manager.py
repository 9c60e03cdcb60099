"""OrderManager: accepts JSON orders from any number of Strategy clients, validates each,
numbers it, appends it to logs/orders.jsonl (flushed before the ack), prints
`Received Order 12: BUY 10 AAPL @ 173.20`, acknowledges it, and broadcasts a confirmation to
listeners (the launcher's orders table) on the confirmations port.

    python -m engine.order_manager [--order-port 5003] [--confirm-port 5004]

A resent order (same client_order_id) is acknowledged again with its first order_id and never
logged twice; numbering goes on from the log after a restart. An order written to the bare
assignment (no "type", no client_order_id; "quantity"/"action" for "qty"/"side"; side in any
case) is accepted too and given an id of ours (anon-...): such an order cannot be deduplicated.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional

from . import trace
from .config import Config
from .metrics import Rejections, reason_of
from .net import EventLoop, PortInUse, Server, open_servers, shedding
from .pnl import PnLBook
from .protocol import (Ack, Confirm, Order, PositionsReply, PositionsRequest, Rejection,
                       RemoteProtocolError, SessionRequest, SessionState, decode_json,
                       format_received, valid_id)
from .runtime import Reporter, ServerProcess, fatal, process_main, server_tls
from .stats import Stats

ORDERS_FILE = "orders.jsonl"
# orders sent again to a confirmation listener that connects (with the session's totals
# first): ~130 bytes each, well inside a client's output cap
REPLAY_MAX = 1000
REFUSED_KEPT = 200  # rejected order frames sent again to a desk that connects (<= ~400 B each)
_LINE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one per order


class OrderLog:
    """The durable order log: one JSON object a line, appended and flushed before any ack.

    Flushed means handed to the operating system: an acknowledged order survives the
    OrderManager crashing or being killed, not an OS crash or a power cut. With `sync` (the
    --sync-orders flag) each flush also waits for the disk (fsync): one fsync for all the
    orders that arrived together (group commit), so it costs a batch, not an order."""

    def __init__(self, path: Path, log: logging.Logger, sync: bool = False):
        self.path = path
        self.sync = sync
        self.syncs = 0
        self.known: Dict[str, int] = {}
        self.positions: Dict[str, Dict[str, int]] = {}
        # the session as a listener sees it: every account together (position, fills and
        # P&L per symbol in one book), and the latest orders
        self.count = 0
        self.recent: deque = deque(maxlen=REPLAY_MAX)
        self.pnl = PnLBook()
        self.next_id = 1
        self.loaded = 0
        bad = 0
        if path.exists():
            with path.open("rb") as fh:
                for raw in fh:
                    try:
                        rec = json.loads(raw)
                        oid, coid = int(rec["order_id"]), str(rec["client_order_id"])
                    except (ValueError, KeyError, TypeError):
                        bad += 1  # e.g. a line cut short by a crash mid-write
                        continue
                    self.known[coid] = oid
                    self.next_id = max(self.next_id, oid + 1)
                    self._position(rec)
                    self._seen(oid, coid, rec["side"], int(rec["qty"]), rec["symbol"],
                               float(rec["price"]), float(rec.get("time") or 0.0))
                    self.loaded += 1
            if self.loaded or bad:
                log.info("order log %s: %d orders, numbering goes on from %d%s", path,
                         self.loaded, self.next_id, f"; {bad} unreadable lines skipped" if bad
                         else "")
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
              t: float) -> None:
        self.count += 1
        self.recent.append((oid, coid, side, qty, symbol, price, t))
        self.pnl.fill(symbol, side, qty, price)

    def state(self) -> bytes:
        """What a confirmation listener gets first: the session's totals, then its latest
        orders again (replay), oldest first."""
        held = self.pnl.holdings
        frames = [SessionState(orders=self.count,
                               positions={s: h.position for s, h in held.items()},
                               fills={s: h.fills for s, h in held.items()},
                               replay=len(self.recent),
                               pnl={s: [h.average, h.realized_cents] for s, h in held.items()}
                               ).encode()]
        frames += [Confirm(order_id=oid, side=side, qty=qty, symbol=sym, price=price,
                           client_order_id=coid, time=t, replay=True).encode()
                   for oid, coid, side, qty, sym, price, t in self.recent]
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
        self.known[order.client_order_id] = oid
        self._move(account, order)
        now = round(time.time(), 6)
        self._seen(oid, order.client_order_id, order.side, order.qty, order.symbol,
                   float(order.price), now)
        # the line json.dumps would write for {"order_id", "client_order_id", "side",
        # "symbol", "qty", "price", "account", "time"}, written directly (side and symbol
        # are checked plain ASCII; the ids go through the JSON encoder)
        self._pending.append(
            (f'{{"order_id":{oid},"client_order_id":{_LINE(order.client_order_id)},'
             f'"side":"{order.side}","symbol":"{order.symbol}","qty":{order.qty},'
             f'"price":{float(order.price)!r},"account":{_LINE(account)},'
             f'"time":{now!r}}}\n').encode("utf-8"))
        return oid

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


def account_of(client_order_id: str) -> str:
    """'strategy-3f9a-17' -> 'strategy': the part before the session token and counter."""
    parts = client_order_id.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else ""


ASSIGNED_PREFIX = "anon"


class OrderDesk:
    """Sans-socket order handling: frames in, (acks, confirmations, printed lines) out."""

    def __init__(self, config: Config, log: logging.Logger, order_log: OrderLog):
        self.symbols = set(config.symbols)
        self.log = log
        self.orders = order_log
        self.rejections = Rejections(log, "order")
        self.accepted = 0
        self.duplicates = 0
        self.assigned = 0  # orders that came without a client_order_id
        self.refused: List[Rejection] = []  # handle()'s rejections, until take_refused()
        self.recent_refused: deque = deque(maxlen=REFUSED_KEPT)  # a desk's replay
        # ids this OrderManager gives such orders: anon-<run>.<client>-<n>, unique for the
        # connection and, with a random token per run, for the whole order log
        self._run = os.urandom(3).hex()

    def assign_id(self, peer_id: int) -> str:
        self.assigned += 1
        return f"{ASSIGNED_PREFIX}-{self._run}.{peer_id}-{self.assigned}"

    def handle(self, frames: List[bytes], peer_id: int = 0):
        """Returns (replies to the sender, in order; the orders accepted, as (order_id, order)
        pairs for announce()). Every accepted order is on disk (in the OS) when this returns,
        so the replies can go out at once; confirmations and printed lines can wait.
        `peer_id` names the connection in the ids given to orders that carry none."""
        replies: List[bytes] = []
        accepted: List[tuple] = []
        for f in frames:
            obj = None
            try:
                obj = decode_json(f)
                if obj.get("type") == "positions":
                    replies.append(self._positions(obj))
                    continue
                order = Order.from_dict(obj)
                if order.symbol not in self.symbols:
                    raise RemoteProtocolError(f"order: unknown symbol {order.symbol!r}")
            except RemoteProtocolError as exc:
                self.rejections.reject(reason_of(exc), str(exc))
                replies.append(Ack(client_order_id=_coid_of(obj), status="rejected",
                                   reason=str(exc)).encode())
                self.refused.append(Rejection.of(str(exc), f, time.time()))
                continue
            if order.client_order_id is None:  # an order written to the assignment
                order = order.with_id(self.assign_id(peer_id))
            coid = order.client_order_id
            oid = self.orders.known.get(coid)
            if oid is not None:
                self.duplicates += 1
                replies.append(Ack(client_order_id=coid, order_id=oid, status="duplicate").encode())
                continue
            oid = self.orders.add(order, account_of(coid))
            self.accepted += 1
            replies.append(Ack(client_order_id=coid, order_id=oid, status="accepted",
                               om_ns=time.perf_counter_ns() if order.tick_ns else None
                               ).encode())
            accepted.append((oid, order))
        self.orders.flush()  # on disk (in the OS) before any ack leaves
        return replies, accepted

    def take_refused(self) -> List[Rejection]:
        """The rejections since the last call (for the desks listening), kept for a replay."""
        out, self.refused = self.refused, []
        self.recent_refused.extend(out)
        return out

    def refused_replay(self) -> bytes:
        return b"".join(replace(r, replay=True).encode() for r in self.recent_refused)

    @staticmethod
    def announce(accepted: List[tuple]):
        """(confirmations to broadcast, lines to print) for orders handle() accepted: built
        after the acks have left, since nobody waits on them."""
        confirms = [Confirm(order_id=oid, side=o.side, qty=o.qty, symbol=o.symbol, price=o.price,
                             client_order_id=o.client_order_id).encode()
                    for oid, o in accepted]
        return confirms, [format_received(oid, o) for oid, o in accepted]

    def _positions(self, obj: dict) -> bytes:
        account = PositionsRequest.from_dict(obj).account
        held = {s: q for s, q in self.orders.positions.get(account, {}).items() if q}
        self.log.info("positions of %r: %s", account, held or "flat")
        return PositionsReply(account=account, positions=held).encode()


def _coid_of(obj: Optional[dict]) -> Optional[str]:
    coid = obj.get("client_order_id") if obj else None
    return coid if valid_id(coid) else None


class OrderManager(ServerProcess):
    """One run of the OrderManager: the order server (orders in, acks out), the
    confirmation server, the durable order log and the OrderDesk that decides."""
    name = "order_manager"

    def _open(self) -> None:
        cfg, log = self.config, self.log
        context = server_tls(cfg, log)
        self.order_log = OrderLog(Path(cfg.log_dir) / ORDERS_FILE, log, sync=cfg.sync_orders)
        self.desk = OrderDesk(cfg, log, self.order_log)
        self.listener_rejections = Rejections(log, "listener frame")
        self.session_listeners: set = set()  # ids of listeners that asked for the session
        self.loop = EventLoop()
        try:
            self.orders, self.confirms = open_servers(
                self.loop, log, cfg.bind_host,
                [(cfg.order_port, "orders",
                  {"on_frames": self._on_orders, "keep_slow_readers": True,
                   "input_port": True}),
                 (cfg.confirm_port, "confirmations", {"on_frames": self._on_listener})],
                max_frame=cfg.max_frame, out_cap=cfg.client_buffer_cap,
                auth_token=cfg.auth_token, nodelay=True, max_clients=cfg.max_clients,
                tls=context)
        except PortInUse as exc:
            self.loop.close()
            self.order_log.close()
            fatal(log, str(exc))
        self.reporter.running(order_port=self.orders.port, confirm_port=self.confirms.port)

    def _close(self) -> None:
        self.orders.close()
        self.confirms.close()
        self.loop.close()
        self.order_log.close()
        final = self.stats()
        self.reporter.send(final)
        self.log.info("order manager stopping: %d orders logged, %d duplicates, %d rejected",
                      final.orders_logged, final.orders_duplicate, final.orders_rejected)

    def _on_listener(self, server: Server, peer, frames: List[bytes]) -> None:
        """A confirmation listener asks for the session so far (the desk does on every
        connection, so that what it shows equals the order log); anything else it sends is
        counted and ignored."""
        for f in frames:
            try:
                SessionRequest.from_dict(decode_json(f))
            except RemoteProtocolError as exc:
                self.listener_rejections.reject(reason_of(exc), str(exc))
                continue
            self.session_listeners.add(peer.id)
            server.send(peer, self.order_log.state() + self.desk.refused_replay())

    def _on_orders(self, server: Server, peer, frames: List[bytes]) -> None:
        hook = trace.HOOKS.orders_handled
        t_in = time.perf_counter_ns() if hook is not None else 0
        replies, accepted = self.desk.handle(frames, peer.id)
        if hook is not None:
            hook(frames, t_in, time.perf_counter_ns())
        if replies:
            server.send(peer, b"".join(replies))
        if self.desk.refused:
            self._tell_desks(self.desk.take_refused())
        if not accepted:
            return
        confirms, lines = self.desk.announce(accepted)
        for line in lines:
            self.log.info(line)
        self.confirms.broadcast(b"".join(confirms))

    def _tell_desks(self, refused: List[Rejection]) -> None:
        """Rejections go to the listeners that asked for the session (desks) only."""
        live = {p.id: p for p in self.confirms.peers.values() if p.authed}
        self.session_listeners &= live.keys()
        data = b"".join(r.encode() for r in refused)
        for pid in self.session_listeners:
            self.confirms.send(live[pid], data)

    def stats(self) -> Stats:
        desk, orders, confirms = self.desk, self.orders, self.confirms
        return Stats(orders_logged=desk.accepted, orders_duplicate=desk.duplicates,
                     orders_rejected=desk.rejections.total,
                     rejection_reasons=dict(desk.rejections.by_reason),
                     orders_assigned_id=desk.assigned,
                     replies_discarded_bytes=orders.discarded_bytes,
                     bad_frames=desk.rejections.total + orders.oversize_frames
                     + self.listener_rejections.total,
                     order_clients=orders.client_count,
                     confirm_clients=confirms.client_count,
                     dropped_slow=confirms.dropped_slow + orders.dropped_slow,
                     refused_auth=confirms.refused_auth + orders.refused_auth,
                     **shedding(orders, confirms),
                     peak_backlog=max(confirms.peak_backlog, orders.peak_backlog),
                     largest_send=max(confirms.largest_send, orders.largest_send),
                     next_order_id=self.order_log.next_id,
                     links={"orders": {"frames": orders.frames_in, "bytes": orders.bytes_in,
                                       "clients": orders.client_count,
                                       "rejected": desk.rejections.total},
                            "acks": {"frames": desk.accepted + desk.duplicates
                                     + desk.rejections.total, "bytes": orders.bytes_out},
                            "confirmations": {"frames": desk.accepted,
                                              "bytes": confirms.bytes_out,
                                              "clients": confirms.client_count}})


def run_order_manager(config: Config, stop_event, reporter: Optional[Reporter] = None) -> None:
    """The process target (picklable by name for `spawn`)."""
    OrderManager(config, stop_event, reporter).run()


main = process_main("order_manager", run_order_manager, "OrderManager: order server, order "
                                                        "log and confirmations (Ctrl+C stops it).")


if __name__ == "__main__":
    raise SystemExit(main())
