"""The four processes, each a thin shell (sockets, books, loop) over its core in
engine.trading, and what every process shell shares.

    gateway        Gateway: the price and news servers around a RandomWalk or CsvReplay
    orderbook      the OrderBook: Gateway prices through PriceIngest into the price book
    strategy       StrategyProcess: books, doorbell, the signal engine, orders
    news_link      NewsLink: the Strategy's link to the news port
    order_link     OrderLink: the Strategy's OrderLedger over a reconnecting socket (both
                   served by the Strategy's one loop, engine.net.links)
    order_manager  OrderManager: the order and confirmation servers around the OrderDesk
    shell          StopFlag; the two ways a process starts (a child of the controller, or
                   `python -m engine.<name>`); ServerProcess, the loop of a server process
    logs           a process's log file, its line to the controller, its console
    reports        ReportSender and Reporter: log records, state and Stats to the controller
Each process has a picklable `run_<name>(config, stop, reporter)` target and a `main`.
"""
