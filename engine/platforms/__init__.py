"""What differs between Windows, macOS and Linux, in one place: code elsewhere calls these
instead of testing `sys.platform` itself.

    oscompat   consoles, stop signals, the console-close handler, exit codes in the
               platform's words, port errors, is a pid alive, a kill from outside
    paths      the per-user data folder (platformdirs), where tools write by default
    resources  what a process costs: CPU seconds, current memory (psutil)
"""
