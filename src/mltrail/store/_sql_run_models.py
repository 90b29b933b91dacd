"""Runs' links to logged models in ``SqlStore``: model outputs and model inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._errors import NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._sql_logged_models import check_model_id
from mltrail.store._sql_statements import SqlStatements
from mltrail.store._values import check_int, check_run_id

__all__ = ["RunModelsMixin"]

_MODEL_ID_HINT = "Use the model_id of a logged model, such as 'm-0123...'."


class RunModelsMixin(SqlStatements):
    """The run-to-model links of ``SqlStore``."""

    def log_model_outputs(
        self, run_id: str, outputs: Sequence[tuple[str, int]]
    ) -> None:
        """Record logged models as outputs of a run, each at a step.

        Parameters
        ----------
        run_id : str
            The run's id.
        outputs : sequence of (str, int)
            ``(model_id, step)`` pairs; a repeated model keeps its first step.

        Raises
        ------
        NotFoundError
            If the run or a model does not exist.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run_id = store.create_run("0", user_id="a", start_time=0, run_name="r").info.run_id
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.log_model_outputs(run_id, [(model_id, 0)])
        >>> store.get_run_models(run_id)[1] == [(model_id, 0)]
        True
        >>> store.close()
        """  # noqa: E501
        self._link_models(run_id, schema.run_model_outputs, outputs)

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record logged models as inputs of a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        model_ids : sequence of str
            The models it used.

        Raises
        ------
        NotFoundError
            If the run or a model does not exist.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run_id = store.create_run("0", user_id="a", start_time=0, run_name="r").info.run_id
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.log_model_inputs(run_id, [model_id])
        >>> store.get_run_models(run_id)[0] == [model_id]
        True
        >>> store.close()
        """  # noqa: E501
        self._link_models(
            run_id,
            schema.run_model_inputs,
            [(model_id, None) for model_id in model_ids],
        )

    def _link_models(
        self,
        run_id: str,
        table: sa.Table,
        links: Sequence[tuple[str, int | None]],
    ) -> None:
        check_run_id(run_id)
        rows: dict[str, dict[str, Any]] = {}
        for model_id, step in links:
            check_model_id(model_id)
            row: dict[str, Any] = {"run_id": run_id, "model_id": model_id}
            if step is not None:
                row["step"] = check_int("step", step, "Use an int.")
            rows.setdefault(model_id, row)
        if not rows:
            return
        models = schema.logged_models

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            known = {
                row.model_id
                for row in conn.execute(
                    sa.select(models.c.model_id).where(models.c.model_id.in_(rows))
                )
            }
            for model_id in rows:
                if model_id not in known:
                    raise NotFoundError("logged model", model_id, _MODEL_ID_HINT)
            existing = {
                row.model_id
                for row in conn.execute(
                    sa.select(table.c.model_id).where(
                        table.c.run_id == run_id, table.c.model_id.in_(rows)
                    )
                )
            }
            new = [row for model_id, row in rows.items() if model_id not in existing]
            if new:
                conn.execute(table.insert(), new)

        self._write(work)

    def get_run_models(self, run_id: str) -> tuple[list[str], list[tuple[str, int]]]:
        """Return a run's model inputs (ids) and outputs (id and step).

        Parameters
        ----------
        run_id : str
            The run's id.

        Returns
        -------
        tuple of (list of str, list of (str, int))
            The input model ids, and the output ``(model_id, step)`` pairs.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run_id = store.create_run("0", user_id="a", start_time=0, run_name="r").info.run_id
        >>> store.get_run_models(run_id)
        ([], [])
        >>> store.close()
        """  # noqa: E501
        check_run_id(run_id)
        inputs = schema.run_model_inputs
        outputs = schema.run_model_outputs

        def work(conn: Connection) -> tuple[list[str], list[tuple[str, int]]]:
            used = [
                row.model_id
                for row in conn.execute(
                    sa.select(inputs.c.model_id)
                    .where(inputs.c.run_id == run_id)
                    .order_by(inputs.c.model_id)
                )
            ]
            made = [
                (row.model_id, row.step)
                for row in conn.execute(
                    sa.select(outputs.c.model_id, outputs.c.step)
                    .where(outputs.c.run_id == run_id)
                    .order_by(outputs.c.step, outputs.c.model_id)
                )
            ]
            return used, made

        return self._read(work)
