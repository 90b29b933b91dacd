"""What a new run learns about where it comes from: system tags and a random name."""

from __future__ import annotations

import getpass
import os
import sys

from mltrail._system_tags import (
    SOURCE_NAME_TAG,
    SOURCE_TYPE_TAG,
    USER_TAG,
)

__all__ = ["generate_run_name", "get_user", "system_tags"]


_ADJECTIVES = (
    "amber",
    "agile",
    "ample",
    "bold",
    "brave",
    "breezy",
    "bright",
    "brisk",
    "calm",
    "clever",
    "cosmic",
    "crisp",
    "curious",
    "dapper",
    "daring",
    "deft",
    "eager",
    "earnest",
    "fancy",
    "fearless",
    "fleet",
    "fluent",
    "gentle",
    "gifted",
    "glad",
    "golden",
    "graceful",
    "hardy",
    "honest",
    "humble",
    "jolly",
    "keen",
    "kind",
    "lively",
    "lucid",
    "lucky",
    "merry",
    "mighty",
    "nimble",
    "noble",
    "patient",
    "placid",
    "polite",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "serene",
    "sharp",
    "shiny",
    "silent",
    "sleek",
    "smart",
    "snappy",
    "sturdy",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zesty",
)
_ANIMALS = (
    "albatross",
    "alpaca",
    "ant",
    "badger",
    "bat",
    "bear",
    "beaver",
    "bee",
    "bison",
    "boar",
    "bobcat",
    "buffalo",
    "camel",
    "carp",
    "cat",
    "cheetah",
    "cod",
    "colt",
    "crab",
    "crane",
    "cricket",
    "crow",
    "deer",
    "dingo",
    "dolphin",
    "donkey",
    "dove",
    "duck",
    "eagle",
    "eel",
    "elk",
    "falcon",
    "ferret",
    "finch",
    "fox",
    "frog",
    "gazelle",
    "gecko",
    "goat",
    "goose",
    "gull",
    "hare",
    "hawk",
    "hen",
    "heron",
    "horse",
    "hound",
    "ibis",
    "jackal",
    "jay",
    "koala",
    "lark",
    "lemur",
    "lion",
    "llama",
    "lynx",
    "mink",
    "mole",
    "moose",
    "moth",
    "mouse",
    "newt",
    "otter",
    "owl",
    "panda",
    "parrot",
    "pig",
    "pony",
    "quail",
    "rabbit",
    "ram",
    "raven",
    "robin",
    "seal",
    "shark",
    "sheep",
    "shrew",
    "skunk",
    "sloth",
    "snail",
    "squid",
    "stag",
    "stork",
    "swan",
    "tern",
    "tiger",
    "toad",
    "trout",
    "turtle",
    "vole",
    "wasp",
    "whale",
    "wolf",
    "wren",
    "yak",
    "zebra",
)

_user: str | None = None


def generate_run_name() -> str:
    """Return a random run name such as ``brave-otter-417``, like MLflow's."""
    import random

    # Names are labels, not secrets: the non-cryptographic generator is enough.
    choice = random.choice
    return f"{choice(_ADJECTIVES)}-{choice(_ANIMALS)}-{random.randint(0, 999)}"  # noqa: S311


def get_user() -> str:
    """Return the OS user running this process, or ``"unknown"``."""
    global _user
    if _user is None:
        try:
            _user = getpass.getuser()
        except (OSError, KeyError):  # no login name and no passwd entry (containers)
            _user = "unknown"
    return _user


_source_names: dict[tuple[str, str], str] = {}


def _source_name() -> str:
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if not script or script == "-c":
        return "<console>"
    # realpath reads the file system once per path part: once per script is enough.
    ident = (script, os.getcwd())
    name = _source_names.get(ident)
    if name is None:
        name = _source_names[ident] = os.path.realpath(script)
    return name


def system_tags() -> dict[str, str]:
    """Return the tags that every run started by the fluent API records."""
    return {
        USER_TAG: get_user(),
        SOURCE_NAME_TAG: _source_name(),
        SOURCE_TYPE_TAG: "LOCAL",
    }
