"""Sockets: everything that moves bytes (the protocol is engine.protocol's).

    server    Server: a non-blocking multi-client server on a shared selectors loop, capped
              frames and buffers, auth token, TLS; Peer; shed_totals() for a process's Stats
    shedding  LoadShedder: accepts paused when descriptors run out, the client cap, clients
              dropped past their time (the Server owns one)
    loglimit  LogLimiter: a burst of log lines of a kind, then a count
    loop      EventLoop: one thread's servers and their timers
    links     ClientLoop: one thread's client sockets (Links, each reconnected by a
              Connector thread that only connects), its waker, the IdleStrategy
    client    connect with capped backoff, Outage (a lost link said once), recv/send that
              turn OSError into ConnectionClosed
    doorbell  Doorbell and Ringer: a UDP wake-up after every batch in shared memory
    ports     listen() with a message naming the flag, free_ports()
    tls       the ssl contexts; `python -m engine.net.tls lab` makes a lab's certificates
"""
