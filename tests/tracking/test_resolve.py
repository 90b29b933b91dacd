"""``TrackingClient.resolve_run``: a run from its id, a unique id prefix or its name."""

from __future__ import annotations

import pytest

from mltrail._entities import ViewType
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.tracking import TrackingClient


def _run_id(client: TrackingClient, name: str, experiment_id: str = "0") -> str:
    return client.create_run(experiment_id, run_name=name).info.run_id


def test_full_id_resolves_in_any_case(client: TrackingClient) -> None:
    run_id = _run_id(client, "baseline")
    assert client.resolve_run(run_id).info.run_id == run_id
    assert client.resolve_run(run_id.upper()).info.run_id == run_id


def test_unique_prefix_resolves(client: TrackingClient) -> None:
    run_id = _run_id(client, "baseline")
    _run_id(client, "other")
    # Four characters could collide with the other run's id; take until unique.
    other = client.resolve_run("other").info.run_id
    length = next(n for n in range(1, 33) if run_id[:n] != other[:n])
    assert client.resolve_run(run_id[:length]).info.run_id == run_id
    assert client.resolve_run(run_id[:length].upper()).info.run_id == run_id


def test_name_resolves_across_experiments(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("churn")
    _run_id(client, "baseline")
    wanted = _run_id(client, "tuned", experiment_id)
    assert client.resolve_run("tuned").info.run_id == wanted


@pytest.mark.parametrize(
    "name",
    ['it\'s "quoted"', "back\\slash", "50% off_", "tail\\", "multi\nline"],
    ids=["quotes", "backslash", "like-wildcards", "trailing-backslash", "newline"],
)
def test_name_with_filter_syntax_resolves_exactly(
    client: TrackingClient, name: str
) -> None:
    wanted = _run_id(client, name)
    _run_id(client, name.upper() + "x")
    assert client.resolve_run(name).info.run_id == wanted


def test_name_must_match_exactly(client: TrackingClient) -> None:
    _run_id(client, "Baseline")
    _run_id(client, "baseline ")
    with pytest.raises(NotFoundError, match="run 'baseline' does not exist"):
        client.resolve_run("baseline")


def test_ambiguous_name_lists_the_candidates(client: TrackingClient) -> None:
    first = _run_id(client, "baseline")
    second = _run_id(client, "baseline")
    with pytest.raises(InvalidValueError, match="matches 2 runs") as excinfo:
        client.resolve_run("baseline")
    assert first in str(excinfo.value)
    assert second in str(excinfo.value)
    assert "Give more characters of the id." in str(excinfo.value)


def test_ambiguous_prefix_lists_the_candidates(client: TrackingClient) -> None:
    ids = [_run_id(client, f"run-{n}") for n in range(40)]
    # Among 40 random ids, some first hex digit is shared by at least 3.
    digit = max("0123456789abcdef", key=lambda d: sum(i[0] == d for i in ids))
    shared = [run_id for run_id in ids if run_id.startswith(digit)]
    with pytest.raises(InvalidValueError, match=f"matches {len(shared)} runs"):
        client.resolve_run(digit)


def test_many_candidates_are_listed_up_to_ten(client: TrackingClient) -> None:
    for _ in range(12):
        _run_id(client, "same")
    with pytest.raises(InvalidValueError, match="matches 12 runs") as excinfo:
        client.resolve_run("same")
    assert str(excinfo.value).count("'same' in experiment 0") == 10
    assert "; ..." in str(excinfo.value)


def test_view_type_restricts_the_candidates(client: TrackingClient) -> None:
    old = _run_id(client, "baseline")
    client.delete_run(old)
    new = _run_id(client, "baseline")
    assert client.resolve_run("baseline", view_type="ACTIVE_ONLY").info.run_id == new
    deleted = client.resolve_run("baseline", view_type=ViewType.DELETED_ONLY)
    assert deleted.info.run_id == old
    with pytest.raises(InvalidValueError, match="deleted"):
        client.resolve_run("baseline")


@pytest.mark.parametrize(
    ("view_type", "stage", "reference"),
    [
        (ViewType.ACTIVE_ONLY, "deleted", "id"),
        (ViewType.DELETED_ONLY, "active", "id"),
        (ViewType.ACTIVE_ONLY, "deleted", "name"),
        (ViewType.DELETED_ONLY, "active", "prefix"),
    ],
    ids=[
        "deleted-id-in-active-view",
        "active-id-in-deleted-view",
        "deleted-name-in-active-view",
        "active-prefix-in-deleted-view",
    ],
)
def test_run_in_the_other_stage_says_so(
    client: TrackingClient, view_type: ViewType, stage: str, reference: str
) -> None:
    run_id = _run_id(client, "baseline")
    if stage == "deleted":
        client.delete_run(run_id)
    given = {"id": run_id, "name": "baseline", "prefix": run_id[:8]}[reference]
    wanted = "an active" if stage == "deleted" else "a deleted"
    with pytest.raises(
        InvalidValueError, match=f"run must be {wanted} run; got .*It is {stage}."
    ):
        client.resolve_run(given, view_type=view_type)


@pytest.mark.parametrize(
    "reference",
    ["zzz", "0" * 32],
    ids=["unknown-name", "unknown-id"],  # a uuid4 hex is never all zeros
)
def test_unknown_reference_is_not_found(client: TrackingClient, reference: str) -> None:
    _run_id(client, "baseline")
    with pytest.raises(NotFoundError, match=f"run '{reference}' does not exist"):
        client.resolve_run(reference)


def test_unknown_prefix_is_not_found(client: TrackingClient) -> None:
    run_id = _run_id(client, "baseline")
    other = "0" if run_id[0] != "0" else "1"
    with pytest.raises(NotFoundError, match=f"run '{other}' does not exist"):
        client.resolve_run(other)


@pytest.mark.parametrize(
    "reference", ["", "   ", None, 42], ids=["empty", "blank", "none", "int"]
)
def test_bad_reference_is_an_invalid_value(
    client: TrackingClient, reference: object
) -> None:
    with pytest.raises(InvalidValueError, match="run must be a non-empty str"):
        client.resolve_run(reference)  # type: ignore[arg-type]
