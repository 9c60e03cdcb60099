"""What the kernel costs on this machine (engine.measure.floor): round trips between two Python
processes, the far end spawned, stopped and joined (the leak check holds it to that)."""
from engine.measure.floor import hop_floors_us, round_trips


def test_round_trips_are_measured_and_the_far_end_is_gone():
    rt = round_trips(n_hot=20, n_idle=5, gap=0.002)
    assert {k: len(v) for k, v in rt.items()} == {"tcp_rtt_hot_ns": 20, "tcp_rtt_idle_ns": 5,
                                                    "udp_rtt_hot_ns": 20, "udp_rtt_idle_ns": 5}
    assert all(x > 0 for v in rt.values() for x in v)


def test_the_maps_hops_get_a_floor_each_but_the_decision():
    floors = hop_floors_us(n_idle=5, gap=0.002)
    assert set(floors) == {"wake", "handled", "ack"} and all(f > 0 for f in floors.values())
