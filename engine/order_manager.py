"""`python -m engine.order_manager`: the OrderManager alone, in a terminal of its own (Ctrl+C stops
it); the process itself is engine/processes/order_manager.py."""
from engine.processes.order_manager import main

if __name__ == "__main__":
    raise SystemExit(main())
