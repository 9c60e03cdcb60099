"""What the kernel costs on this machine: one loopback TCP and UDP round trip between two
Python processes, back to back and `gap` seconds apart (the far end sleeps between messages
and has to be woken, as the processes of tick-to-ack do between ticks). The benchmark's
`floor` section and the desk's System map (each hop beside its floor) both measure it so.

`round_trips` spawns the far end (`echo_peer`, spawn context), times the round trips, and
stops and joins it before it returns: nothing is left behind."""
from __future__ import annotations

import multiprocessing as mp
import socket
import time
from typing import Dict

MESSAGE = b"x" * 64


def echo_peer(ports, stop_event) -> None:
    """The far end: echoes TCP messages (TCP_NODELAY) until the other end hangs up, then
    answers UDP datagrams, until `stop_event`."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    ports.put((tcp.getsockname()[1], udp.getsockname()[1]))
    tcp.settimeout(30)
    try:
        conn, _ = tcp.accept()
    except OSError:
        tcp.close()
        udp.close()
        return
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    udp.settimeout(0.2)
    conn.settimeout(0.2)
    try:
        while not stop_event.is_set():  # TCP until the parent hangs up, then UDP
            try:
                data = conn.recv(4096)
            except socket.timeout:
                continue
            if not data:
                break
            conn.sendall(data)
        while not stop_event.is_set():
            try:
                data, addr = udp.recvfrom(64)
            except socket.timeout:
                continue
            udp.sendto(data, addr)
    finally:
        conn.close()
        tcp.close()
        udp.close()


def _after(gap: float, fn):
    time.sleep(gap)
    return fn()


def round_trips(n_hot: int, n_idle: int, gap: float = 0.005) -> Dict[str, list]:
    """{"tcp_rtt_hot_ns", "tcp_rtt_idle_ns", "udp_rtt_hot_ns", "udp_rtt_idle_ns"}: the
    samples of each kind (nanoseconds)."""
    spawn = mp.get_context("spawn")
    ports, stop = spawn.Queue(), spawn.Event()
    proc = spawn.Process(target=echo_peer, args=(ports, stop), daemon=True,
                         name="ipcdesk-floor-echo")
    proc.start()
    res: Dict[str, list] = {}
    try:
        tcp_port, udp_port = ports.get(timeout=30)
        tcp = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def tcp_rtt():
            t = time.perf_counter_ns()
            tcp.sendall(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(tcp.recv(4096))
            return time.perf_counter_ns() - t

        res["tcp_rtt_hot_ns"] = [tcp_rtt() for _ in range(n_hot)]
        res["tcp_rtt_idle_ns"] = [_after(gap, tcp_rtt) for _ in range(n_idle)]
        tcp.close()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.settimeout(5)

        def udp_rtt():
            t = time.perf_counter_ns()
            udp.sendto(b"!", ("127.0.0.1", udp_port))
            udp.recvfrom(64)
            return time.perf_counter_ns() - t

        res["udp_rtt_hot_ns"] = [udp_rtt() for _ in range(n_hot)]
        res["udp_rtt_idle_ns"] = [_after(gap, udp_rtt) for _ in range(n_idle)]
        udp.close()
    finally:
        stop.set()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        ports.close()
        ports.join_thread()
    return res


def median_us(samples_ns) -> float:
    s = sorted(samples_ns)
    return round(s[len(s) // 2] / 1e3, 1) if s else 0.0


def hop_floors_us(n_idle: int = 60, gap: float = 0.005) -> Dict[str, float]:
    """The System map's hops' floors (us, p50): the doorbell that wakes the Strategy (half
    a UDP round trip), the order reaching the OrderManager and the ack coming back (half a
    TCP round trip each), `gap` apart; the decision is Python work, with no kernel floor."""
    rt = round_trips(5, n_idle, gap)
    return {"wake": round(median_us(rt["udp_rtt_idle_ns"]) / 2, 1),
            "handled": round(median_us(rt["tcp_rtt_idle_ns"]) / 2, 1),
            "ack": round(median_us(rt["tcp_rtt_idle_ns"]) / 2, 1)}
