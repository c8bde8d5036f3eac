"""Command-line options built from the config dataclasses, so each setting is declared once.

    add_options(parser.add_argument_group("training"), dataclasses.fields(TrainConfig))

A field becomes an option when its metadata has "help"; its type, default and choices come from the field
(metadata "flag" renames it, "choices" and "metavar" pass through). Booleans are switches (one that is on by
default is turned off by its flag, e.g. --no-augment).
"""
from __future__ import annotations

import argparse

_TYPES = {"int": int, "float": float, "str": str}


def add_options(group, fields, defaults_none=()) -> None:
    """One --option per field with a "help"; names in defaults_none default to None (meaning "not given")."""
    for f in fields:
        if "help" not in f.metadata:
            continue
        flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        if isinstance(f.default, bool):
            group.add_argument(flag, dest=f.name, action="store_false" if f.default else "store_true",
                               help=f.metadata["help"])
            continue
        default = None if f.name in defaults_none else f.default
        shown = f" (default: {f.default})" if f.default is not None else ""
        extra = {k: f.metadata[k] for k in ("choices", "metavar") if k in f.metadata}
        group.add_argument(flag, dest=f.name, type=_TYPES.get(str(f.type).replace(" | None", ""), str),
                           default=default, help=f.metadata["help"] + shown, **extra)


def given(args: argparse.Namespace, fields) -> dict:
    """The values of these fields that the command line set (None: not given)."""
    return {f.name: getattr(args, f.name) for f in fields
            if "help" in f.metadata and getattr(args, f.name, None) is not None}


def one_line_errors(parser: argparse.ArgumentParser, script: str) -> argparse.ArgumentParser:
    """A bad argument gives one line, not the usage dump: "error: ... (see python scripts/X.py --help)"."""
    parser.error = lambda message: parser.exit(2, f"error: {message} (see python {script} --help).\n")
    return parser
