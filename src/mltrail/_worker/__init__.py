"""The helper process: autologging's serialization and rendering, off the user's.

``start()`` spawns it (``autolog()`` does), ``Task`` describes a piece of work it can
do, and a ``TaskBoard`` hands tasks to it and keeps the process's own background
thread in step, doing a task here whenever the helper cannot. See this folder's
README for the rules.
"""

from mltrail._worker._board import TaskBoard
from mltrail._worker._helper import start
from mltrail._worker._store import prepare as prepare_store
from mltrail._worker._tasks import RunArtifacts, Task, modules_needed, run_task

__all__ = [
    "RunArtifacts",
    "Task",
    "TaskBoard",
    "modules_needed",
    "prepare_store",
    "run_task",
    "start",
]
