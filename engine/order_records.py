"""The session's order log (orders.jsonl, one JSON object a line, written by the
OrderManager) read back, and written out as CSV for a spreadsheet (the desk's Export)."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable, Iterator

# the columns of an export, in the order a person reads an order
CSV_COLUMNS = ("order_id", "time", "side", "qty", "symbol", "price", "client_order_id",
               "account")


def read_order_log(path) -> Iterator[dict]:
    """Every order of an order log, oldest first. A line that is not a JSON object (one cut
    short by a crash mid-write) is skipped, as the OrderManager skips it."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def write_orders_csv(records: Iterable[dict], path) -> int:
    """Orders as CSV (a header, then a row an order, CSV_COLUMNS; fields an order lacks are
    empty). Returns how many rows were written."""
    n = 0
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
        out.writeheader()
        for rec in records:
            out.writerow(rec)
            n += 1
    return n
