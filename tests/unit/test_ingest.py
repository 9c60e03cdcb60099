"""The vectorised price path (FrameDecoder.feed_block + PriceScanner with NumPy) must decide
exactly as the frame-by-frame rule on every frame: same valid ticks, same latest prices, same
rejected frames in the same order, same oversize count."""
import logging
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.protocol import FrameDecoder, PriceScanner
from engine.shm.price_book import SharedPriceBook
from engine.trading.ingest import PriceIngest

ROWS = {b"AAPL": 0, b"MSFT": 1, b"GOOG": 2, b"AMZN": 3, b"TSLA": 4, b"BRK.B": 5, b"X": 6}
PIECES = [b"AAPL", b"MSFT", b"GOOG", b"BRK.B", b"X", b"AAPLX", b"AAP", b"aapl", b"ZZZZZZZZZ",
          b"", b",", b",,", b"1", b"0", b"00", b"12.5", b"172.53", b".", b"..", b"1.", b".5",
          b"-3", b"+4", b"1e3", b"1e999", b"1e-999", b"nan", b"inf", b" 7", b"7 ", b"1_0",
          b"\xff", b"\x00", b"0.0", b"9" * 40, b"0." + b"0" * 40 + b"1", b"X\x00"]


def frame_text(rng):
    if rng.random() < 0.6:  # mostly well-formed ticks, as on the wire
        sym = rng.choice([b"AAPL", b"MSFT", b"GOOG", b"AMZN", b"TSLA", b"BRK.B", b"X"])
        return sym + b"," + f"{rng.uniform(0.001, 5000):.{rng.randint(0, 4)}f}".encode()
    return b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))


def reference(block, cap):
    """The frame-by-frame rule (PriceScanner.accept) on the frames FrameDecoder.feed() finds
    in the block's whole frames (as feed_block hands them over): an oracle that shares none
    of the scanner's splitting or counting."""
    dec = FrameDecoder(cap)
    frames = dec.feed(block[:block.rfind(b"*") + 1])
    sc = PriceScanner(ROWS, cap)
    decided = [(f, *sc.accept(f)) for f in frames]
    latest = {}
    for _, i, price in decided:
        if i is not None:
            latest[i] = (price, latest.get(i, (0, 0))[1] + 1)
    return latest, [f for f, i, _ in decided if i is None], dec.oversize


def as_dict(rows, prices, ticks, rejected, oversize):
    """scan_arrays' answer in scan's shape, checking its arrays on the way."""
    assert list(rows) == sorted(set(rows.tolist())) and len(prices) == len(ticks) == len(rows)
    assert prices.dtype == float and (ticks > 0).all()
    return (dict(zip(rows.tolist(), zip(prices.tolist(), ticks.tolist()))), rejected,
            oversize)


@pytest.mark.parametrize("seed", range(40))
def test_numpy_scan_matches_frame_by_frame(seed):
    rng = random.Random(seed)
    cap = rng.choice([8, 16, 64, 64 * 1024])
    block = b"".join(frame_text(rng) + b"*" for _ in range(rng.randint(1, 3000)))
    if rng.random() < 0.3:
        block = b"*" + block  # an empty first frame
    sc = PriceScanner(ROWS, cap)
    assert as_dict(*sc._scan_numpy(block)) == reference(block, cap)
    assert sc.scan(block) == reference(block, cap)
    assert as_dict(*sc.scan_arrays(block)) == reference(block, cap)


@pytest.mark.parametrize("seed", range(3))
def test_big_blocks_scan_in_slices_like_frame_by_frame(seed):
    """Blocks bigger than a NumPy slice, with frames longer than a slice among them."""
    rng = random.Random(seed)
    frames = [frame_text(rng) for _ in range(40_000)]
    for k in range(3):
        frames.insert(rng.randrange(len(frames)), b"AAPL," + b"1" * (150_000 + k))
    block = b"*".join(frames) + b"*"
    cap = 200_000
    assert PriceScanner(ROWS, cap).scan(block) == reference(block, cap)
    assert as_dict(*PriceScanner(ROWS, cap).scan_arrays(block)) == reference(block, cap)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=12)), max_size=60))
def test_numpy_scan_matches_on_arbitrary_bytes(pieces):
    block = b"*".join(pieces) + b"*"
    sc = PriceScanner(ROWS, 32)
    assert as_dict(*sc._scan_numpy(block)) == reference(block, 32)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=8),
       st.integers(1, 20))
def test_feed_block_holds_the_frames_feed_returns(data, cuts, cap):
    """Split anywhere: the blocks hold exactly feed()'s frames (after dropping empty and
    over-cap ones), and the oversize count and partial state agree."""
    cuts = sorted(set(c for c in cuts if c <= len(data)))
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    d1, d2 = FrameDecoder(cap), FrameDecoder(cap)
    frames, blocks_frames, in_block_over = [], [], 0
    for c in chunks:
        frames += d1.feed(c)
        for f in d2.feed_block(c).split(b"*")[:-1]:
            if len(f) > cap:
                in_block_over += 1
            elif f:
                blocks_frames.append(f)
    assert blocks_frames == frames
    assert d2.oversize + in_block_over == d1.oversize
    assert d2.eof_partial() == d1.eof_partial() and d2.pending == d1.pending


def test_price_ingest_counts_and_keeps_latest(shm_name):
    syms = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
    with SharedPriceBook(syms, name=shm_name) as book:
        ing = PriceIngest(book, syms, logging.getLogger("test"), 64 * 1024)
        good = b"".join(b"AAPL,%d.25*MSFT,%d.5*" % (k + 1, k + 2) for k in range(5000))
        assert ing.feed(good[:7001], 1) + ing.feed(good[7001:] + b"ZZZ,1*AAPL,0*", 2) == 10000
        assert ing.applied == 10000 and ing.rejections.total == 2
        assert book.read("AAPL") == 5000.25 and book.read("MSFT") == 5001.5
        assert book.read_row("AAPL").seq == 5000 and book.update_counter == 10000


def test_encode_price_rounds_is_symbol_comma_price_with_two_decimals():
    """The one price encoder, against plain text formatting of whole cents, and the decoder
    reading back what it wrote."""
    import numpy as np

    from engine.protocol import PriceTick, encode_price_rounds, parse_price
    syms = ["AAPL", "X", "BRK.B", "NVDA"]
    cents = np.random.default_rng(3).integers(1, 10 ** 11, size=(500, 4))
    cents[0] = [1, 9, 10, 99]
    cents[1] = [100, 101, 999_999, 10 ** 12]
    ref = b"".join(f"{s},{int(c) // 100}.{int(c) % 100:02d}*".encode()
                   for row in cents for s, c in zip(syms, row))
    assert encode_price_rounds(syms, cents) == ref
    # a round or two takes the scalar path (the Gateway at its demo rate): the same bytes
    for n in (1, 2, 16, 17):
        assert encode_price_rounds(syms, cents[:n]) == ref[:sum(
            len(f"{s},{int(c) // 100}.{int(c) % 100:02d}*")
            for row in cents[:n] for s, c in zip(syms, row))]
    with pytest.raises(Exception):
        encode_price_rounds(["AAPL", "bad*sym"], cents[:1, :2])  # checked on either path
    assert PriceTick("AAPL", 172.53).encode() == b"AAPL,172.53*"
    assert PriceTick("AAPL", 172.005).encode() in (b"AAPL,172.00*", b"AAPL,172.01*")
    assert parse_price(PriceTick("BRK.B", 0.07).encode()[:-1]) == ("BRK.B", 0.07)
    assert encode_price_rounds(syms, cents[:0]) == b""
    with pytest.raises(Exception):
        encode_price_rounds(syms, cents * 0)


def test_random_walk_batches_are_valid_ticks():
    from engine.trading.market import MIN_PRICE, RandomWalk
    syms = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
    walk = RandomWalk(syms, seed=5)
    data, n = walk.next_batch(2000)
    assert n == 10_000 and data.count(b"*") == n
    rows = {s.encode(): i for i, s in enumerate(syms)}
    latest, rejected, oversize = PriceScanner(rows).scan(data)
    assert not rejected and not oversize and sum(c for _, c in latest.values()) == n
    frames = data.split(b"*")[:5]
    assert [f.split(b",")[0] for f in frames] == [s.encode() for s in syms]
    walk.prices[:] = MIN_PRICE  # at the floor the walk never goes below a cent
    data, n = walk.next_batch(50)
    assert PriceScanner(rows).scan(data)[1] == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text("0123456789", min_size=0, max_size=20),
                          st.one_of(st.none(), st.text("0123456789", max_size=20))),
                min_size=1, max_size=30))
def test_prices_parsed_at_once_equal_float(parts):
    """The fast path's arithmetic parse (digits / 10**decimals up to 15 digits, NumPy's
    conversion beyond) gives float()'s value for every plain decimal text."""
    import numpy as np

    from engine.protocol.fastpath import _parse_prices
    texts = [(a + ("." + b if b is not None else "")).encode() for a, b in parts]
    texts = [t for t in texts if any(c in b"123456789" for c in t)]  # as the fast path admits
    if not texts:
        return
    block = b"*".join(texts) + b"*"
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 42)
    starts = np.concatenate(([0], ends[:-1] + 1))
    padded = np.frombuffer(block + b"\0" * 8, dtype=np.uint8)
    got = _parse_prices(padded, starts, ends).tolist()
    assert got == [float(t) for t in texts]
