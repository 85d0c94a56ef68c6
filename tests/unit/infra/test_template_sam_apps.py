"""Templates written for SAM, not for this platform: the resources SAM's transform adds,
outputs that name what has no local counterpart, inline code, resource types `edu` does not
run, and what a template declares for `edu up` in `Metadata.edu`."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.template import LocalExtras, TemplateError, load_template

HELLO = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      InlineCode: |
        def handler(event, context):
            return {"statusCode": 200, "body": "hi"}
      Environment:
        Variables:
          ROLE: !GetAtt HelloFunctionRole.Arn
          CUSTOM_ROLE: !GetAtt CustomRole.Arn
      Events:
        Hello: {Type: Api, Properties: {Path: /hello, Method: get}}
        Http: {Type: HttpApi, Properties: {Path: /h, Method: get}}
  CustomRole:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Alarm:
    Type: AWS::CloudWatch::Alarm
  StateMachine:
    Type: AWS::StepFunctions::StateMachine
  Other:
    Type: AWS::StepFunctions::StateMachine
Conditions:
  Never: !Equals ["a", "b"]
Outputs:
  HelloApi:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
  HttpApi:
    Value: !Ref ServerlessHttpApi
  Role:
    Value: !GetAtt HelloFunctionRole.Arn
  Permission:
    Value: !Ref HelloFunctionHelloPermission
  Weird:
    Value: !GetAtt StateMachine.NoSuchAttribute
  Hidden:
    Condition: Never
    Value: !GetAtt Nowhere.Arn
"""


def test_implicit_resources_resolve_and_outputs_never_abort(tmp_path: Path) -> None:
    tpl = load_template(write(tmp_path, HELLO), stack_name="app")
    env = tpl.functions["HelloFunction"].environment
    assert env["ROLE"] == "arn:aws:iam::123456789012:role/app-HelloFunctionRole"
    assert env["CUSTOM_ROLE"] == "arn:aws:iam::123456789012:role/app-CustomRole"
    values = {name: spec["Value"] for name, spec in tpl.outputs.items()}
    assert values["HelloApi"] == (
        "https://app-ServerlessRestApi.execute-api.us-east-1.amazonaws.com/Prod/hello/")
    assert values["HttpApi"] == "app-ServerlessHttpApi"
    assert values["Role"] == env["ROLE"]
    assert values["Permission"] == "app-HelloFunctionHelloPermission"
    assert "Hidden" not in tpl.outputs  # its Condition is false
    # An output naming an attribute with no local counterpart stays as written, with a
    # warning that names it; the template still loads.
    assert values["Weird"] == {"Fn::GetAtt": ["StateMachine", "NoSuchAttribute"]}
    assert any(w.startswith("output Weird left unresolved") for w in tpl.warnings)


def test_inline_code_becomes_the_functions_code(tmp_path: Path) -> None:
    tpl = load_template(write(tmp_path, HELLO))
    fn = tpl.functions["HelloFunction"]
    assert (fn.code_uri / "index.py").read_text().startswith("def handler(event, context):")
    edited = load_template(write(tmp_path, HELLO.replace('"hi"', '"hello"')))
    assert edited.functions["HelloFunction"].code_uri != fn.code_uri  # workers reload


def test_resource_types_edu_does_not_run_are_named_once(tmp_path: Path) -> None:
    tpl = load_template(write(tmp_path, HELLO))
    about = [w for w in tpl.warnings if "not run locally" in w]
    assert about == ["AWS::StepFunctions::StateMachine is not run locally: StateMachine, "
                     "Other left out"]  # IAM roles and alarms have no local effect: silent
    assert "StateMachine" not in tpl.resources and "CustomRole" not in tpl.resources


def test_metadata_declares_what_edu_up_runs(tmp_path: Path) -> None:
    assert load_template(write(tmp_path, HELLO)).extras == LocalExtras()
    declared = HELLO.replace("Resources:", """Metadata:
  edu:
    services: [postgres, redis]
    setup: eduplatform
    parameters: {DatabaseUrl: "{postgres}"}
Resources:""", 1)
    extras = load_template(write(tmp_path, declared)).extras
    assert extras == LocalExtras(("postgres", "redis"), "eduplatform",
                                 {"DatabaseUrl": "{postgres}"})
    unknown = declared.replace("[postgres, redis]", "[postgres, mysql]")
    with pytest.raises(TemplateError, match="unknown mysql"):
        load_template(write(tmp_path, unknown))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path
