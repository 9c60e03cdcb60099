"""What a run leaves on disk.

    order_log  orders.jsonl: OrderLog (appended and flushed before any ack), read back in one
               way (read_order_log), its P&L, and the CSV export
    sessions   a launch's own folder under the log folder, `latest`, summary.json
"""
