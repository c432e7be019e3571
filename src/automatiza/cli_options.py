"""Option types shared by the `automatiza` subcommands (pt-BR errors)."""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """argparse type: an integer of at least 1, with a pt-BR error."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("use um número inteiro maior que zero")
    return value
