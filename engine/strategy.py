"""`python -m engine.strategy`: the Strategy alone, in a terminal of its own (Ctrl+C stops it); the
process itself is engine/processes/strategy.py."""
from engine.processes.strategy import main

if __name__ == "__main__":
    raise SystemExit(main())
