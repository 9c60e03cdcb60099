"""The command line: every setting's flag (the same for every process and the launcher, so a
stack started one process per terminal agrees with one started by the launcher), parsed into
a Config, and a Config written back as flags. Flags are never abbreviated
(`allow_abbrev=False`): `--short 3` is refused, not quietly taken for `--short-window`."""
from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import fields
from typing import Any, Dict, Optional, Sequence

from .saved import saved_text
from .schema import TOKEN_ENV, Config, settings


def _default_text(name: str) -> str:
    """' (default X)' for a flag's help: Config's default, said where it is declared."""
    f = next(f for f in fields(Config) if f.name == name)
    value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if value is None:
        return ""
    return f" (default {','.join(value) if isinstance(value, tuple) else value})"


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every setting's flag. A flag not given stays out of the namespace (default SUPPRESS),
    so `given(ns)` knows what the user said and Config's defaults stay in one place."""
    g = parser.add_argument_group("stack configuration (the same for every process)")
    for name, s in settings():
        text = s.help.replace("%", "%%")
        if s.switch:
            g.add_argument(s.flag, dest=name, action="store_true", default=argparse.SUPPRESS,
                           help=text)
            continue
        g.add_argument(s.flag, dest=name, type=s.parse, default=argparse.SUPPRESS,
                       help=text + _default_text(name).replace("%", "%%"))
    return parser


def given(ns: argparse.Namespace) -> Dict[str, Any]:
    """The settings the user gave on the command line, by field name."""
    names = {name for name, _ in settings()}
    return {k: v for k, v in vars(ns).items() if k in names}


def from_args(ns: argparse.Namespace) -> Config:
    values = given(ns)
    if not values.get("auth_token"):
        token = os.environ.get(TOKEN_ENV)
        if token:
            values["auth_token"] = token
    return Config(**values)


def parser_for(prog: str, description: str = "", **kwargs) -> argparse.ArgumentParser:
    """A parser of ours: flags are never abbreviated (`--short` is not `--short-window`)."""
    return argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False,
                                   **kwargs)


def parse_args(argv: Optional[Sequence[str]] = None, description: str = "",
               parser: Optional[argparse.ArgumentParser] = None):
    """Parse the shared flags (plus any the caller added to `parser`).

    Returns (config, namespace). An invalid combination exits with a one-line message.
    """
    parser = parser or parser_for(None, description)
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        cfg = from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    return cfg, ns


def to_flags(config: Config) -> list:
    """The command line that rebuilds `config` in a process started on its own (every
    setting with a value; the auth token travels in the environment, not on a command line
    anyone can read)."""
    out = []
    for name, s in settings():
        value = getattr(config, name)
        if value is None or value == () or name == "auth_token":
            continue
        if s.switch:
            out += [s.flag] if value else []
            continue
        out += [s.flag, saved_text(value)]
    return out
