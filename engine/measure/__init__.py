"""Measuring, the same definitions in the processes, the reports and the tests.

    stats       Stats: the one typed record a process reports (counters add up across
                restarts, gauges keep the latest; `links` for the System map)
    latency     Latency: log-scale histograms (within 1.6 %) and their percentiles
    rejections  Rejections: what was refused from a peer, by reason, logged sparingly
    hops        HopTracer: tick-to-ack hop by hop, live
    trace       the measuring hooks: module-level callables, None unless a tool sets them
"""
