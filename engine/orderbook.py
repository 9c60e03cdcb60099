"""`python -m engine.orderbook`: the OrderBook alone, in a terminal of its own (Ctrl+C stops
it); the process itself is engine/processes/orderbook.py."""
from engine.processes.orderbook import main

if __name__ == "__main__":
    raise SystemExit(main())
