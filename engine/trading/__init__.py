"""The pure cores of the four processes: no socket, no process, no clock of their own.

    market          the Gateway's prices: RandomWalk, CsvReplay
    ingest          PriceIngest: the OrderBook's price frames into the price book
    signals         SignalEngine: the Strategy's rules (crossover AND sentiment), symbol by
                    symbol; OrderIntent
    vector_signals  VectorSignalEngine: the same rules as array operations for a universe
    order_ledger    OrderLedger: the Strategy's orders and what became of them
    order_desk      OrderDesk: the OrderManager's decisions (frames in, acks out)
    pnl             PnLBook: profit and loss by average cost
"""
