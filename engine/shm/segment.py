"""A shared-memory segment of ours: a seqlocked header plus one NumPy row per symbol
(SeqlockBook, the base of the price and signal books), opened without the resource tracker,
and a segment left by a crashed owner replaced or taken over.

Layout of a segment (all little-endian, 8-byte slots):

    header  16 x int64 = 128 bytes
        0 magic    1 layout version   2 row count      3 writer pid
        4 write_seq (odd while a write is in progress: a seqlock)
        5 update counter (ticks applied in all)        6 created_ns (identifies the segment)
        7 last_update_ns (perf_counter_ns of the latest write)
        8 owner pid (the process that created it and will unlink it)
        9..15 per-book extras: the price book's doorbell ports, the signal book's sentiment
    rows    one NumPy structured record per symbol

Writers hold the multiprocessing.Lock (when they were given one) and bump write_seq to odd
before and to even after changing anything. Readers never take the lock: they copy what they
need and retry when write_seq was odd or moved meanwhile, so they never see a torn row, even a
reader in its own terminal that has no Lock.
"""
from __future__ import annotations

import os
import sys
import time
from multiprocessing import shared_memory
from typing import Optional, Sequence

import numpy as np

from engine.config.schema import MAX_SHM_NAME, SYMBOL_RE
from engine.platforms.oscompat import pid_alive

HEADER_SLOTS = 16
HEADER_BYTES = HEADER_SLOTS * 8
H_MAGIC, H_VERSION, H_NROWS, H_WRITER, H_WSEQ, H_UPDATES, H_CREATED, H_LAST, H_OWNER = range(9)
H_EXTRA = 9
LAYOUT_VERSION = 2  # 2: four doorbell ports a header slot


class StaleSegmentInUse(RuntimeError):
    """A segment of that name exists and its owner is still alive."""


def _open(name: str, create: bool, size: int = 0) -> shared_memory.SharedMemory:
    """Open a segment. Attaching never registers it with the resource tracker.

    Python < 3.13 registers every SharedMemory it opens with the resource tracker, which then
    unlinks (or warns about) a segment this process does not own when it exits. Readers and
    writers that only attach must not do that, so they unregister at once (3.13+: track=False).
    """
    if create:
        return shared_memory.SharedMemory(name=name, create=True, size=size)
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, create=False, track=False)
    if os.name != "posix":  # no resource tracker on Windows
        return shared_memory.SharedMemory(name=name, create=False)
    # Never register in the first place: unregistering afterwards would also remove the
    # owner's registration when the owner (our parent) shares this tracker process.
    from multiprocessing import resource_tracker
    register = resource_tracker.register

    def skip_shared_memory(rname, rtype):
        if rtype != "shared_memory":
            register(rname, rtype)

    resource_tracker.register = skip_shared_memory
    try:
        return shared_memory.SharedMemory(name=name, create=False)
    finally:
        resource_tracker.register = register


# POSIX: unlink removes the name at once (the memory lives on while mapped). Windows: the name
# lives as long as any process holds the segment open, and there is no unlink.
UNLINK_REMOVES_NAME = os.name == "posix"


def _unlink_untracked(shm: shared_memory.SharedMemory) -> None:
    """Unlink a segment this process opened without registering it (see _open): on
    Python 3.10-3.12 SharedMemory.unlink() also unregisters it, and the resource tracker
    prints a KeyError traceback for a name it never had."""
    if not UNLINK_REMOVES_NAME:
        return
    unlink = getattr(getattr(shared_memory, "_posixshmem", None), "shm_unlink", None)
    if unlink is None or sys.version_info >= (3, 13):  # 3.13+: track=False never registers
        shm.unlink()
    else:
        unlink(shm._name)  # type: ignore[attr-defined]


def segment_exists(name: str) -> bool:
    try:
        shm = _open(name, create=False)
    except FileNotFoundError:
        return False
    shm.close()
    return True



class PrivateMemory:
    """Memory of this process only, shaped as a SharedMemory (buf, name, size, close,
    unlink): a book nobody else reads (a Strategy that does not publish its signals)."""

    def __init__(self, size: int):
        self._bytes = bytearray(size)
        self.buf = memoryview(self._bytes)
        self.size, self.name = size, "(private)"

    def close(self) -> None:
        self.buf.release()

    def unlink(self) -> None:
        pass


def _header_word(index: int, doc: str) -> property:
    """A read-only view of one word of the segment's header."""
    return property(lambda self: self._h[index], doc=doc)

class SeqlockBook:
    """A seqlocked header plus one structured row per symbol. Subclasses set these."""

    MAGIC = 0
    DTYPE: np.dtype = None  # the row layout (a subclass sets it, and MAGIC)

    def __init__(self, symbols: Sequence[str], name: Optional[str] = None, lock=None,
                 *, _shm: Optional[shared_memory.SharedMemory] = None, private: bool = False):
        self._lock = lock
        if _shm is None:
            symbols = tuple(symbols)
            for s in symbols:
                if not SYMBOL_RE.match(s):
                    raise ValueError(f"bad symbol {s!r}")
            if name is not None and len(name) > MAX_SHM_NAME:
                raise ValueError(f"shared-memory name {name!r} longer than {MAX_SHM_NAME}")
            size = HEADER_BYTES + self.DTYPE.itemsize * len(symbols)
            shm = PrivateMemory(size) if private else self._create(name, size, symbols)
            self.owner = True
        else:
            shm = _shm
            self.owner = False
        self._shm = shm
        self._h = shm.buf[:HEADER_BYTES].cast("q")
        if self.owner:
            h = self._h
            for i in range(HEADER_SLOTS):
                h[i] = 0
            h[H_VERSION] = LAYOUT_VERSION
            h[H_NROWS] = len(symbols)
            h[H_CREATED] = time.perf_counter_ns()
            h[H_OWNER] = os.getpid()
            self._init_extras()
        else:
            if self._h[H_MAGIC] != self.MAGIC or self._h[H_VERSION] != LAYOUT_VERSION:
                self._release()
                raise ValueError(f"segment {shm.name!r} is not a {type(self).__name__} "
                                 f"(layout {LAYOUT_VERSION})")
        n = self._h[H_NROWS]
        self.rows = np.ndarray((n,), dtype=self.DTYPE, buffer=shm.buf, offset=HEADER_BYTES)
        if self.owner:
            self.rows[:] = np.zeros(n, dtype=self.DTYPE)
            self.rows["symbol"] = [s.encode("ascii") for s in symbols]
            self._init_rows()
            self._h[H_MAGIC] = self.MAGIC  # last: attachers see a complete segment
        self.symbols = tuple(s.decode("ascii") for s in self.rows["symbol"])
        self.index = {s: i for i, s in enumerate(self.symbols)}
        # flat 8-byte views of the rows for cheap scalar writes (no NumPy call per tick)
        body = shm.buf[HEADER_BYTES:HEADER_BYTES + self.DTYPE.itemsize * n]
        self._f = body.cast("d")
        self._q = body.cast("q")
        self._stride = self.DTYPE.itemsize // 8

    def _create(self, name, size, symbols):
        try:
            return _open(name, create=True, size=size)
        except FileExistsError:
            pass
        # A segment of that name exists: replace it when whoever created it is gone, refuse
        # when it is alive.
        old = _open(name, create=False)
        owner, same_layout = self._inspect(old, size, symbols)
        if owner and pid_alive(owner):  # (this very process too: another book holds it)
            old.close()
            raise StaleSegmentInUse(
                f"shared memory {name!r} is in use by process {owner}; stop it or choose "
                f"another --shm-name")
        self.replaced_stale = True
        if UNLINK_REMOVES_NAME:
            _unlink_untracked(old)
            old.close()
            return _open(name, create=True, size=size)
        # Windows: its owner is gone but another process (a Strategy or OrderBook started by
        # hand) still holds it open, so the name cannot be freed. Take it over when it has
        # our layout (its readers then see our writes); otherwise say who is in the way.
        if same_layout:
            return old
        old.close()
        raise StaleSegmentInUse(
            f"shared memory {name!r} is left over from an earlier run (owner {owner} is gone) "
            f"with other symbols, and another process still holds it open (a Strategy or "
            f"OrderBook started by hand?): stop that process or choose another --shm-name")

    def _inspect(self, shm, size, symbols):
        """(owner pid, whether it is a segment of our kind with these very symbols)."""
        if shm.size < HEADER_BYTES:
            return 0, False
        h = shm.buf[:HEADER_BYTES].cast("q")
        try:
            owner = h[H_OWNER]
            same = (h[H_MAGIC] == self.MAGIC and h[H_VERSION] == LAYOUT_VERSION
                    and h[H_NROWS] == len(symbols) and shm.size >= size)
        finally:
            h.release()
        if same:
            rows = np.ndarray((len(symbols),), dtype=self.DTYPE, buffer=shm.buf,
                              offset=HEADER_BYTES)
            same = [x.decode("ascii") for x in rows["symbol"].tolist()] == list(symbols)
            del rows
        return owner, same

    replaced_stale = False

    def replaced(self) -> bool:
        """True when our segment's name now belongs to a newer complete segment of our kind:
        its owner unlinked ours when it stopped and a new owner created one under the same
        name (a standalone OrderBook started again). A reader must then attach again, or it
        reads the orphan for ever. POSIX only: on Windows a name cannot change hands while
        we hold the segment open."""
        if not UNLINK_REMOVES_NAME or self._shm is None:
            return False
        try:
            other = _open(self.name, create=False)
        except (FileNotFoundError, ValueError, OSError):
            return False
        try:
            if other.size < HEADER_BYTES:
                return False
            h = other.buf[:HEADER_BYTES].cast("q")
            try:
                return h[H_MAGIC] == self.MAGIC and h[H_CREATED] != self.created_ns
            finally:
                h.release()
        finally:
            other.close()

    @classmethod
    def attach(cls, name: str, lock=None):
        """Open an existing segment by name (the owner keeps it alive and unlinks it)."""
        shm = _open(name, create=False)
        return cls((), lock=lock, _shm=shm)

    def _init_extras(self):
        pass

    def _init_rows(self):
        pass

    # -- properties ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._shm.name

    @property
    def nbytes(self) -> int:
        """Bytes of the layout: header plus rows."""
        return HEADER_BYTES + self.DTYPE.itemsize * len(self.symbols)

    @property
    def segment_size(self) -> int:
        """Bytes the OS reports for the mapping (may be rounded up to a page)."""
        return self._shm.size

    created_ns = _header_word(H_CREATED, "time.time_ns() when the segment was created")
    update_counter = _header_word(H_UPDATES, "rows written since creation (every tick)")
    last_update_ns = _header_word(H_LAST, "time.time_ns() of the latest write")
    writer_pid = _header_word(H_WRITER, "pid of the process that holds the writer slot, or 0")

    def set_writer(self, pid: int) -> None:
        """Claim (pid) or release (0) the writer slot; repairs a seqlock a dead writer left odd."""
        self._begin()
        self._h[H_WRITER] = pid
        self._end()
        if self._h[H_WSEQ] & 1:
            self._h[H_WSEQ] += 1

    # -- seqlock ---------------------------------------------------------------------
    def _begin(self):
        if self._lock is not None:
            self._lock.acquire()
        self._h[H_WSEQ] += 1

    def _end(self):
        self._h[H_WSEQ] += 1
        if self._lock is not None:
            self._lock.release()

    # a reader gives up waiting for a write to finish only when write_seq has been stuck at the
    # same odd value this long: the writer died mid-write (a busy machine can pause a live
    # writer for tens of milliseconds, and giving up then would hand out a torn row)
    STUCK_AFTER_S = 1.0
    _stuck_seq = -1

    def _consistent(self, fn):
        h = self._h
        spins = 0
        stuck_since, stuck_at = None, -1
        while True:
            s1 = h[H_WSEQ]
            if not s1 & 1:
                result = fn()
                if h[H_WSEQ] == s1:
                    return result
                stuck_since = None  # the writer is making progress
            elif s1 == self._stuck_seq:
                return fn()  # we already waited out this dead writer once: don't again
            spins += 1
            if spins > 64:  # a writer is mid-write: yield the core to it
                now = time.perf_counter()
                if stuck_since is None or s1 != stuck_at:
                    stuck_since, stuck_at = now, s1
                elif now - stuck_since > self.STUCK_AFTER_S:
                    self._stuck_seq = s1  # until a new writer repairs the seqlock
                    return fn()
                time.sleep(0 if spins < 1000 else 0.0005)

    def snapshot(self) -> np.ndarray:
        """A consistent copy of all rows."""
        return self._consistent(self.rows.copy)

    # -- lifetime --------------------------------------------------------------------
    def _release(self):
        for attr in ("rows", "_f", "_q", "_h"):
            v = self.__dict__.pop(attr, None)
            if isinstance(v, memoryview):
                v.release()
        # (NumPy views are dropped with the attribute)

    def close(self) -> None:
        if getattr(self, "_shm", None) is None:
            return
        self._release()
        try:
            self._shm.close()
        except BufferError:  # a caller still holds a view; the OS frees it at exit
            pass
        self._closed_shm, self._shm = self._shm, None

    def unlink(self) -> None:
        shm = self._shm or getattr(self, "_closed_shm", None)
        if shm is None:
            return
        try:
            shm.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        if self.owner:
            self.unlink()

    def __reduce__(self):
        raise TypeError("pass the segment name to another process and attach() there")
