"""The version of mltrail."""

__version__ = "0.1.0.dev0"
