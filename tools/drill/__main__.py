"""`python -m tools.drill`: run the drill and print its table."""
from __future__ import annotations

import tempfile

from engine.config.flags import parser_for

from . import __doc__ as DOC
from . import drill_config, format_table, run_drill


def main(argv=None) -> int:
    p = parser_for("python -m tools.drill", DOC.split("\n\n")[0])
    p.add_argument("--only", default=None, help="comma-separated scenario names")
    p.add_argument("--load-clients", type=int, default=50)
    p.add_argument("--load-orders", type=int, default=1000, help="orders per load client")
    p.add_argument("--keep-logs", default=None, metavar="DIR",
                   help="write the drill's logs here (default: a temporary folder)")
    ns = p.parse_args(argv)
    tmp = None
    if ns.keep_logs:
        log_dir = ns.keep_logs
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ipcdesk-drill-")
        log_dir = tmp.name
    try:
        results = run_drill(drill_config(log_dir), ns.only.split(",") if ns.only else None,
                            ns.load_clients, ns.load_orders)
    finally:
        if tmp:
            tmp.cleanup()
    print()
    print(format_table(results))
    ok = results and all(r.passed for r in results)
    print(f"\n{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} "
          f"failed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
