"""A corpus of hostile names, tags and files: each one would run script if unescaped.

Every payload sets ``window.__xss`` (or calls ``alert``) when it runs; the browser
tests log them as run names, params, tags, metric keys, artifact names and contents,
then check that nothing ran.
"""

from __future__ import annotations

from pathlib import Path

import mltrail

MARK = "window.__xss=1"
PAYLOADS = (
    f"<script>{MARK}</script>",
    f'"><img src=x onerror="{MARK}">',
    f"'><svg onload={MARK}>",
    f"</script><script>{MARK}</script>",
    f"<iframe srcdoc='<script>parent.{MARK}</script>'></iframe>",
    f"javascript:{MARK}",
    f"' onmouseover='{MARK}' x='",
    f"<a href=javascript:{MARK}>x</a>",
    "{{7*7}}${7*7}<%= 7*7 %>",
    f"\u2028\u2029<!--<script>{MARK}</script>-->",
    f"<style>@import 'javascript:{MARK}';</style>",
    f"`${{{MARK}}}`",
)
# A run's HTML artifact that tries to act as the user: it must stay in its sandbox.
HOSTILE_HTML = """<!doctype html><html><body><h1>hostile report</h1><script>
try { parent.window.__xss = 1; } catch (e) {}
try { top.location = "/?hijacked=1"; } catch (e) {}
try { document.cookie = "stolen=1"; } catch (e) {}
fetch("/ajax-api/2.0/mlflow/runs/delete", {
  method: "POST", credentials: "include",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({run_id: "RUN_ID"})
}).catch(function () {});
</script></body></html>"""
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="parent.window.__xss=1">'
    "<script>parent.window.__xss=1</script><circle r='4'/></svg>"
)


def log_hostile_run(directory: Path) -> str:
    """Log one run whose every name and value is a payload; return its id."""
    with mltrail.start_run(run_name=PAYLOADS[0]) as run:
        run_id = run.info.run_id
        mltrail.log_params(
            {f"p{i}{payload}": payload for i, payload in enumerate(PAYLOADS)}
        )
        mltrail.set_tags(
            {f"t{i}{payload}": payload for i, payload in enumerate(PAYLOADS)}
        )
        for i, payload in enumerate(PAYLOADS):
            mltrail.log_metric(f"m{i}{payload}", float(i))
            mltrail.log_metric(f"m{i}{payload}", float(i + 1), step=1)
        mltrail.set_tag("mlflow.source.name", PAYLOADS[1])
        mltrail.set_tag("mlflow.note.content", PAYLOADS[2])
        mltrail.log_text(HOSTILE_HTML.replace("RUN_ID", run_id), "report.html")
        mltrail.log_text(HOSTILE_SVG, "picture.svg")
        mltrail.log_text(PAYLOADS[3], "notes.txt")
        mltrail.log_text(f"a,b\n{PAYLOADS[1]},{PAYLOADS[0]}\n", "table.csv")
        curve = {"label": PAYLOADS[0], "fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}
        roc = {"kind": "roc_curve", "curves": [curve]}
        mltrail.log_dict(roc, "plots/test_roc_curve.json")
        mltrail.log_dict({"kind": PAYLOADS[1]}, "plots/weird.json")
        names = directory / "names"
        names.mkdir()
        for i, payload in enumerate(PAYLOADS):
            safe = payload.replace("/", "_")
            (names / f"{i}{safe}.txt").write_text(payload)
        mltrail.log_artifacts(str(names), "names")
    return run_id


def register_hostile_model(
    model_run_id: str, hostile_run_id: str, name: str = PAYLOADS[1]
) -> str:
    """Register a model under a hostile name, description and tags; return its name.

    Version 1 is ``model_run_id``'s model; version 2 claims the hostile run as its
    source, so its pages show that run's name. ``champion`` moves from 1 to 2.
    """
    name = name.replace("/", "_").replace(":", "_")  # a name has neither
    client = mltrail.TrackingClient()
    client.create_registered_model(
        name,
        tags={f"t{i}{payload}": payload for i, payload in enumerate(PAYLOADS)},
        description=PAYLOADS[3],
    )
    mltrail.register_model(f"runs:/{model_run_id}/model", name)
    client.create_model_version(
        name,
        f"runs:/{model_run_id}/model",
        run_id=hostile_run_id,
        description=PAYLOADS[0],
        tags={PAYLOADS[2]: PAYLOADS[4]},
    )
    client.set_registered_model_alias(name, "champion", 1)
    client.set_registered_model_alias(name, "champion", 2)
    return name
