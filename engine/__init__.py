"""The engine: the four processes of the stack and everything they stand on. No Qt, and
nothing here names the desk (gui) or the tools; a test holds that.

Packages, lowest first (a package imports only those above it in this list):

    platforms/  what differs between Windows, macOS and Linux: consoles, signals, exit
                codes, ports; where files go (paths); what a process costs (resources)
    config/     the one Config: every setting declared once (schema), its flags (flags),
                the desk's saved values (saved); stacks and stack files (stack, stack_file)
    protocol/   the wire, sans IO: framing, every message, the NumPy fast paths
    measure/    Stats (what a process reports), latency histograms, rejection counts,
                tick-to-ack hop by hop, the trace hooks tools measure through
    net/        sockets: Server (with its LoadShedder and LogLimiter), EventLoop, the
                reconnecting client, the UDP doorbell, ports, TLS
    shm/        shared memory: the seqlocked segment, the price book, the signal book, a
                stack's two books (StackMemory)
    trading/    the pure cores of the four: the market (random walk, CSV replay), price
                ingest, the signal engines, the order ledger, the order desk, P&L
    records/    what a run leaves on disk: the order log (written, read back, CSV), sessions
    processes/  the four processes, each a thin shell over its core, and what every process
                shell shares (stop flag, logs, reports to the controller)
    control/    the controller over a roster of processes: lifecycle, supervision, events,
                the run's summary, the stack without a window (headless), a private
                stack's ports and names
    check/      the conformance checker: any team's component driven through the
                assignment's contract, its report card (python -m engine.check ROLE)
    testing/    the harness of tests and tools (stack configs, waiting, reading logs)

Entry modules, one per command:

    python -m engine.gateway | orderbook | strategy | order_manager   one process alone
    python -m engine.headless                                          the stack, no window
    python -m engine.check ROLE ...                                    a component's card
"""
