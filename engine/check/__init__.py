"""The conformance checker: any team's component, driven through the assignment's contract,
and a report card of what it honours.

    python -m engine.check gateway            --address HOST:PRICE_PORT,NEWS_PORT | --command "..."
    python -m engine.check orderbook-strategy --address HOST:PRICE_PORT,NEWS_PORT,ORDER_PORT
                                              | --command "..." [--command "..."]
    python -m engine.check order-manager      --address HOST:ORDER_PORT | --command "..."

card (the report card: points, their evidence, text and Markdown), wire (a client and a
server of the contract's frames, with timeouts), target (the component: at an address, or
started from its command with the placeholders of a stack file, stopped after), and one module
a role (gateway, orderbook_strategy, order_manager). cli reads the command line.
"""
