"""How a function's interpreter and sys.path are planned from its template (no builds)."""

from pathlib import Path

import pytest

from localcloud.artifacts import Artifacts, drop_execute_bits, plan_layer, python_for
from localcloud.template import Layer, load_template

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: {runtime}
    CodeUri: code/
    Layers: [!Ref First]
Resources:
  First:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: first/}}
    Metadata: {{BuildMethod: python3.12}}
  Second:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: second/}}
  Made:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: made/}}
    Metadata: {{BuildMethod: makefile}}
  Both:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Layers: [!Ref Second, !Ref Made]
  Alone:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
"""


def project(tmp_path: Path, runtime: str = "python3.12") -> tuple[Artifacts, list[str]]:
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(runtime=runtime))
    for folder in ("code", "first", "second/python", "made"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "first/requirements.txt").write_text("six==1.17.0\n")
    (tmp_path / "made/Makefile").write_text("build-Made:\n\ttrue\n")
    lines: list[str] = []
    return Artifacts(load_template(tmp_path / "template.yaml"), lines.append), lines


def test_layers_are_planned_by_their_build_method(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    python = plan_layer(Layer("P", tmp_path, "python3.12"), "3.12")
    assert python.in_place == (tmp_path,) and python.build_from == tmp_path / "requirements.txt"
    made = plan_layer(Layer("M", tmp_path, "makefile"), "3.12")
    assert made.makefile and made.build_from == tmp_path and made.in_place == ()
    plain = plan_layer(Layer("Z", tmp_path, None), "3.12")
    assert plain.build_from is None and plain.built_dir is None
    assert plain.in_place == (tmp_path / "python/lib/python3.12/site-packages",
                              tmp_path / "python")


def test_a_build_is_keyed_by_what_it_is_built_from(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    before = plan_layer(Layer("P", tmp_path, "python3.12"), "3.12").key
    assert plan_layer(Layer("P", tmp_path, "python3.12"), "3.12").key == before
    assert plan_layer(Layer("P", tmp_path, "python3.12"), "3.11").key != before
    (tmp_path / "requirements.txt").write_text("six==1.17.0\n")
    assert plan_layer(Layer("P", tmp_path, "python3.12"), "3.12").key != before


def test_later_layers_come_first_and_the_runtime_packages_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDU_BUILD_CACHE", str(tmp_path / "cache"))
    artifacts, _ = project(tmp_path)
    fn = artifacts.template.functions["Both"]
    plans = {p.name: p for p in artifacts.plans([fn])}
    for name in ("First", "Made", "LambdaRuntime"):  # pretend they were built
        built = plans[name].built_dir
        assert built is not None
        (built / "python").mkdir(parents=True)
    paths = artifacts.code_paths(fn)
    assert paths == [str(tmp_path / "code"), str(plans["Made"].built_dir / "python"),
                     str(tmp_path / "second/python"), str(plans["First"].built_dir / "python"),
                     str(tmp_path / "first"), str(plans["LambdaRuntime"].built_dir / "python")]
    users = artifacts.users_of(tmp_path / "made/Makefile")
    assert [f.name for f in users] == ["Both"]
    assert {f.name for f in artifacts.users_of(tmp_path / "first/requirements.txt")} == {
        "Both", "Alone"}


def test_a_runtime_the_machine_lacks_falls_back_with_a_warning_per_function(
        tmp_path: Path) -> None:
    artifacts, warnings = project(tmp_path, runtime="python3.99")
    fns = list(artifacts.template.functions.values())
    found = [artifacts.interpreter(fn) for fn in fns + fns]  # asked twice, warned once each
    assert all(not i.exact and i.wanted == "3.99" for i in found)
    assert len(warnings) == len(fns) == 2
    for fn, warning in zip(fns, warnings, strict=True):
        assert warning.startswith(f"edu: warning: {fn.name}: python3.99 ")
        assert f"runs on Python {found[0].version}" in warning
    assert python_for("python3.99").executable == found[0].executable


def test_built_files_lose_their_execute_bits_as_sams_unpacking_does(tmp_path: Path) -> None:
    tool = tmp_path / "pkg/bin/tool"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    drop_execute_bits(tmp_path)
    assert tool.stat().st_mode & 0o777 == 0o644
