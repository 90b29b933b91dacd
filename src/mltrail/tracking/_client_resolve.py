"""``TrackingClient.resolve_run``: find a run by its id, a unique id prefix or its name.

People type what they see: the eight characters of an id in a table, or the name they
gave a run. The command line, the UI and anything else that takes a run from a person
resolve it here, so the rule and its error messages are the same everywhere.
"""

from __future__ import annotations

import re

from mltrail._entities import LifecycleStage, Run, ViewType
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.tracking._client_base import ClientBase, to_view_type

RUN_ID_LENGTH = 32
MAX_LISTED_CANDIDATES = 10
MAX_SEARCHED_CANDIDATES = 100
_HEX = re.compile(r"[0-9a-f]+")
_REFERENCE_HINT = "Give a run id, a unique prefix of one, or a run name."


def _quoted(text: str) -> str:
    """Return ``text`` as a single-quoted string of the search filter grammar."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _describe(run: Run) -> str:
    info = run.info
    active = info.lifecycle_stage == LifecycleStage.ACTIVE.value
    stage = "" if active else f", {info.lifecycle_stage}"
    return (
        f"{info.run_id} ({info.run_name!r} in experiment {info.experiment_id}{stage})"
    )


class ResolveMixin(ClientBase):
    """The ``resolve_run`` method of ``TrackingClient``."""

    def resolve_run(
        self, reference: str, *, view_type: ViewType | str | int = ViewType.ALL
    ) -> Run:
        """Return the run that a person means by an id, an id prefix or a run name.

        A full 32-character id names its run. Anything else matches the runs whose
        id starts with it (ids are lowercase hexadecimal; case is ignored) and the
        runs whose name equals it exactly, in every experiment; exactly one run
        must match.

        Parameters
        ----------
        reference : str
            A run id, a unique prefix of one (such as the 8 characters that tables
            show), or a run name.
        view_type : ViewType or str or int, default=ViewType.ALL
            Which lifecycle stages to look in: active runs, deleted runs or both.

        Returns
        -------
        Run
            The one run that matches.

        Raises
        ------
        NotFoundError
            If no run matches.
        InvalidValueError
            If ``reference`` is not a non-empty str; if it matches several runs
            (the message lists them); or if the one run it matches is in the
            other lifecycle stage than ``view_type`` asks for.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0", run_name="tuned-forest").info.run_id
        >>> client.resolve_run("tuned-forest").info.run_id == run_id
        True
        >>> client.resolve_run(run_id[:8]).info.run_name
        'tuned-forest'
        """
        if not isinstance(reference, str) or not reference.strip():
            raise InvalidValueError(
                "run", reference, "a non-empty str", _REFERENCE_HINT
            )
        view = to_view_type(view_type)
        lowered = reference.lower()
        if len(lowered) == RUN_ID_LENGTH and _HEX.fullmatch(lowered):
            self._flush_pending(lowered)
            run = self._store.get_run(lowered)
            if _in_view(run, view):
                return run
            raise _wrong_stage(reference, view)
        candidates, complete = self._candidates(reference, view)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            elsewhere = (
                []
                if view is ViewType.ALL
                else self._candidates(reference, ViewType.ALL)[0]
            )
            if len(elsewhere) == 1:
                raise _wrong_stage(reference, view)
            raise NotFoundError("run", reference, _REFERENCE_HINT)
        listed = "; ".join(_describe(run) for run in candidates[:MAX_LISTED_CANDIDATES])
        count = f"{len(candidates)}" if complete else f"more than {len(candidates)}"
        more = "" if len(candidates) <= MAX_LISTED_CANDIDATES else "; ..."
        raise InvalidValueError(
            "run",
            reference,
            "a run id, a unique id prefix or a unique run name",
            f"It matches {count} runs: {listed}{more}. Give more characters of the id.",
        )

    def _candidates(self, reference: str, view: ViewType) -> tuple[list[Run], bool]:
        """Return the runs whose id starts with, or whose name is, ``reference``.

        The second item says whether that is all of them (at most a page is read).
        """
        self._flush_pending()
        experiment_ids: list[str] = []
        token: str | None = None
        while True:
            page = self._store.search_experiments(
                view_type=ViewType.ALL, page_token=token
            )
            experiment_ids.extend(item.experiment_id for item in page)
            token = page.token
            if not token:
                break
        conditions = [f"attributes.run_name = {_quoted(reference)}"]
        lowered = reference.lower()
        if _HEX.fullmatch(lowered):
            conditions.append(f"attributes.run_id LIKE '{lowered}%'")
        found = self._store.search_runs(
            experiment_ids,
            filter_string=" OR ".join(conditions),
            view_type=view,
            max_results=MAX_SEARCHED_CANDIDATES,
            order_by=("attributes.start_time DESC",),
        )
        # Compare again here: some databases compare names without case or
        # trailing spaces, and a person's reference must match exactly.
        matching = [
            run
            for run in found
            if run.info.run_name == reference or run.info.run_id.startswith(lowered)
        ]
        return matching, not found.token


def _in_view(run: Run, view: ViewType) -> bool:
    if view is ViewType.ALL:
        return True
    deleted = run.info.lifecycle_stage == LifecycleStage.DELETED.value
    return deleted == (view is ViewType.DELETED_ONLY)


def _wrong_stage(reference: str, view: ViewType) -> InvalidValueError:
    """Return the error for a run that exists in the other lifecycle stage."""
    wanted, actual = ("an active", "deleted")
    if view is ViewType.DELETED_ONLY:
        wanted, actual = ("a deleted", "active")
    return InvalidValueError("run", reference, f"{wanted} run", f"It is {actual}.")
