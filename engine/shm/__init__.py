"""Shared memory.

    segment     SeqlockBook: a header of 16 int64 slots and one NumPy row per symbol, written
                under a seqlock and read without a lock; opening without the resource
                tracker; a segment left by a crashed owner replaced or taken over
    price_book  SharedPriceBook: the latest price of every symbol, the readers' doorbells
    signal_book SignalBook: the Strategy's averages, positions and sentiment, for the desk
    stack       StackMemory: the two books of one stack, made, measured, released;
                footprint() of a stack of n symbols
"""
