"""Dataset inputs of runs in ``SqlStore``: record them and load them with runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
)
from mltrail.store import _schema as schema
from mltrail.store._sql_statements import (
    SqlStatements,
)
from mltrail.store._values import (
    check_dataset_input,
    check_items,
    check_run_id,
)


class InputsMixin(SqlStatements):
    """The dataset input methods of ``SqlStore``."""

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of a run; repeated inputs are ignored.

        Parameters
        ----------
        run_id : str
            The run's id.
        datasets : sequence of DatasetInput
            The datasets and the tags of their use (such as the context).

        Raises
        ------
        NotFoundError
            If the run does not exist.
        InvalidValueError
            If a dataset is invalid or the run is deleted.

        Examples
        --------
        >>> from mltrail import Dataset, DatasetInput, InputTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> train = DatasetInput(Dataset("iris", "ab12", "code", "{}"),
        ...                      [InputTag("mlflow.data.context", "train")])
        >>> store.log_inputs(run_id, [train])
        >>> store.get_run(run_id).inputs.dataset_inputs[0].dataset.name
        'iris'
        >>> store.close()
        """
        check_run_id(run_id)
        datasets = list(check_items("datasets", datasets, "DatasetInput"))
        for item in datasets:
            check_dataset_input(item)
        if not datasets:
            return
        ds = schema.datasets
        inputs = schema.run_inputs

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            experiment_id = conn.execute(
                sa.select(schema.runs.c.experiment_id).where(
                    schema.runs.c.run_id == run_id
                )
            ).scalar_one()
            for item in datasets:
                dataset = item.dataset
                conn.execute(
                    self._insert_ignore(ds),
                    {
                        "dataset_id": uuid.uuid4().hex,
                        "experiment_id": experiment_id,
                        "name": dataset.name,
                        "digest": dataset.digest,
                        "source_type": dataset.source_type,
                        "source": dataset.source,
                        "schema": dataset.schema,
                        "profile": dataset.profile,
                    },
                )
                dataset_id = conn.execute(
                    sa.select(ds.c.dataset_id).where(
                        ds.c.experiment_id == experiment_id,
                        ds.c.name == dataset.name,
                        ds.c.digest == dataset.digest,
                    )
                ).scalar_one()
                conn.execute(
                    self._insert_ignore(inputs),
                    {
                        "input_id": uuid.uuid4().hex,
                        "run_id": run_id,
                        "dataset_id": dataset_id,
                    },
                )
                input_id = conn.execute(
                    sa.select(inputs.c.input_id).where(
                        inputs.c.run_id == run_id, inputs.c.dataset_id == dataset_id
                    )
                ).scalar_one()
                if item.tags:
                    conn.execute(
                        self._insert_ignore(schema.input_tags),
                        [
                            {"input_id": input_id, "key": tag.key, "value": tag.value}
                            for tag in item.tags
                        ],
                    )

        self._write(work)

    def _load_inputs(
        self, conn: Connection, ids: list[str], inputs: dict[str, list[DatasetInput]]
    ) -> None:
        rows = self._fetch_in(conn, self._inputs_in, ids)
        if not rows:
            return
        input_tags: dict[str, list[InputTag]] = {row[0]: [] for row in rows}
        for input_id, key, value in self._fetch_in(
            conn, self._input_tags_in, list(input_tags)
        ):
            input_tags[input_id].append(InputTag(key, value))
        for input_id, run_id, *fields in rows:
            inputs[run_id].append(DatasetInput(Dataset(*fields), input_tags[input_id]))
