"""`python -m engine.gateway`: the Gateway alone, in a terminal of its own (Ctrl+C stops it); the
process itself is engine/processes/gateway.py."""
from engine.processes.gateway import main

if __name__ == "__main__":
    raise SystemExit(main())
