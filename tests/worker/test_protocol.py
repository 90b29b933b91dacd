"""The frames between a process and its helper: parts, messages, pickled tasks."""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from mltrail._worker._protocol import (
    ProtocolError,
    dumps_task,
    loads_task,
    read_frame,
    read_message,
    write_frame,
    write_message,
)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_frame_round_trips_its_parts(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    write_frame(write_end, [b"head", bytearray(b""), memoryview(b"tail")])
    assert read_frame(read_end) == [bytearray(b"head"), bytearray(), bytearray(b"tail")]


def test_frame_of_many_parts_goes_in_one_system_call(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forest's model travels as hundreds of arrays: one writev, not one write
    # each, so that the sending thread gives the GIL away once, not 400 times.
    read_end, write_end = pipe
    calls: list[int] = []
    writev = os.writev

    def counting_writev(fd: int, buffers: list[memoryview]) -> int:
        calls.append(len(buffers))
        return writev(fd, buffers)

    monkeypatch.setattr(os, "writev", counting_writev)
    parts = [bytes([index % 256]) * 100 for index in range(400)]

    write_frame(write_end, parts)

    assert calls == [401]  # the header and every part
    assert read_frame(read_end) == [bytearray(part) for part in parts]


def test_frame_beyond_the_pipe_and_the_buffer_limit_round_trips(
    pipe: tuple[int, int],
) -> None:
    # More parts than one writev or readv takes (IOV_MAX, 1024), more bytes than
    # the pipe holds (64 KiB): writes and reads stop in the middle of parts.
    read_end, write_end = pipe
    parts = [os.urandom(1 + index % 1500) for index in range(3000)]
    parts[7] = b""
    got: list[list[bytearray] | None] = []
    reader = threading.Thread(target=lambda: got.append(read_frame(read_end)))
    reader.start()

    write_frame(write_end, parts)

    reader.join(timeout=30)
    assert got == [[bytearray(part) for part in parts]]


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (b"ab" + b"cde", "cut after 3 of 5 bytes"),
        (b"ab" + b"fghij", "cut before part 2"),
    ],
    ids=["inside a later part", "before a later part"],
)
def test_frame_cut_in_a_later_part_names_where(
    pipe: tuple[int, int], sent: bytes, message: str
) -> None:
    read_end, write_end = pipe
    sizes = (2, 5, 4)
    header = (3).to_bytes(4, "big") + b"".join(
        size.to_bytes(8, "big") for size in sizes
    )
    os.write(write_end, header + sent)
    os.close(write_end)
    with pytest.raises(ProtocolError, match=message):
        read_frame(read_end)


def test_message_round_trips(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    write_message(write_end, ("done", 7))
    assert read_message(read_end) == ("done", 7)


def test_end_of_file_reads_as_none(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.close(write_end)
    assert read_frame(read_end) is None
    assert read_message(read_end) is None


def test_frame_cut_in_a_part_is_a_protocol_error(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    header = (1).to_bytes(4, "big") + (10).to_bytes(8, "big")
    os.write(write_end, header + b"abc")
    os.close(write_end)
    with pytest.raises(ProtocolError, match="cut after 3 of 10 bytes"):
        read_frame(read_end)


def test_frame_cut_after_its_count_is_a_protocol_error(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.write(write_end, (2).to_bytes(4, "big"))
    os.close(write_end)
    with pytest.raises(ProtocolError, match="after its part count"):
        read_frame(read_end)


def test_frame_cut_before_a_part_is_a_protocol_error(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.write(write_end, (1).to_bytes(4, "big") + (5).to_bytes(8, "big"))
    os.close(write_end)
    with pytest.raises(ProtocolError, match="cut before part 0"):
        read_frame(read_end)


def test_frame_of_no_parts_is_a_protocol_error(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.write(write_end, (0).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="a frame of 0 parts"):
        read_frame(read_end)


def test_message_that_is_not_a_tuple_is_a_protocol_error(
    pipe: tuple[int, int],
) -> None:
    read_end, write_end = pipe
    write_frame(write_end, [pickle.dumps(["done", 1])])
    with pytest.raises(ProtocolError, match="not a message"):
        read_message(read_end)


def test_task_arrays_travel_as_buffers_and_come_back_equal(
    pipe: tuple[int, int],
) -> None:
    read_end, write_end = pipe
    array = np.arange(100_000, dtype=np.float64)
    task = {"coef": array, "name": "forest"}
    parts = dumps_task(task)
    # The array is not inside the pickle: it is a view of the array's own memory.
    assert len(parts[0]) < 1_000
    assert np.shares_memory(np.frombuffer(parts[1], dtype=np.float64), array)
    writer = threading.Thread(target=write_frame, args=(write_end, parts))
    writer.start()  # more than a pipe holds: someone must read meanwhile
    received = read_frame(read_end)
    writer.join()
    assert received is not None
    rebuilt = loads_task(received)
    np.testing.assert_array_equal(rebuilt["coef"], array)
    assert rebuilt["name"] == "forest"


def test_task_pickles_without_cloudpickle(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # import raises
    parts = dumps_task({"value": np.ones(3)})
    np.testing.assert_array_equal(loads_task(parts)["value"], np.ones(3))


def test_task_defined_in_a_script_travels_by_value() -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec("def double(x):\n    return 2 * x\n", namespace)  # noqa: S102 - the test
    parts = dumps_task(namespace["double"])
    assert loads_task(parts)(21) == 42
