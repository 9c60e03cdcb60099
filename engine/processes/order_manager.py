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

import time
from pathlib import Path
from typing import List, Optional

from engine.config.schema import Config
from engine.measure import trace
from engine.measure.rejections import Rejections, reason_of
from engine.measure.stats import Stats
from engine.net.idle import IdleStrategy
from engine.net.loop import EventLoop
from engine.net.ports import PortInUse
from engine.net.server import Server, open_servers, shed_totals
from engine.protocol import (HELLO_FEATURES, Hello, Rejection, RemoteProtocolError,
                             SessionRequest, decode_json)
from engine.records.order_log import ORDERS_FILE, OrderLog
from engine.trading.order_desk import OrderDesk

from .reports import Reporter
from .shell import ServerProcess, fatal, process_main, server_tls


# to every order client as it connects: what we do beyond the assignment (our Strategy asks
# for its positions only after it; a plain Strategy ignores it as it ignores acks)
HELLO = Hello(server="ipc-trading-desk", features=list(HELLO_FEATURES)).encode()


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
        # orders acked but not yet printed and confirmed: done once every connection that
        # had orders in this turn of the loop has its acks (see _on_orders)
        self.unannounced: list = []
        self.session_listeners: set = set()  # ids of listeners that asked for the session
        self.loop = EventLoop()
        self.loop.idle = IdleStrategy(cfg.spin_us)  # hot a moment after orders (--spin-us)
        try:
            self.orders, self.confirms = open_servers(
                self.loop, log, cfg.bind_host,
                [(cfg.order_port, "orders",
                  {"on_frames": self._on_orders, "keep_slow_readers": True,
                   "on_connect": lambda server, peer: server.send(peer, HELLO),
                   "on_close": lambda _server, peer: self.desk.forget(peer.id),
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
        self._step()  # (the last orders' lines and confirmations)
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
        self.loop.idle.worked()  # another client's orders of the same round may follow
        if hook is not None:
            hook(frames, t_in, time.perf_counter_ns())
        if replies:
            server.send(peer, b"".join(replies))
        if self.desk.refused:
            self._tell_desks(self.desk.take_refused())
        # the printed line and the confirmation wait for the end of this turn of the loop:
        # several Strategies' orders arrive together, and each one's ack must not wait for
        # the others' log lines (ten clients sending an order at once, the p50 of their
        # acks: 2.0 ms before, 1.0 ms since; docs/performance.md says how it is measured)
        self.unannounced += accepted

    def _step(self) -> float:
        """The orders acked in the last turn: printed and confirmed to the listeners."""
        if self.unannounced:
            accepted, self.unannounced = self.unannounced, []
            confirms, lines = self.desk.announce(accepted)
            for line in lines:
                self.log.info(line)
            self.confirms.broadcast(b"".join(confirms))
        return 0.1

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
                     wire_variants=dict(desk.variants.by_name),
                     orders_assigned_id=desk.assigned,
                     replies_discarded_bytes=orders.discarded_bytes,
                     bad_frames=desk.rejections.total + orders.oversize_frames
                     + self.listener_rejections.total,
                     order_clients=orders.client_count,
                     confirm_clients=confirms.client_count,
                     dropped_slow=confirms.dropped_slow + orders.dropped_slow,
                     refused_auth=confirms.refused_auth + orders.refused_auth,
                     **shed_totals(orders, confirms),
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
