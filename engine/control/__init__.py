"""Starting, stopping and watching the processes of a stack (no Qt: the desk wraps it).

    roster         ProcessSpec and Roster: the processes a stack runs (from a StackPlan),
                   their start and stop orders from the dependencies; the default four
    controller     ProcessController: non-blocking verbs over a roster, the pump, the books;
                   processes added, changed and removed while the others run
    external       ExternalProcess: a command of the stack (another team's program) as a
                   child: own process group, output lines, polite stop; its PortProbe
    process_state  ProcState: one process as the controller keeps it
    events         StateChanged, LogLine, StatsUpdate: what listeners are told
    lifecycle      State and Change, the one transition table
    supervision    restart on crash with backoff and a limit; unresponsive
    summary        run_summary: a run in one dict
    headless       the stack without a window, every log line on the console
    private        a stack of its own: free ports and a shared-memory name nobody else uses
"""
