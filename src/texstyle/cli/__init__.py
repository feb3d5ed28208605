"""The command line: ``commands`` parses and runs each command, ``progress`` renders progress
events as a bar (the library only reports)."""

from .commands import build_parser, main

__all__ = ["build_parser", "main"]
