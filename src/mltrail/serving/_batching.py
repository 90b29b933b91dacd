"""Adaptive micro-batching: concurrent requests share one ``predict`` call.

Requests queue; one task takes them in batches of up to ``max_batch_size`` rows and
predicts each batch in a worker thread. It waits (at most ``max_delay`` seconds)
for more requests only while some are being read, or while the batch holds fewer
requests than the one before it: concurrent clients whose answers just went out
send their next requests within moments, and waiting for them makes one predict
call of what would be several. A lone client makes batches of one, so it pays no
delay. While a batch predicts, the next one fills up: under load, batches grow by
themselves. A batch that fails is predicted again request by request, so one bad
request never fails the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

__all__ = ["MicroBatcher"]

Predict = Callable[[Any], Any]


@dataclass(slots=True)
class _Item:
    data: Any
    rows: int
    future: asyncio.Future[Any] = field(repr=False)
    key: tuple[object, ...] | None = None


def _key(data: Any) -> tuple[object, ...]:
    """Return what requests share when their inputs concatenate (kind, columns)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return ("frame", tuple(data.columns.tolist()), tuple(data.dtypes.tolist()))
    return ("array", getattr(data, "dtype", None), getattr(data, "shape", (0,))[1:])


def _concat(items: list[_Item]) -> Any:
    import numpy as np
    import pandas as pd

    first = items[0].data
    if len(items) == 1:
        return first
    if isinstance(first, pd.DataFrame):
        return pd.concat([item.data for item in items], ignore_index=True)
    return np.concatenate([item.data for item in items])


def _slice(result: Any, start: int, stop: int) -> Any:
    import pandas as pd

    if isinstance(result, pd.DataFrame | pd.Series):
        return result.iloc[start:stop]
    return result[start:stop]


class MicroBatcher:
    """Gather concurrent requests into one ``predict`` call.

    Parameters
    ----------
    predict : callable
        ``predict(data) -> predictions``, one prediction row per input row.
    max_batch_size : int
        The most rows in one call.
    max_delay : float
        The longest a request waits for others to join its batch, in seconds.
    on_batch : callable or None, default=None
        Called with the rows of each batch (for metrics).
    """

    def __init__(
        self,
        predict: Predict,
        *,
        max_batch_size: int,
        max_delay: float,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay
        self.on_batch = on_batch
        self.reading = 0  # requests being read that will be submitted soon
        # About how many clients there are: the requests of the last batch, and
        # those that came while it predicted (their clients were not in it).
        self._expected = 1
        self._previous = 0
        self._early = 0
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the batching task on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the batching task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(
        self, data: Any, rows: int, key: tuple[object, ...] | None = None
    ) -> Any:
        """Queue one request's input and return its predictions.

        ``key`` is what requests whose inputs concatenate share (the parser knows
        it for its common case); by default it is read from ``data``.
        """
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(data, rows, future, key))
        return await future

    async def _gather(self, first: _Item) -> list[_Item]:
        assert self._queue is not None  # noqa: S101 - started before any submit
        batch = [first]
        rows = first.rows
        self._expected = self._previous + self._early
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_delay
        waited = False
        while rows < self.max_batch_size:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                waiting = self.reading > 0 or len(batch) < self._expected
                if waited or not waiting or remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    # What came meanwhile still joins: the deadline ends the wait,
                    # and a busy loop may see the timeout and the requests at once.
                    waited = True
                    continue
            if rows + item.rows > self.max_batch_size and batch:
                self._queue.put_nowait(item)  # it starts the next batch
                break
            batch.append(item)
            rows += item.rows
        self._previous = len(batch)
        return batch

    async def _run(self) -> None:
        assert self._queue is not None  # noqa: S101 - set by start()
        while True:
            first = await self._queue.get()
            batch = await self._gather(first)
            groups: dict[tuple[object, ...], list[_Item]] = {}
            for item in batch:
                key = item.key if item.key is not None else _key(item.data)
                groups.setdefault(key, []).append(item)
            for items in groups.values():
                await self._predict(items)
            # Requests that came before this batch was answered are from clients
            # that were not in it: they come on top of its own clients.
            self._early = self._queue.qsize()

    async def _predict(self, items: list[_Item]) -> None:
        if self.on_batch is not None:
            self.on_batch(sum(item.rows for item in items))
        try:
            result = await anyio.to_thread.run_sync(self.predict, _concat(items))
        except Exception as exc:  # isolated below, or passed on to the request
            if len(items) > 1:
                for item in items:
                    await self._predict([item])
            elif not items[0].future.done():
                items[0].future.set_exception(exc)
            return
        start = 0
        for item in items:
            if not item.future.done():
                item.future.set_result(_slice(result, start, start + item.rows))
            start += item.rows
