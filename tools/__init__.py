"""Tools beside the product: they measure it, try to break it and picture it. They import
gui and engine; neither imports them (a test holds that).

    bench/       python -m tools.bench: the benchmark and its report (with the chart and
                 desk windows it measures as processes of their own)
    drill/       python -m tools.drill: the fault drill against a live stack
    screenshot   python -m tools.screenshot: docs/screenshot.png from a real running stack
"""
