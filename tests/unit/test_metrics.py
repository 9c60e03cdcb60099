"""Latency: a log-scale histogram whose percentiles stay within 1.6 % of the exact ones."""
import random

import numpy as np

from engine.measure.latency import Latency


def test_buckets_tile_the_number_line():
    prev_high = 0
    for i in range(64 * 32):
        low, high = Latency.bucket_range(i)
        if low >= 2 ** 62:
            break
        assert low == prev_high and high > low
        assert Latency.bucket(low) == i and Latency.bucket(high - 1) == i
        assert (high - low) / low <= 1 / 32 if low >= 64 else high - low == 1
        prev_high = high


def test_percentiles_close_to_exact():
    rng = random.Random(1)
    samples = [int(rng.lognormvariate(12, 1.0)) for _ in range(50_000)] + [3, 70, 10 ** 9]
    lat = Latency()
    for s in samples:
        lat.record(s)
    p = lat.percentiles_us()
    assert p["count"] == len(samples) and p["max"] == round(10 ** 9 / 1e3, 1)
    for q, key in ((50, "p50"), (99, "p99")):
        exact = np.percentile(samples, q) / 1e3
        assert abs(p[key] - exact) / exact < 0.02
    assert p["p50"] <= p["p99"] <= p["max"]


def test_empty_and_single():
    lat = Latency()
    assert lat.percentiles_us() == {"p50": None, "p99": None, "max": None, "count": 0}
    lat.record(123_456)
    assert lat.percentiles_us() == {"p50": 123.5, "p99": 123.5, "max": 123.5, "count": 1}


def test_record_many_buckets_exactly_as_record():
    """A round's samples recorded at once land in the same buckets as one by one (powers of
    two and their neighbours are where a bit length computed in floats would go wrong)."""
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.integers(-5, 100, 500), rng.integers(0, 10**12, 5000),
                             2 ** np.arange(45), 2 ** np.arange(1, 45) - 1,
                             2 ** np.arange(1, 45) + 1])
    one, many = Latency(), Latency()
    for v in values.tolist():
        one.record(v)
    many.record_many(values)
    many.record_many([])
    assert one._counts == many._counts
    assert (one.count, one.max_ns, one.min_ns) == (many.count, many.max_ns, many.min_ns)
    assert one.percentiles_us() == many.percentiles_us()
