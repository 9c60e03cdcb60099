"""Where the desk's data comes from; each source keeps its model and says when it changed.

    controller     ControllerAdapter: polls the DeskModel, its events as Qt signals, verbs
    confirmations  OrdersListener: the OrderManager's confirmations port (QTcpSocket), the
                   OrderSession kept, then signals
    prices         PriceSampler: the shared-memory books sampled into ChartData every
                   frame; the selected symbol, the marks, the fill markers
"""
