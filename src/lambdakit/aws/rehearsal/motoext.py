"""moto server, extended in the three places where stock moto 5 cannot stand in for a real image deploy.

Run as its own process (`python -m lambdakit.aws.rehearsal.motoext --port P --registry 127.0.0.1:R`); the
extensions patch moto's classes in this process only, before the server starts:

1. **SAM transform.** moto ignores `Transform: AWS::Serverless-2016-10-31` (the stack would complete
   empty). Templates are expanded with aws-sam-translator (the library SAM CLI and CloudFormation use) right
   after moto parses them, for stacks and change sets alike; a template the translator rejects fails
   `CreateChangeSet` with a `ValidationError`, as CloudFormation's transform does, before anything changes.
   And since moto leaves a stack created by a change set with the empty template it started from (`sam
   deploy` only uses change sets), the stack's template and outputs are refreshed when a change set runs;
   parameters compare by value (`UsePreviousValue`, defaults), so an unchanged redeploy is "no changes".
2. **ECR registry endpoint.** `GetAuthorizationToken` answers with a fixed `*.dkr.ecr.*.amazonaws.com`
   host; here `proxyEndpoint` names the local registry, so `docker login` and pushes go there.
3. **Invoke of image functions.** moto cannot run `PackageType: Image`. Here the function's `ImageUri` is
   pulled from the local registry and run through its Runtime Interface Emulator, as Lambda would: one warm
   container per function and image, read-only root, writable `/tmp`, memory and timeout from the
   function's configuration. The event is POSTed to it, `errorType` answers become `FunctionError:
   Unhandled`, and the container's log since the call is the `LogType=Tail` result (last 4 KB).

Everything else (CloudFormation, S3, IAM, STS, ECR repositories, Lambda configuration) is stock moto.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import copy
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
CONTAINER_LABEL = "lambdakit.aws.rehearsal"
RIE_PORT = "8080/tcp"
RIE_PATH = "/2015-03-31/functions/function/invocations"
LOG_TAIL_BYTES = 4096


# --- 1. SAM transform ---------------------------------------------------------------------------------------


def expand_sam(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its SAM resources expanded to CloudFormation; other templates unchanged."""
    transforms = template.get("Transform") if isinstance(template, dict) else None
    names = transforms if isinstance(transforms, list) else [transforms]
    if SAM_TRANSFORM not in names:
        return template
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class NoLookupPolicyLoader(ManagedPolicyLoader):  # type: ignore[misc]
        """Managed policies by ARN need no lookup; by short name they are not supported offline."""

        def load(self) -> dict[str, str]:
            return {}

    from moto.cloudformation.exceptions import ValidationError
    from samtranslator.model.exceptions import InvalidDocumentException

    try:
        expanded: dict[str, Any] = transform(copy.deepcopy(template), {}, NoLookupPolicyLoader(None))
    except InvalidDocumentException as exc:
        causes = "; ".join(cause.message for cause in exc.causes)
        raise ValidationError(message=f"Transform {SAM_TRANSFORM} failed with: {causes}") from exc
    expanded.pop("Transform", None)
    return expanded


def install_sam_transform() -> None:
    from moto.cloudformation import models

    parse = models.Stack.parse_template

    def parse_and_expand(template: str) -> dict[str, Any]:
        return expand_sam(parse(template))

    setattr(models.Stack, "parse_template", staticmethod(parse_and_expand))  # noqa: B010
    change_set_parse = models.ChangeSet._parse_template

    def change_set_parse_and_expand(self: Any) -> None:
        change_set_parse(self)
        self.template_dict = expand_sam(self.template_dict)

    setattr(models.ChangeSet, "_parse_template", change_set_parse_and_expand)  # noqa: B010
    apply = models.ChangeSet.apply

    def apply_and_refresh_outputs(self: Any) -> None:
        apply(self)
        self.stack.template_dict = self.template_dict
        self.stack.description = self.template_dict.get("Description")
        self.stack.output_map = self.stack._create_output_map()

    setattr(models.ChangeSet, "apply", apply_and_refresh_outputs)  # noqa: B010

    def has_same_parameter_values(self: Any, other: dict[str, Any]) -> bool:
        declared = self.template_dict.get("Parameters") or {}
        wanted = {name: str(spec.get("Default", "")) for name, spec in declared.items()} | other
        current = self.resource_map.resolved_parameters
        return all(str(current.get(name)) == str(wanted.get(name)) for name in declared)

    setattr(models.Stack, "has_parameters", has_same_parameter_values)  # noqa: B010


# --- 2. ECR registry endpoint -------------------------------------------------------------------------------


def install_registry_endpoint(registry: str) -> None:
    from moto.ecr import responses

    get_token = responses.ECRResponse.get_authorization_token

    def get_token_for_local_registry(self: Any) -> Any:
        result = get_token(self)
        for entry in result.result["authorizationData"]:  # type: ignore[index]
            entry["proxyEndpoint"] = f"http://{registry}"
        return result

    setattr(responses.ECRResponse, "get_authorization_token", get_token_for_local_registry)  # noqa: B010


# --- 3. Invoke of image functions ---------------------------------------------------------------------------


class ImageFunctions:
    """Warm emulator containers of image functions, one per (function, image), removed on exit."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.lock = threading.Lock()
        self.warm: dict[str, tuple[str, Any, int]] = {}  # function ARN -> (image URI, container, host port)

    def invoke(self, fn: Any, body: bytes) -> tuple[bytes, bool, str]:
        """(payload, errored, log tail) of one synchronous invocation of `fn`'s image."""
        with self.lock:
            container, port = self._container(fn)
        before = len(container.logs())
        status, payload = post_event(f"http://127.0.0.1:{port}{RIE_PATH}", body, int(fn.timeout) + 30)
        log = _log_since(container, before)
        fn.logs_backend.ensure_log_group(fn.logs_group_name)  # CloudWatch Logs gets the log, as in Lambda
        fn.save_logs(log)
        return payload, _is_error(payload, status), log[-LOG_TAIL_BYTES:]

    def _container(self, fn: Any) -> tuple[Any, int]:
        import docker

        image_uri = fn.code["ImageUri"]
        warm = self.warm.get(fn.function_arn)
        if warm and warm[0] == image_uri:
            return warm[1], warm[2]
        if warm:
            _remove(warm[1])
            _untag(warm[0])
        client = docker.from_env()
        client.images.pull(image_uri)  # from the local registry: what was deployed, not the local build
        container = client.containers.run(
            image_uri,
            detach=True,
            name=f"lambdakit-rehearsal-{fn.function_name}-{uuid.uuid4().hex[:6]}"[:63],
            labels={CONTAINER_LABEL: self.server_id},
            ports={RIE_PORT: ("127.0.0.1", None)},
            environment={
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
                "AWS_REGION": fn.region,
                **fn.environment_vars,
            },
            mem_limit=f"{fn.memory_size}m",
            read_only=True,
            tmpfs={"/tmp": f"rw,size={int(fn.ephemeral_storage)}m"},  # noqa: S108  (Lambda's writable /tmp)
        )
        container.reload()
        port = int(container.attrs["NetworkSettings"]["Ports"][RIE_PORT][0]["HostPort"])
        self.warm[fn.function_arn] = (image_uri, container, port)
        return container, port

    def remove_all(self) -> None:
        with self.lock:
            for image_uri, container, _ in self.warm.values():
                _remove(container)
                _untag(image_uri)
            self.warm.clear()


def post_event(url: str, body: bytes, timeout: float, start_wait: float = 20.0) -> tuple[int, bytes]:
    """POST the event to the emulator, waiting for it to listen; (HTTP status, body)."""
    deadline = time.monotonic() + start_wait
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310  (loopback URL we built)
    while True:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:  # 502 when the runtime died (out of memory, exit)
            return int(exc.code), bytes(exc.read())
        except (ConnectionError, urllib.error.URLError):  # the emulator is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _log_since(container: Any, offset: int, wait: float = 2.0) -> str:
    """The container's log after OFFSET, once the emulator has written the call's REPORT line (it does so
    just after answering)."""
    deadline = time.monotonic() + wait
    while True:
        log = container.logs()[offset:].decode("utf-8", errors="replace")
        if "REPORT RequestId" in log or time.monotonic() > deadline:
            return str(log)
        time.sleep(0.05)


def _is_error(payload: bytes, status: int) -> bool:
    if status >= 400:
        return True
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return isinstance(body, dict) and "errorType" in body


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception as exc:  # already gone, or the engine is shutting down: nothing left to clean
        print(f"rehearsal: could not remove {container.name}: {exc}", file=sys.stderr)


def _untag(image_uri: str) -> None:
    """Drop the registry reference the pull made (the layers stay: the local images share them)."""
    import docker

    try:
        docker.from_env().images.remove(image_uri, noprune=True)
    except Exception as exc:  # already gone: nothing to clean
        print(f"rehearsal: could not untag {image_uri}: {exc}", file=sys.stderr)


def install_image_invoke(functions: ImageFunctions) -> None:
    from moto.awslambda import models

    invoke = models.LambdaFunction.invoke

    def invoke_image_too(self: Any, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
        if "ImageUri" not in self.code:
            return invoke(self, body, request_headers, response_headers)
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"{}")
        payload, errored, log = functions.invoke(self, raw)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-log-result"] = base64.b64encode(log.encode("utf-8")).decode("ascii")
        return payload

    setattr(models.LambdaFunction, "invoke", invoke_image_too)  # noqa: B010


# --- the server ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit.aws.rehearsal.motoext", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--registry", required=True, help="host:port of the registry that plays ECR")
    parser.add_argument("--server-id", default=uuid.uuid4().hex[:12], help="labels the containers it starts")
    args = parser.parse_args(argv)

    from moto.server import ThreadedMotoServer

    functions = ImageFunctions(args.server_id)
    install_sam_transform()
    install_registry_endpoint(args.registry)
    install_image_invoke(functions)
    atexit.register(functions.remove_all)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(
        f"moto server (lambdakit extensions) on http://{args.host}:{args.port}, pid {os.getpid()}", flush=True
    )
    stop.wait()
    functions.remove_all()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
