"""The configuration every process and the launcher share.

    schema   Config: one frozen dataclass, each setting declared once with its flag, help,
             bounds and desk label; symbols and universes
    flags    the command line: every setting's flag, parsed into a Config and written back
    saved    the desk's remembered settings, merged under the command line
"""
