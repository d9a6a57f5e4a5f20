"""The Lambda entry point: `inference.handler.lambda_handler`.

The pipeline is loaded at import, which Lambda runs once per execution environment (the cold start);
every invocation then only parses the event and predicts. Errors never escape: bad input becomes a typed
error response, anything unexpected a 500-style response with the request id (the traceback goes to the log).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from inference import paths
from inference.errors import InferenceError
from inference.events import Request, check_limits, is_proxy_event, parse_event
from inference.pipeline import Pipeline

logger = logging.getLogger("inference")

# Every INFERENCE_* setting is checked first: a bad value fails the init in one line (`InvalidSetting`)
# instead of every request. The precision is read here too: INFERENCE_MODEL_DIR would skip it.
check_limits()
paths.precision()
PIPELINE = Pipeline.load()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    proxy = is_proxy_event(event)
    try:
        request = parse_event(event)
        body = _success_body(request)
    except InferenceError as exc:
        logger.info("rejected event: %s: %s", exc.error_type, exc.message)
        return _respond({"error": exc.to_dict()}, exc.status_code, proxy)
    except Exception:
        import uuid  # only on this path: not worth its import at every cold start

        request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
        logger.exception("unexpected failure, request id %s", request_id)
        message = f"The function failed unexpectedly; quote request id {request_id} when reporting it."
        error = {"type": "InternalError", "message": message, "request_id": request_id}
        return _respond({"error": error}, 500, proxy)
    return _respond(body, 200, proxy)


def _success_body(request: Request) -> dict[str, Any]:
    results = PIPELINE.predict(request.texts)
    if request.batch:
        return {"results": results, "model": PIPELINE.model}
    return {**results[0], "model": PIPELINE.model}


def _respond(body: dict[str, Any], status: int, proxy: bool) -> dict[str, Any]:
    if not proxy:
        return body
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, ensure_ascii=False),
    }
