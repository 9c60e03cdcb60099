"""The charts: ChartsPanel (panel.py) draws the PriceSampler's history each frame.

    panel     ChartsPanel: four plots on one time axis, drawn each frame
    plots     the plots, their grid and y fitting
    legend    the legends beside the plots
    overlays  threshold bands, crosshair lines, the viewport's paint watcher
    toolbar   the toolbar, the plots' titles and the crosshair's readout text
    pens      how data lines are drawn
    tools     export (PNG, SVG, CSV), the price's y zoom, legend clicks
"""
