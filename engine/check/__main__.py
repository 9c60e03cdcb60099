"""`python -m engine.check ROLE ...`: the conformance checker (engine.check.cli)."""
from engine.check.cli import main

if __name__ == "__main__":
    main()
