"""The helper process's side: import what tasks need early, run tasks, answer each.

The process that starts the helper writes frames to its standard input and reads
answers from its standard output (see ``_protocol``). The helper answers each task
``done``, ``failed`` (with the exception) or ``refused`` (it could not even load
the task, which then runs in the asking process). It ends when its input ends or
its parent is gone, after finishing every task it has read: a plot's PNG still gets
drawn when the script that logged it has exited.

Work comes in this order: tasks the end of a run waits for (a model) as they
arrive, then the imports asked for, then renderings (a plot's PNG, marked in the
frame's header), which nobody waits for: a model never queues behind pictures.
Renderings wait for a quiet moment, ``RENDER_QUIET`` seconds with nothing new from
the parent: a loop of short fits keeps sending work, and drawing its pictures
(about 50 ms of CPU each, five per classifier) beside it would take the core that
the user's own threads (BLAS, OpenMP) compute on. The parent says ``busy`` when a
fit starts, so that a picture does not start just before the fit's model comes.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import importlib
import os
import pickle
import queue
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from mltrail import _config
from mltrail._worker._protocol import (
    CLEAR,
    DESCRIBE,
    PICKLE_PROTOCOL,
    ProtocolError,
    StoreCall,
    describe,
    dump_error,
    loads_task,
    read_frame,
    write_frame,
)
from mltrail._worker._tasks import Task, run_task

__all__ = ["BOOTSTRAP", "main", "serve"]

# What the helper's interpreter runs: the parent's sys.path first, so that the
# helper imports the same mltrail, and the user's own modules, as the parent.
BOOTSTRAP = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from mltrail._worker._main import main; main()"
)
PARENT_CHECK_INTERVAL = 0.5
# How often the helper tells its parent it is alive, whatever it is doing: the
# parent kills a helper it has not heard from for a while (_helper.STALL_TIMEOUT).
PULSE_INTERVAL = 1.0
# Seconds without a new frame from the parent before a rendering starts.
RENDER_QUIET = 0.3
SWITCH_INTERVAL = 0.0002
# How long the helper may go on once its parent has ended (see _end_long_after).
ORPHAN_GRACE = 300.0
# Below the user's process: the helper's work must not slow the user's own code
# down, and whenever the user's process waits for it, it has the CPU to itself.
# (At the same priority, a model saved beside a fit whose BLAS runs two threads
# on two cores made OpenBLAS's threads wait for each other: 140 ms a fit instead
# of 105 ms, for an iris LogisticRegression logged to a server on the machine.)
NICENESS = 10

# The store's implementation: SQLAlchemy and the schema (see _serve_store).
STORE_MODULE = "mltrail.store._sql"
# How often a store call waiting for the import lock looks whether the task
# thread has imported the store meanwhile.
STORE_IMPORT_POLL = 0.005

Frame = list[bytearray]
# True in the helper process only (main() sets it): it saves models and never
# loads one, which lets it import skops from cached names (models/_skops.py).
IS_HELPER = False
# Put in the inbox by the watchdog: an empty frame, which no reader ever queues.
_PARENT_GONE: Frame = []
_import_lock = threading.Lock()
_answer_lock = threading.Lock()
_store_imported = threading.Event()
# How many modules were loaded when the collector last froze its objects.
_modules_frozen = 0


def main() -> None:
    """Serve the parent whose process id is ``sys.argv[2]``, then exit."""
    global IS_HELPER
    IS_HELPER = True
    parent_pid = int(sys.argv[2])
    input_fd, output_fd = os.dup(0), os.dup(1)
    # Whatever a library prints must not reach the parent's pipe.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is meant for the parent
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    warnings.simplefilter("ignore")  # nobody could see them
    # The store thread waits for the GIL while a task draws or saves: hand it over
    # sooner than every 5 ms, so that a store call the parent waits for is quick.
    sys.setswitchinterval(SWITCH_INTERVAL)
    threading.Thread(
        target=_end_long_after,
        args=(parent_pid,),
        name="mltrail-helper-end",
        daemon=True,
    ).start()
    serve(input_fd, output_fd, is_parent_alive=lambda: os.getppid() == parent_pid)
    # Skip the interpreter's teardown: everything is written, nothing is left.
    os._exit(0)


def _end_long_after(parent_pid: int) -> None:
    """End the process ``ORPHAN_GRACE`` seconds after its parent, whatever it does.

    A task may hang with nobody waiting for it (a PNG sent to a server that is
    gone, retried for ever): the pictures left undrawn are drawn again by
    ``mltrail runs render``, and no helper outlives its parent for long.
    """
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_INTERVAL)
    time.sleep(ORPHAN_GRACE)
    os._exit(0)


def serve(
    input_fd: int,
    output_fd: int,
    *,
    is_parent_alive: Callable[[], bool] | None = None,
) -> None:
    """Run the tasks read from ``input_fd`` until it ends or the parent is gone."""
    inbox: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
    # Store calls have a thread of their own: the parent waits for each, and must
    # not wait behind a model being saved or a picture being drawn.
    calls: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
    store_thread = _start("store", _serve_store, calls, output_fd)
    _start("reader", _read, input_fd, inbox, calls)
    if is_parent_alive is not None:
        _start("watchdog", _watch, is_parent_alive, inbox)
    done = threading.Event()
    pulse = _start("pulse", _pulse, output_fd, done)
    try:
        _serve_tasks(inbox, input_fd, output_fd)
    finally:
        calls.put(None)  # the calls read before the input ended are still made
        store_thread.join()
        done.set()
        pulse.join(timeout=PULSE_INTERVAL + 5.0)  # no pulse once this returns


def _start(name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
    """Start a daemon thread ``mltrail-helper-<name>`` running ``target(*args)``."""
    thread = threading.Thread(
        target=target, args=args, name=f"mltrail-helper-{name}", daemon=True
    )
    thread.start()
    return thread


def _serve_tasks(
    inbox: queue.SimpleQueue[Frame | None], input_fd: int, output_fd: int
) -> None:
    # Imports run between tasks, on this thread: importing on two threads at once
    # can hand one of them a partially initialized module (scikit-learn's modules
    # import each other), and a task is never kept waiting for more than one. The
    # store thread imports the store only under the same lock (see _serve_store).
    imports: collections.deque[str] = collections.deque()
    renderings: collections.deque[Frame] = collections.deque()
    is_parent_gone = False
    last_frame = time.monotonic()
    while True:
        quiet_in = RENDER_QUIET - (time.monotonic() - last_frame)
        try:
            if imports or (renderings and (quiet_in <= 0 or is_parent_gone)):
                frame = inbox.get_nowait()
            elif renderings:
                frame = inbox.get(timeout=quiet_in)
            elif is_parent_gone:
                # Finish what the parent wrote before it died: what the reader has
                # queued, and what is still in the pipe.
                frame = inbox.get(timeout=PARENT_CHECK_INTERVAL)
            else:
                frame = inbox.get()
        except queue.Empty:
            if imports:
                _import(imports.popleft())
            elif renderings:
                _handle(renderings.popleft(), output_fd, imports)
            elif is_parent_gone and not _is_readable(input_fd):
                return
            continue
        last_frame = time.monotonic()
        if frame is _PARENT_GONE:
            is_parent_gone = True
        elif frame is None or not _handle(frame, output_fd, imports, renderings):
            # The input ended: the pictures asked for are still drawn.
            while renderings:
                _handle(renderings.popleft(), output_fd, imports)
            return


def _read(
    input_fd: int,
    inbox: queue.SimpleQueue[Frame | None],
    calls: queue.SimpleQueue[Frame | None],
) -> None:
    while True:
        try:
            frame = read_frame(input_fd)
        except (OSError, ProtocolError):
            frame = None  # the parent died in the middle of a frame
        if frame and _kind(frame) == "store":
            calls.put(frame)
            continue
        inbox.put(frame)
        if frame is None:
            return


def _kind(frame: Frame) -> object:
    message = pickle.loads(frame[0])  # noqa: S301 - the parent's own pipe
    return message[0]


def _serve_store(calls: queue.SimpleQueue[Frame | None], output_fd: int) -> None:
    """Make the parent's store calls, in order, on the stores they name."""
    while True:
        frame = calls.get()
        if frame is None:
            return
        call_id = pickle.loads(frame[0])[1]  # noqa: S301 - the parent's own pipe
        try:
            call = pickle.loads(frame[1])  # noqa: S301 - the parent's own pipe
            if not isinstance(call, StoreCall):
                raise TypeError(f"not a store call: {type(call).__name__}")
            store = None if call.method == CLEAR else _open_store(call)
        except Exception as exc:  # the parent makes the call itself
            _answer(output_fd, ("refused", call_id, f"{type(exc).__name__}: {exc}"))
            continue
        try:
            result = _make(store, call)
            answer = pickle.dumps(result, protocol=PICKLE_PROTOCOL)
        except Exception as exc:  # the parent raises it, as its own store would
            _answer_failure(output_fd, call_id, exc)
        else:
            header = pickle.dumps(("done", call_id), protocol=PICKLE_PROTOCOL)
            _write(output_fd, [header, answer])


def _make(store: Any, call: StoreCall) -> object:
    if call.method == CLEAR:
        from mltrail.store._open import clear_store_cache

        clear_store_cache()
        return None
    if call.method == DESCRIBE:
        return describe(store)
    result = getattr(store, call.method)
    return result(*call.args, **call.kwargs) if callable(result) else result


def _open_store(call: StoreCall) -> Any:
    # Never beside an import of the task thread (see _serve_tasks). The task
    # thread may be importing the store right now, and take the lock again for
    # skops as soon as it is done: look at the event between tries, or this call
    # would wait for skops too.
    while not _store_imported.is_set():
        if _import_lock.acquire(timeout=STORE_IMPORT_POLL):
            try:
                with _collector_paused():
                    importlib.import_module(STORE_MODULE)
                _store_imported.set()
            finally:
                _import_lock.release()
            _freeze_modules()
    from mltrail.store._open import open_store

    return open_store(call.uri, artifact_root=call.artifact_root)


def _watch(
    is_parent_alive: Callable[[], bool], inbox: queue.SimpleQueue[Frame | None]
) -> None:
    # The pipe may outlive the parent when a child of the parent holds it open.
    while is_parent_alive():
        time.sleep(PARENT_CHECK_INTERVAL)
    inbox.put(_PARENT_GONE)


def _pulse(output_fd: int, done: threading.Event) -> None:
    # From a thread of its own: it stops when the whole process is stopped, or
    # when a call holds the GIL and never gives it back.
    pulse = [pickle.dumps(("alive", -1), protocol=PICKLE_PROTOCOL)]
    while not done.wait(PULSE_INTERVAL):
        _write(output_fd, pulse)


def _is_readable(fd: int) -> bool:
    """Whether reading ``fd`` would not block: data, or the end of the file."""
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _handle(
    frame: Frame,
    output_fd: int,
    imports: collections.deque[str],
    renderings: collections.deque[Frame] | None = None,
) -> bool:
    """Act on one frame; False when the parent said it is done.

    A rendering's frame goes to ``renderings``, to be run when nothing else waits.
    """
    message = pickle.loads(frame[0])  # noqa: S301 - the parent's own pipe
    kind = message[0]
    is_rendering = len(message) > 2 and bool(message[2])
    if kind == "task" and is_rendering and renderings is not None:
        renderings.append(frame)
    elif kind == "task":
        _run(message[1], frame[1:], output_fd)
    elif kind == "warm":
        imports.extend(name for name in message[1] if name not in sys.modules)
    # "busy" (a fit started) asks nothing more: a frame starts a new quiet moment.
    return bool(kind != "exit")


def _import(name: str) -> None:
    """Import what coming tasks need while the parent is still busy; never fail."""
    with _import_lock, contextlib.suppress(Exception), _collector_paused():
        importlib.import_module(name)
        if name == STORE_MODULE:
            _store_imported.set()
    _freeze_modules()


def _collector_paused() -> contextlib.AbstractContextManager[None]:
    """Keep the cyclic collector off for the length of an import, in the helper.

    Importing scikit-learn, scipy, pandas and SQLAlchemy makes some 300,000
    objects that live as long as the process, and the collector walks them again
    and again while they come: in one go, those imports took 1.25 to 1.75 s with
    it and 1.07 to 1.13 s without. The helper freezes after each import, which
    leaves less to walk; its whole list (``modules_needed``) still took a median
    of 1.62 s with the collector and 1.55 s without (4 runs each, alternating).
    What an import made is then frozen (``_freeze_modules``), so no later
    collection walks it either. The store thread's calls during an import leave
    their cycles to the next collection. Outside the helper (``serve`` in tests)
    the collector is left as it is.
    """
    if not IS_HELPER:
        return contextlib.nullcontext()
    from mltrail._json import paused_gc  # orjson: not for the user's process

    return paused_gc()


def _freeze_modules() -> None:
    """Keep the objects of the modules imported so far out of the collector's way.

    With scikit-learn, skops and SQLAlchemy loaded, each full collection walked
    every object of every module: about 100 ms, in the middle of a model's save
    that the end of a run waits for. Frozen objects are never walked again. Only
    after an import, so that what tasks leave behind stays collectable (but for
    the leftovers of a task that imported something, frozen with its modules).
    In the helper process only: freezing is process-wide, and ``serve`` also runs
    inside other processes (the tests).
    """
    global _modules_frozen
    if IS_HELPER and len(sys.modules) != _modules_frozen:
        gc.freeze()
        _modules_frozen = len(sys.modules)


def _run(task_id: int, parts: Sequence[bytearray], output_fd: int) -> None:
    try:
        task = loads_task(parts)
        if not isinstance(task, Task):
            raise TypeError(f"not a task: {type(task).__name__}")
    except Exception as exc:  # any loading failure: the parent runs it instead
        _answer(output_fd, ("refused", task_id, f"{type(exc).__name__}: {exc}"))
        return
    if task.artifacts.tracking_uri is not None:
        # The server whose artifact proxy the run's files go through, if any.
        _config.set_tracking_uri(task.artifacts.tracking_uri)
    try:
        run_task(task)
    except Exception as exc:  # reported to the parent, which warns as for its own
        _answer_failure(output_fd, task_id, exc)
    else:
        _answer(output_fd, ("done", task_id))
    _freeze_modules()  # what the task imported (matplotlib, for the first PNG)


def _answer_failure(output_fd: int, task_id: int, exc: BaseException) -> None:
    header = pickle.dumps(("failed", task_id), protocol=PICKLE_PROTOCOL)
    _write(output_fd, [header, dump_error(exc)])


def _answer(output_fd: int, message: tuple[object, ...]) -> None:
    _write(output_fd, [pickle.dumps(message, protocol=PICKLE_PROTOCOL)])


def _write(output_fd: int, parts: Sequence[bytes]) -> None:
    # Two threads answer (tasks, store calls): one frame at a time on the pipe.
    with _answer_lock, contextlib.suppress(OSError):  # the parent is gone
        write_frame(output_fd, parts)
