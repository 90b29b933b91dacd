"""Wine quality classification, tracked by mltrail: autolog plus a few manual logs.

The seed's "hybrid approach": ``mltrail.sklearn.autolog()`` records the model, its
params, training metrics, signature, input example and environment; the script adds
a held-out accuracy, a confusion matrix plot and a project tag to the same run.

Run it with ``python wine_quality.py``; it writes the run id to ``last_run_id.txt``.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split

import mltrail

PROJECT = "Wine Quality Classification"
RUN_ID_FILE = "last_run_id.txt"


def save_confusion_matrix(y_true: object, y_pred: object, path: str) -> None:
    """Draw the confusion matrix with matplotlib's object API and save it as PNG."""
    figure = Figure(figsize=(5, 4))
    axes = figure.subplots()
    display = ConfusionMatrixDisplay(confusion_matrix(y_true, y_pred))
    display.plot(ax=axes, cmap="Blues", colorbar=False)
    axes.set_title("Wine classes: test set")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> str:
    """Train, evaluate and log one run; return its id."""
    mltrail.sklearn.autolog()
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=42, stratify=y
    )
    with mltrail.start_run() as run:
        model = RandomForestClassifier(
            n_estimators=100, max_depth=6, min_samples_split=2, random_state=42
        )
        model.fit(X_train, y_train)
        y_pred = model.predict(X_test)
        accuracy = accuracy_score(y_test, y_pred)
        mltrail.log_metric("accuracy", accuracy)
        save_confusion_matrix(y_test, y_pred, "confusion_matrix.png")
        mltrail.log_artifact("confusion_matrix.png")
        mltrail.set_tag("project", PROJECT)
    Path(RUN_ID_FILE).write_text(run.info.run_id + "\n")
    print(f"run {run.info.run_id}: test accuracy {accuracy:.3f}")
    return run.info.run_id


if __name__ == "__main__":
    main()
