"""The scoring app: MLflow's protocol for one model, safer, measured and validated.

``GET /ping``, ``/health``, ``/version``, ``POST /invocations`` as ``mlflow models
serve`` answers them; ``GET /metrics`` (Prometheus) and ``GET /openapi.json`` (the
model's real input schema) besides. Errors are MLflow's JSON body, without stack
traces or server paths.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mltrail._errors import InvalidValueError, MltrailError
from mltrail._version import __version__
from mltrail.serving._metrics import CONTENT_TYPE_LATEST, ServingMetrics
from mltrail.serving._openapi import openapi_document
from mltrail.serving._parsing import ScoringError, parse_request

if TYPE_CHECKING:
    from mltrail.serving._batching import MicroBatcher
    from mltrail.serving._model import ServedModel

__all__ = ["ServingSettings", "create_scoring_app", "jsonable"]

LOGGER = logging.getLogger("mltrail.serving")
JSON = "application/json"
# Requests this large predict off the event loop; smaller ones inline (lower latency).
INLINE_ROWS = 256
INTERNAL_MESSAGE = "The model failed to predict. The server's log has the details."


@dataclass(frozen=True, slots=True)
class ServingSettings:
    """How a scoring app behaves.

    Parameters
    ----------
    strict : bool, default=False
        Refuse (400) requests with validation findings instead of warning.
    max_batch_size : int, default=0
        Micro-batch concurrent requests up to this many rows; 0 is off.
    max_batch_delay_ms : float, default=2.0
        The longest a request waits for others to join its batch.
    max_body_bytes : int, default=100 MiB
        The largest request body accepted (as MLflow's nginx).
    """

    strict: bool = False
    max_batch_size: int = 0
    max_batch_delay_ms: float = 2.0
    max_body_bytes: int = 100 * 1024 * 1024


def jsonable(predictions: Any) -> Any:
    """Return predictions as MLflow's scoring server writes them."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return json.loads(predictions.to_json(orient="records"))
    if isinstance(predictions, pd.Series):
        return json.loads(predictions.to_frame().to_json(orient="records"))
    if isinstance(predictions, np.ndarray):
        if predictions.dtype.kind == "f" and not np.isfinite(predictions).all():
            # NaN and infinities are not JSON: they become null, as pandas writes.
            cleaned = predictions.astype(object)
            cleaned[~np.isfinite(predictions)] = None
            return cleaned.tolist()
        return predictions.tolist()
    if isinstance(predictions, np.generic):
        return predictions.item()
    return predictions


def _dumps(content: object) -> bytes:
    """Write compact JSON; orjson when it writes the same values as ``json``.

    orjson writes NaN as null where ``json`` (``allow_nan=False``) refuses it, and
    refuses integers beyond 64 bits: both go to ``json``, as before.
    """
    try:
        text = orjson.dumps(content)
    except TypeError:
        pass
    else:
        if b"null" not in text or not _has_nan(content):
            return text
    return json.dumps(content, separators=(",", ":"), allow_nan=False).encode()


def _has_nan(content: object) -> bool:
    if isinstance(content, float):
        return content != content or content in (math.inf, -math.inf)
    if isinstance(content, dict):
        return any(_has_nan(value) for value in content.values())
    if isinstance(content, list | tuple):
        return any(_has_nan(value) for value in content)
    return False


def _json(content: object, status: int = 200) -> Response:
    return Response(_dumps(content), status_code=status, media_type=JSON)


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error_code": code, "message": message}, status)


class _Scorer:
    """The endpoints of one app, sharing the model, its metrics and batcher."""

    def __init__(self, model: ServedModel, settings: ServingSettings) -> None:
        self.model = model
        self.settings = settings
        self.metrics = ServingMetrics()
        self.batcher: MicroBatcher | None = None
        if settings.max_batch_size > 0:
            from mltrail.serving._batching import MicroBatcher

            self.batcher = MicroBatcher(
                lambda data: model.predict(data),
                max_batch_size=settings.max_batch_size,
                max_delay=settings.max_batch_delay_ms / 1000,
                on_batch=self.metrics.batch_size.observe,
            )
        self.openapi = json.dumps(openapi_document(model)).encode()

    async def ping(self, request: Request) -> Response:
        return Response("\n", media_type=JSON)

    async def version(self, request: Request) -> Response:
        return Response(__version__, media_type=JSON)

    async def metrics_endpoint(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def openapi_endpoint(self, request: Request) -> Response:
        return Response(self.openapi, media_type=JSON)

    async def invocations(self, request: Request) -> Response:
        started = time.perf_counter()
        batcher = self.batcher
        # While a request is read, the batcher may wait for it to join a batch.
        reading = [batcher is not None]
        if batcher is not None:
            batcher.reading += 1
        try:
            response = await self._score(request, reading)
        except ScoringError as exc:
            response = _error(exc.status, exc.error_code, exc.message)
        except InvalidValueError as exc:
            response = _error(400, "INVALID_PARAMETER_VALUE", exc.message)
        except (MltrailError, ValueError, TypeError, KeyError) as exc:
            # scikit-learn refuses input it cannot use with these; the first line
            # of its message names the problem and carries no path.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            response = _error(
                400,
                "BAD_REQUEST",
                f"The model could not predict on this input: {type(exc).__name__}: "
                f"{first[:500]}",
            )
        except Exception:
            LOGGER.exception("predict failed")
            response = _error(500, "INTERNAL_ERROR", INTERNAL_MESSAGE)
        finally:
            if reading[0] and batcher is not None:
                batcher.reading -= 1
        self.metrics.requests.labels("/invocations", str(response.status_code)).inc()
        if response.status_code >= 400:
            code = json.loads(bytes(response.body)).get("error_code", "UNKNOWN")
            self.metrics.errors.labels(code).inc()
        self.metrics.latency.observe(time.perf_counter() - started)
        return response

    async def _body(self, request: Request) -> bytes:
        """Read the body, refusing it once it passes the limit, whatever its framing.

        A declared length over the limit is refused before reading; a chunked body
        (no length) is counted as it comes.
        """
        limit = self.settings.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _score(self, request: Request, reading: list[bool]) -> Response:
        body = await self._body(request)
        model = self.model
        parsed = parse_request(body, request.headers.get("content-type"), model.schema)
        data, findings = model.align(parsed.data)
        params, ignored = model.usable_params(parsed.params)
        findings += ignored
        findings += model.validate(data)
        self.metrics.record_findings(findings)
        if findings and self.settings.strict:
            raise ScoringError(
                400,
                "INVALID_PARAMETER_VALUE",
                "The input differs from the training data (strict mode): "
                + " ".join(f.message for f in findings),
            )
        batcher = self.batcher
        if batcher is not None:
            batcher.reading -= 1
            reading[0] = False
        if batcher is not None and not params:
            key = parsed.batch_key if data is parsed.data else None
            predictions = await batcher.submit(data, parsed.rows, key)
        elif parsed.rows <= INLINE_ROWS:
            predictions = model.predict(data, params)
        else:
            predictions = await run_in_threadpool(model.predict, data, params)
        self.metrics.rows.inc(parsed.rows)
        content: dict[str, Any] = {"predictions": jsonable(predictions)}
        if findings:
            content["warnings"] = [f.to_dict() for f in findings]
        return _json(content)


def _too_large(limit: int) -> ScoringError:
    return ScoringError(
        413,
        "BAD_REQUEST",
        f"The request body is larger than {limit:,} bytes. Split it into smaller "
        "requests, or use 'mltrail models predict' for batch prediction.",
    )


def create_scoring_app(
    model: ServedModel, settings: ServingSettings | None = None
) -> Starlette:
    """Return the scoring app of one loaded model."""
    scorer = _Scorer(model, settings or ServingSettings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if scorer.batcher is not None:
            scorer.batcher.start()
        yield
        if scorer.batcher is not None:
            await scorer.batcher.stop()

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(
            404,
            "ENDPOINT_NOT_FOUND",
            f"No route {request.url.path!r}. The scoring server answers /ping, "
            "/health, /version, /invocations, /metrics and /openapi.json.",
        )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(
            405,
            "BAD_REQUEST",
            f"Method {request.method} is not allowed on {request.url.path!r}; "
            "predict with POST /invocations.",
        )

    app = Starlette(
        exception_handlers={404: not_found, 405: not_allowed},
        routes=[
            Route("/ping", scorer.ping, methods=["GET"]),
            Route("/health", scorer.ping, methods=["GET"]),
            Route("/version", scorer.version, methods=["GET"]),
            Route("/invocations", scorer.invocations, methods=["POST"]),
            Route("/metrics", scorer.metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", scorer.openapi_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.scorer = scorer
    return app
