"""The Lambda execution environment's settings, checked without starting a container."""

from __future__ import annotations

from lambdakit.config.target import Target as Limits
from lambdakit.runtime.environment import Function, function_options, lambda_environment


def test_the_functions_environment_variables_are_set_as_lambda_sets_them() -> None:
    limits = Limits(512, 10, 512, variables=(("MIN_CONFIDENCE", "0.5"), ("AWS_REGION", "nowhere-1")))
    variables = lambda_environment(limits)
    assert variables["MIN_CONFIDENCE"] == "0.5"
    assert variables["AWS_REGION"] != "nowhere-1"  # a reserved variable is Lambda's, not the function's
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"


def test_a_caller_override_wins_over_the_template_as_a_deployed_variable_would() -> None:
    """The bench's int8 side: the same image and template, INFERENCE_PRECISION=int8 set for the run."""
    limits = Limits(1769, 30, 512, variables=(("INFERENCE_PRECISION", "fp32"),))
    plain = function_options(Function("img:1", limits), "fn", "client", 1.0)["environment"]
    int8 = Function("img:1", limits, environment={"INFERENCE_PRECISION": "int8"})
    assert plain["INFERENCE_PRECISION"] == "fp32"
    assert function_options(int8, "fn", "client", 1.0)["environment"]["INFERENCE_PRECISION"] == "int8"
