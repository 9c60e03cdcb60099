"""The configuration every process and the launcher share.

    schema   Config: one frozen dataclass, each setting declared once with its flag, help,
             bounds and desk label; symbols and universes
    flags    the command line: every setting's flag, parsed into a Config and written back
    saved    the desk's remembered settings, merged under the command line
    stack    a stack as a plan: ProcessEntry (a process: role, own settings, account,
             command, dependencies, readiness, restart policy, host), StackPlan, the
             dependencies of a role, the default four
    stack_file  the TOML stack file read into a plan (every error with its file, line and
             key) and written back; --stack and --on-crash
"""
