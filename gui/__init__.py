"""The desk (PySide6 + pyqtgraph): sources -> models -> views, put together by the window.

    models/     no Qt (plain pytest drives them): the desk's controller model, rates, the
                confirmation stream, the order session, the charts' history, the System
                map's figures
    sources/    Qt objects that bring data in and keep a model: the controller's adapter
                (its events as signals), the confirmation listener (the session), the price
                sampler (the shared-memory books, every frame)
    views/      widgets over sources and models, each given them by the window; no view
                holds another (what two share lives in a source or a model)
    window/     the main window (it makes the sources and models and wires the views), the
                menus, the status line
    recording/  the recorder (the window to an MP4) and its Qt-free video writer

Entry modules: launch.py (`python launcher.py`, `ipcdesk`), app.py (the QApplication and the
desk), demo.py (`--demo-video`: the scripted tour). gui imports engine; engine never imports
gui; tools import both.
"""
