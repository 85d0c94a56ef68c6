from pathlib import Path

import pytest

from localcloud.template import TemplateError, load_template

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/runtime/template.yaml"


def test_project_template_reads_functions_layers_and_globals() -> None:
    tpl = load_template(ROOT / "template.yaml")
    health = tpl.functions["HealthFunction"]
    assert health.handler == "app.handler"
    assert health.code_uri == ROOT / "functions/health"
    assert health.memory_mb == 128  # function value beats Globals (256)
    assert health.timeout_s == 3
    assert health.runtime == "python3.12"  # from Globals
    assert tpl.layer_paths(health) == [ROOT / "shared", ROOT / "layers/api"]
    assert tpl.layers["MediaDepsLayer"].build_method == "makefile"
    assert health.environment["EDU_USERS_TABLE"] == "edu-platform-users"
    assert health.environment["EDU_RAW_VIDEO_BUCKET"] == "edu-platform-raw-video-123456789012"
    assert [e.type for e in health.events] == ["HttpApi"]
    assert health.events[0].properties["Path"] == "/health"


def test_intrinsics_resolve_to_local_names_and_parameters_can_be_overridden() -> None:
    tpl = load_template(FIXTURE, endpoint="http://127.0.0.1:9999",
                        parameter_overrides={"Greeting": "hi"}, stack_name="st")
    env = tpl.functions["EchoFunction"].environment
    assert env["GREETING"] == "hi"
    assert env["QUEUE_URL"] == "http://127.0.0.1:9999/123456789012/st-WorkQueue"
    assert env["QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:st-WorkQueue"
    assert env["BUCKET"] == "st-things-123456789012"


def test_cors_origins_come_from_a_parameter_split_on_commas() -> None:
    default = load_template(ROOT / "template.yaml")
    api = default.apis["HttpApi"]
    assert api.properties["CorsConfiguration"]["AllowOrigins"] == [
        "http://127.0.0.1:3000", "http://localhost:3000"]
    custom = load_template(ROOT / "template.yaml", parameter_overrides={
        "AllowedOrigins": "https://app.eduplatform.dev"})
    rules = custom.resources["MediaBucket"].properties["CorsConfiguration"]["CorsRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.eduplatform.dev"]


def test_function_environment_merges_globals_with_its_own() -> None:
    tpl = load_template(FIXTURE)
    env = tpl.functions["ContextFunction"].environment
    assert env["ONLY_HERE"] == "yes" and env["GREETING"] == "hello"
    assert "ONLY_HERE" not in tpl.functions["EchoFunction"].environment


def test_reserved_concurrency_and_unsupported_property_is_reported(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: a.b\n      ReservedConcurrentExecutions: 2\n"
        "      FancyNewThing: 1\n")
    tpl = load_template(tmp_path / "template.yaml")
    assert tpl.functions["F"].reserved_concurrency == 2
    assert tpl.warnings == ["property FancyNewThing is not supported locally and is ignored"]


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  F:\n    Type: [unclosed\n    Other: 1\n")
    with pytest.raises(TemplateError) as err:
        load_template(path)
    assert f"{path}:" in str(err.value)
    assert ":4:" in str(err.value) or ":5:" in str(err.value)


def test_template_without_resources_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Description: nothing here\n")
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(path)


def test_ref_to_unknown_resource_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                    "      Handler: a.b\n      Environment:\n        Variables:\n"
                    "          X: !Ref Nope\n")
    with pytest.raises(TemplateError, match="Nope"):
        load_template(path)


def test_conditions_choose_if_branches_and_leave_false_resources_out(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("""
Parameters:
  Domain: {Type: String, Default: ""}
  Stage: {Type: String, Default: dev}
Conditions:
  HasDomain: !Not [!Equals [!Ref Domain, ""]]
  IsProd: !Equals [!Ref Stage, prod]
  ProdWithDomain: !And [!Condition HasDomain, !Condition IsProd]
  EitherOne: !Or [!Condition HasDomain, !Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Environment:
        Variables:
          URL: !If [HasDomain, !Ref Domain, "https://api.example"]
          BOTH: !If [ProdWithDomain, "yes", "no"]
          EITHER: !If [EitherOne, "yes", "no"]
          GONE: !If [IsProd, "x", !Ref AWS::NoValue]
""")
    dev = load_template(tmp_path / "template.yaml")
    assert dev.functions["Fn"].environment == {"URL": "https://api.example", "BOTH": "no",
                                               "EITHER": "no"}
    assert "Queue" not in dev.resources
    prod = load_template(tmp_path / "template.yaml",
                         parameter_overrides={"Domain": "https://edu.example", "Stage": "prod"})
    assert prod.functions["Fn"].environment == {"URL": "https://edu.example", "BOTH": "yes",
                                                "EITHER": "yes", "GONE": "x"}
    assert "Queue" in prod.resources
