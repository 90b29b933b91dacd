"""The wire format between a process and its helper: frames of byte parts on a pipe.

A frame is a count of parts, the length of each part, then the parts themselves.
Part 0 is a small pickled message (a tuple whose first item names it); a task adds
its own pickle as part 1 and the out-of-band buffers of that pickle (the arrays of a
model, never copied on the sending side) as the parts after it. Keeping the task in
a part of its own lets the helper refuse one task it cannot load (a class only the
sending process knows) and still read the next frame.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLEAR",
    "DESCRIBE",
    "ProtocolError",
    "StoreCall",
    "describe",
    "dump_error",
    "dumps_task",
    "load_error",
    "loads_task",
    "read_frame",
    "read_message",
    "write_frame",
    "write_message",
]

_COUNT = struct.Struct("!I")
_LENGTH = struct.Struct("!Q")
MAX_PARTS = 1 << 20
PICKLE_PROTOCOL = 5

Part = bytes | bytearray | memoryview
# Store calls the helper answers itself: the store's public names, each with
# whether it is callable; and forgetting the stores it opened.
DESCRIBE = "__describe__"
CLEAR = "__clear__"


class ProtocolError(Exception):
    """A frame ended early or is malformed: the other side died mid-write."""


# Buffers per readv/writev call: the system's limit (IOV_MAX, 1024 on Linux).
try:
    _IOV_MAX = max(16, os.sysconf("SC_IOV_MAX"))
except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
    _IOV_MAX = 16


def _advance(views: list[memoryview], head: int, count: int) -> int:
    """Drop ``count`` bytes from the views from ``head`` on; return the new head."""
    while count:
        size = views[head].nbytes
        if count < size:
            views[head] = views[head][count:]
            return head
        count -= size
        head += 1
    return head


def _write_all(fd: int, parts: Sequence[Part]) -> None:
    """Write ``parts`` in as few system calls as the pipe allows (writev).

    One call per frame, not one per part: a forest's model has hundreds of arrays,
    and each call gives the GIL away, which the sending thread may then wait a
    whole switch interval to get back while another thread computes.
    """
    views = [view for view in (memoryview(part).cast("B") for part in parts) if view]
    head = 0
    while head < len(views):
        written = os.writev(fd, views[head : head + _IOV_MAX])
        head = _advance(views, head, written)


def _read_exactly(fd: int, size: int) -> bytearray | None:
    """Read ``size`` bytes; None at a clean end of file before the first byte."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    done = 0
    while done < size:
        count = os.readv(fd, [view[done:]])
        if count == 0:
            if done == 0:
                return None
            raise ProtocolError(f"frame cut after {done} of {size} bytes")
        done += count
    return buffer


def _read_parts(fd: int, sizes: Sequence[int]) -> list[bytearray]:
    """Read parts of ``sizes`` bytes, many at a time (readv): see ``_write_all``."""
    parts = [bytearray(size) for size in sizes]
    indices = [index for index, size in enumerate(sizes) if size]
    views = [memoryview(parts[index]) for index in indices]
    head = 0
    while head < len(views):
        count = os.readv(fd, views[head : head + _IOV_MAX])
        if count == 0:
            index = indices[head]
            done = sizes[index] - views[head].nbytes
            if done == 0:
                raise ProtocolError(f"frame cut before part {index}")
            raise ProtocolError(f"frame cut after {done} of {sizes[index]} bytes")
        head = _advance(views, head, count)
    return parts


def write_frame(fd: int, parts: Sequence[Part]) -> None:
    """Write one frame of ``parts`` to the file descriptor ``fd``."""
    sizes = [memoryview(part).nbytes for part in parts]
    header = _COUNT.pack(len(parts)) + b"".join(_LENGTH.pack(size) for size in sizes)
    _write_all(fd, [header, *parts])


def read_frame(fd: int) -> list[bytearray] | None:
    """Read one frame from ``fd``; None when the writer closed its end cleanly."""
    head = _read_exactly(fd, _COUNT.size)
    if head is None:
        return None
    (count,) = _COUNT.unpack(head)
    if not 0 < count <= MAX_PARTS:
        raise ProtocolError(f"a frame of {count} parts")
    lengths = _read_exactly(fd, _LENGTH.size * count)
    if lengths is None:
        raise ProtocolError("frame cut after its part count")
    sizes = [size for (size,) in _LENGTH.iter_unpack(lengths)]
    return _read_parts(fd, sizes)


def write_message(fd: int, message: tuple[Any, ...]) -> None:
    """Write a frame holding only a small message."""
    write_frame(fd, [pickle.dumps(message, protocol=PICKLE_PROTOCOL)])


def read_message(fd: int) -> tuple[Any, ...] | None:
    """Read a frame holding only a small message; None at end of file."""
    parts = read_frame(fd)
    if parts is None:
        return None
    message = pickle.loads(parts[0])  # noqa: S301 - our own helper's pipe
    if not isinstance(message, tuple) or not message:
        raise ProtocolError(f"not a message: {message!r}")
    return message


def dumps_task(task: object) -> list[Part]:
    """Pickle ``task`` into parts: its pickle, then its buffers, uncopied.

    cloudpickle is used when installed, so that a class or function defined in the
    user's script travels by value; else the standard pickle.
    """
    buffers: list[pickle.PickleBuffer] = []
    try:
        import cloudpickle
    except ImportError:
        main = pickle.dumps(
            task, protocol=PICKLE_PROTOCOL, buffer_callback=buffers.append
        )
    else:
        main = cloudpickle.dumps(
            task, protocol=PICKLE_PROTOCOL, buffer_callback=buffers.append
        )
    return [main, *(buffer.raw() for buffer in buffers)]


def loads_task(parts: Sequence[Part]) -> Any:
    """Rebuild a task from the parts ``dumps_task`` made."""
    return pickle.loads(parts[0], buffers=parts[1:])  # noqa: S301 - our own pipe


@dataclass(frozen=True, slots=True)
class StoreCall:
    """A call of a tracking store's method that the helper makes for its parent.

    ``uri`` and ``artifact_root`` say which store (``open_store``'s arguments,
    resolved by the parent: an absolute SQLite path); ``method`` names the method,
    or a plain attribute such as ``artifact_root``, whose value is the result.
    """

    uri: str
    artifact_root: str | None
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def describe(store: object) -> dict[str, bool]:
    """Name the public attributes of ``store``, each with whether it is callable."""
    names = sorted(name for name in dir(store) if not name.startswith("_"))
    return {name: callable(getattr(store, name)) for name in names}


def dump_error(error: BaseException) -> bytes:
    """Pickle ``error`` so that it comes back as the same class with the same state.

    mltrail's errors take other arguments than their message, so the standard
    pickle cannot rebuild them: they travel as class, args and attributes. An
    error that cannot travel (its class refuses pickling) comes back as a
    ``RuntimeError`` naming it.
    """
    forms: list[tuple[Any, ...]] = []
    with contextlib.suppress(Exception):
        forms.append(("pickled", pickle.dumps(error, protocol=PICKLE_PROTOCOL)))
    if type(error).__reduce__ is BaseException.__reduce__:  # not a class that refuses
        # With its state, else without it (a value that cannot travel).
        state = dict(getattr(error, "__dict__", {}))
        forms += [("rebuilt", type(error), error.args, kept) for kept in (state, {})]
    text = (f"{type(error).__name__}: {error}",)
    forms.append(("rebuilt", RuntimeError, text, {}))
    for form in forms:
        try:
            data = pickle.dumps(form, protocol=PICKLE_PROTOCOL)
            if type(load_error(data)) is type(error) or form is forms[-1]:
                return data
        except Exception:  # noqa: S112 - the next form is simpler
            continue
    raise AssertionError("a RuntimeError of a str always travels")  # pragma: no cover


def load_error(data: Part) -> BaseException:
    """Rebuild an error that ``dump_error`` pickled."""
    form = pickle.loads(data)  # noqa: S301 - our own helper's pipe
    if form[0] == "pickled":
        error: BaseException = pickle.loads(form[1])  # noqa: S301 - as above
        return error
    _, kind, args, state = form
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error
