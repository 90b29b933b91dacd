"""``TrackingClient`` methods for experiments: create, get, search, delete and tag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mltrail._entities import (
    Experiment,
    LifecycleStage,
    PagedList,
    RunTag,
    ViewType,
)
from mltrail.tracking._client_base import (
    ClientBase,
    to_mapping,
    to_names,
    to_view_type,
)


class ExperimentsMixin(ClientBase):
    """The experiment methods of ``TrackingClient``."""

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> str:
        """Create an experiment and return its id.

        Parameters
        ----------
        name : str
            A name no other experiment has.
        artifact_location : str or None, default=None
            Where its runs' artifacts go; None for ``<artifact root>/<id>``.
        tags : mapping or None, default=None
            Experiment tags; values are converted with ``str``.

        Returns
        -------
        str
            The new experiment's id.

        Raises
        ------
        ConflictError
            If an experiment already has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("churn", tags={"team": "risk"})
        >>> client.get_experiment(experiment_id).tags
        {'team': 'risk'}
        """
        tag_list = [
            RunTag(key, str(value))
            for key, value in to_mapping("tags", tags, "Pass {'team': 'risk'}.").items()
        ]
        return self._store.create_experiment(
            name, artifact_location=artifact_location, tags=tag_list
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id, deleted or not.

        Parameters
        ----------
        experiment_id : str
            The experiment's id; ``"0"`` is Default.

        Returns
        -------
        Experiment
            The experiment.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().get_experiment("0").name
        'Default'
        """
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, or None.

        Parameters
        ----------
        name : str
            The experiment's name.

        Returns
        -------
        Experiment or None
            The experiment, or None if no experiment has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().get_experiment_by_name("Default").experiment_id
        '0'
        """
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Return one page of experiments.

        Parameters
        ----------
        view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            The page size.
        filter_string : str or None, default=None
            A filter such as ``"name LIKE 'churn%'"``.
        order_by : sequence of str or None, default=None
            Such as ``["name ASC"]``.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Experiment
            The experiments, with the token of the next page.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().search_experiments(order_by=["name"])[0].name
        'Default'
        """
        return self._store.search_experiments(
            view_type=to_view_type(view_type),
            max_results=max_results,
            filter_string=filter_string or "",
            order_by=to_names("order_by", order_by),
            page_token=page_token,
        )

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment and its runs to the trash.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("old")
        >>> client.delete_experiment(experiment_id)
        >>> client.get_experiment(experiment_id).lifecycle_stage
        'deleted'
        """
        self._store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.DELETED.value
        )

    def restore_experiment(self, experiment_id: str) -> None:
        """Take an experiment out of the trash.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("archived")
        >>> client.delete_experiment(experiment_id)
        >>> client.restore_experiment(experiment_id)
        >>> client.get_experiment(experiment_id).lifecycle_stage
        'active'
        """
        self._store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.ACTIVE.value
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Give an experiment a new name.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        new_name : str
            A name no other experiment has.

        Raises
        ------
        ConflictError
            If another experiment has ``new_name``.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("draft")
        >>> client.rename_experiment(experiment_id, "final")
        >>> client.get_experiment(experiment_id).name
        'final'
        """
        self._store.update_experiment(str(experiment_id), new_name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: object) -> None:
        """Set a tag on an experiment; the value is converted with ``str``.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        key : str
            The tag's name.
        value : object
            The tag's value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> client.set_experiment_tag("0", "team", "risk")
        >>> client.get_experiment("0").tags["team"]
        'risk'
        """
        self._store.update_experiment(
            str(experiment_id), tags=[RunTag(key, str(value))]
        )
