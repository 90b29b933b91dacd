"""The ``mltrail`` command line: a click group with one subgroup per noun.

Only the console script imports this package, so ``import mltrail`` never loads click
or rich. Commands parse options, call the tracking API and print; nothing more.
"""

from mltrail.cli._main import cli, main

__all__ = ["cli", "main"]
