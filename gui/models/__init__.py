"""The desk's models: no Qt import here (a test holds that), so plain pytest drives them.

    desk        DeskModel over the ProcessController: verbs, ProcView of each process,
                the status line's figures, the feed's state
    rates       RateMeter (a counter's rate from reports), FrameMeter (frames a second)
    confirms    ConfirmStream: confirmation bytes in, messages out, bad frames counted
    session     OrderSession: the session's orders, positions and P&L
    ring        Ring: a preallocated history, its latest rows one contiguous view
    chart_data  ChartData: the charts' history of the books and what each frame draws
    system      SystemModel: the System map's figures from the processes' reports
"""
