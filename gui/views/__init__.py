"""The desk's widgets. Each takes the sources and models it reads in its constructor and
subscribes with `_on_*` handlers; none holds another view.

    charts/         ChartsPanel (panel) and its parts: plots, legend, overlays, toolbar,
                    pens, tools (export, y zoom, legend clicks)
    orders          the Orders pane (orders, rejections, header, export), with
    positions       the positions table
    watchlist       a universe's watchlist, with universe_map (a cell a symbol)
    system_map      the System map: nodes, links, moving dots, hops
    process_panel   a row a process: state, pid, CPU, memory, verbs, restart policy
    settings_panel  the settings the desk edits and remembers
    log_view        a tab a process, filter, pause, save
    tables          the table machinery all the tables share
    theme, guard    colours and fonts; errors at a C++ virtual's edge
"""
