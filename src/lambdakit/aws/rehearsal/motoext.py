"""moto server, extended in the four places where stock moto 5 cannot stand in for a real image deploy.

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
   pulled from the local registry and run in the kit's Lambda execution environment
   (`lambdakit.runtime.environment`, the same as `nox -s local -- --faithful`): one warm environment per
   function and image, with the limits of the function's configuration. Answers Lambda reports as failures
   (the emulator's verdict) become `FunctionError: Unhandled`, and the log since the call is the
   `LogType=Tail` result (last 4 KB).
4. **Versions and aliases** (SnapStart's `AutoPublishAlias`, which SAM expands to `AWS::Lambda::Version` and
   `AWS::Lambda::Alias`). Stock moto publishes a version from CloudFormation but cannot `!GetAtt` its
   `Version`, has no CloudFormation alias, creates a stack update's new version before it updates the function
   (so the "new" version would be the old code; CloudFormation orders them by their `!Ref`), and lets a
   published version share its code with $LATEST (a later update would move old versions too). Each of those
   four is fixed here and nothing more: invoking the alias runs the version it points at. SnapStart itself
   (snapshot, restore) is not emulated: a version runs as a cold-started environment.

Everything else (CloudFormation, S3, IAM, STS, ECR repositories, Lambda configuration) is stock moto.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import copy
import os
import signal
import sys
import threading
import uuid
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
CONTAINER_LABEL = "lambdakit.aws.rehearsal"
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
    """Warm execution environments of image functions, one per (function, image), removed on exit."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.lock = threading.Lock()
        self.warm: dict[str, tuple[str, Any]] = {}  # function ARN -> (image URI, execution environment)

    def invoke(self, fn: Any, body: bytes) -> tuple[bytes, bool, str]:
        """(payload, errored, log tail) of one synchronous invocation of `fn`'s image."""
        with self.lock:
            environment = self._environment(fn)
        result = environment.invoke(body, name=fn.function_name)
        fn.logs_backend.ensure_log_group(fn.logs_group_name)  # CloudWatch Logs gets the log, as in Lambda
        fn.save_logs(result.log)
        return result.body.encode("utf-8"), result.failed, result.log[-LOG_TAIL_BYTES:]

    def _environment(self, fn: Any) -> Any:
        from lambdakit.config.target import Target
        from lambdakit.images import engine
        from lambdakit.runtime.environment import ExecutionEnvironment, Function

        image_uri = fn.code["ImageUri"]
        warm = self.warm.get(fn.function_arn)
        if warm and warm[0] == image_uri:
            return warm[1]
        if warm:
            warm[1].stop()
            engine.untag(warm[0])
        engine.pull(image_uri)  # from the local registry: what was deployed, not the local build
        limits = Target(int(fn.memory_size), int(fn.timeout), int(fn.ephemeral_storage))
        function = Function(
            image_uri,
            limits,
            environment={
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_REGION": fn.region,
                **fn.environment_vars,
            },
            labels={CONTAINER_LABEL: self.server_id},
        )
        name = f"lambdakit-rehearsal-{fn.function_name}"[:48] + f"-{uuid.uuid4().hex[:6]}"
        environment = ExecutionEnvironment.start(function, name=name)
        self.warm[fn.function_arn] = (image_uri, environment)
        return environment

    def remove_all(self) -> None:
        from lambdakit.images import engine

        with self.lock:
            for image_uri, environment in self.warm.values():
                environment.stop()
                engine.untag(image_uri)
            self.warm.clear()


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


# --- 4. Versions and aliases -------------------------------------------------------------------------------


def install_versions_and_aliases() -> None:
    from moto.awslambda import models
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.common_models import CloudFormationModel

    def version_attribute(self: Any, name: str) -> str:
        if name == "Version":
            return str(self.version)
        raise UnformattedGetAttTemplateException()

    setattr(models.LambdaVersion, "get_cfn_attribute", version_attribute)  # noqa: B010
    has_version = classmethod(lambda cls, attr: attr == "Version")
    setattr(models.LambdaVersion, "has_cfn_attr", has_version)  # noqa: B010

    publish = models.LambdaStorage.publish_version

    def publish_with_own_code(self: Any, name_or_arn: str, description: str = "") -> Any:
        published = publish(self, name_or_arn, description)
        if published is not None:  # moto's shallow copy shares `code` (its ImageUri) with $LATEST
            published.code = dict(published.code)
        return published

    setattr(models.LambdaStorage, "publish_version", publish_with_own_code)  # noqa: B010

    create = parsing.parse_and_create_resource

    def create_function_before_its_version(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        function = (resource_json.get("Properties") or {}).get("FunctionName")
        target = function.get("Ref") if isinstance(function, dict) else None
        if (  # a stack update: apply the function's new code and settings before publishing the version
            resource_json.get("Type") == "AWS::Lambda::Version"
            and isinstance(target, str)
            and target in resources_map._parsed_resources
        ):
            resources_map._parsed_resources[target] = parsing.parse_and_update_resource(
                target, resources_map._resource_json_map[target], resources_map, account_id, region_name
            )
        return create(logical_id, resource_json, resources_map, account_id, region_name)

    setattr(parsing, "parse_and_create_resource", create_function_before_its_version)  # noqa: B010

    class Alias(CloudFormationModel):
        """`AWS::Lambda::Alias` on moto's own aliases; `!Ref` gives the alias ARN, as in CloudFormation."""

        # moto's model metaclass files each model under its service, the 2nd part of the module's name; run
        # as `python -m`, this module is `__main__`
        __module__ = "moto.awslambda.lambdakit_rehearsal"

        def __init__(self, alias: Any, function_name: str) -> None:
            self.alias = alias
            self.function_name = function_name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Alias"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        @property
        def physical_resource_id(self) -> str:
            return str(self.alias.arn)

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **_: Any,
        ) -> Alias:
            spec = cloudformation_json["Properties"]
            backend = models.lambda_backends[account_id][region_name]
            version = str(spec["FunctionVersion"])
            alias = backend.create_alias(
                spec["Name"], spec["FunctionName"], version, spec.get("Description", ""), ""
            )
            return cls(alias, spec["FunctionName"])

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: Alias,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> Alias:
            spec = cloudformation_json["Properties"]
            version = str(spec["FunctionVersion"])
            models.lambda_backends[account_id][region_name].update_alias(
                spec["Name"], spec["FunctionName"], version, spec.get("Description", ""), ""
            )
            return original_resource

        def delete(self, account_id: str, region_name: str) -> None:
            models.lambda_backends[account_id][region_name].delete_alias(self.alias.name, self.function_name)

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # the model list is CloudFormationModel's subclasses, cached at first use
    assert parsing.resource_class_from_type("AWS::Lambda::Alias") is Alias


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
    install_versions_and_aliases()
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
