"""Every handler of template.yaml imports as built, the way Lambda loads it.

Lambda gives a function its CodeUri, its layers extracted into /opt one after the other (a
later layer's files overwrite an earlier one's) and the runtime's own packages; nothing else.
This test builds the layers as `edu` does, merges each function's layers into an /opt of
its own (independently of the runtime's path logic), and imports the handler in the
template's Python with `-I -S` and only those folders on sys.path. With EDU_SAM_BUILD_DIR set
(.ci/template-checks does, after `sam build`) it checks SAM's build output the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from localcloud.artifacts import Artifacts, lambda_runtime_plan, plan_layer
from localcloud.template import Function, load_template

ROOT = Path(__file__).resolve().parents[3]
SAM_BUILD = Path(os.environ["EDU_SAM_BUILD_DIR"]) if os.environ.get("EDU_SAM_BUILD_DIR") else None
TEMPLATE = load_template(ROOT / "template.yaml")
ARTIFACTS = Artifacts(TEMPLATE)


@pytest.fixture(scope="module")
def built() -> Artifacts:
    ARTIFACTS.build()
    return ARTIFACTS


@pytest.fixture(scope="module")
def opt_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opt")


def link_over(source: str, target: str) -> None:
    """Copies a file into the merged /opt (a hard link: cheap), replacing an earlier layer's."""
    if os.path.lexists(target):
        os.unlink(target)
    os.link(source, target)


def merged_opt(fn: Function, version: str, root: Path) -> Path:
    """The function's /opt: each layer's build (or its folder, for source layers) copied in
    the order the function lists them, later files replacing earlier ones."""
    opt = root / "-".join(fn.layer_ids)
    if opt.is_dir():
        return opt
    for layer in TEMPLATE.function_layers(fn):
        if SAM_BUILD is not None:  # sam build's layer folder is what its zip holds
            shutil.copytree(SAM_BUILD / layer.logical_id, opt, dirs_exist_ok=True,
                            symlinks=True, copy_function=link_over)
            continue
        plan = plan_layer(layer, version)
        if plan.built_dir is not None:
            shutil.copytree(plan.built_dir, opt, dirs_exist_ok=True, symlinks=True,
                            copy_function=link_over)
        for folder in plan.in_place:  # a pythonX.Y layer's own source ends up in python/
            shutil.copytree(folder, opt / "python", dirs_exist_ok=True, copy_function=link_over,
                            ignore=shutil.ignore_patterns("__pycache__", "requirements.*"))
    return opt


def run_as_lambda(fn: Function, code: str, opt_root: Path) -> subprocess.CompletedProcess[str]:
    interpreter = ARTIFACTS.interpreter(fn)
    version = interpreter.version
    opt = merged_opt(fn, version, opt_root)
    runtime = lambda_runtime_plan(version).sys_paths()
    task_root = SAM_BUILD / fn.name if SAM_BUILD is not None else fn.code_uri
    paths = [str(task_root), str(opt / "python" / "lib" / f"python{version}" / "site-packages"),
             str(opt / "python"), *map(str, runtime)]
    probe = f"import sys\nOPT = {str(opt)!r}\nsys.path[:0] = {paths!r}\n{code}"
    env = {**fn.environment, "AWS_REGION": TEMPLATE.region, "LAMBDA_TASK_ROOT": str(task_root),
           "AWS_DEFAULT_REGION": TEMPLATE.region, "PATH": os.environ.get("PATH", "/usr/bin")}
    return subprocess.run([interpreter.executable, "-I", "-S", "-c", probe], cwd=task_root,
                          capture_output=True, text=True, check=False, env=env, timeout=120)


@pytest.mark.parametrize("name", sorted(TEMPLATE.functions))
def test_handler_imports_from_its_code_and_built_layers_only(
        name: str, built: Artifacts, opt_root: Path) -> None:
    fn = TEMPLATE.functions[name]
    module, attr = fn.handler.rsplit(".", 1)
    proc = run_as_lambda(fn, (
        "import importlib, json\n"
        f"handler = getattr(importlib.import_module({module!r}), {attr!r})\n"
        "assert callable(handler), 'the handler is not callable'\n"
        "print(json.dumps(sorted(sys.modules)))\n"), opt_root)
    assert proc.returncode == 0, proc.stderr


def test_ffmpeg_runs_from_the_built_media_layer(built: Artifacts, opt_root: Path) -> None:
    fn = TEMPLATE.functions["TranscodeFunction"]
    proc = run_as_lambda(fn, (
        "import subprocess\n"
        "from edu.adapters.ffmpeg import ffmpeg_path\n"
        "exe = ffmpeg_path()\n"
        "assert exe.startswith(OPT), exe  # the layer's, not the machine's\n"
        "out = subprocess.run([exe, '-hide_banner', '-version'], capture_output=True,"
        " text=True, check=True)\n"
        "print(out.stdout.splitlines()[0])\n"), opt_root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ffmpeg version"), proc.stdout


@pytest.mark.skipif(SAM_BUILD is not None, reason="about edu's own builds")
def test_layers_that_share_a_package_ship_the_same_version(built: Artifacts) -> None:
    """Separate folders on sys.path (what the local runtime uses) behave as one merged /opt
    only if no two layers ship different versions of a package: the locks pin them alike."""
    seen: dict[str, tuple[str, str]] = {}
    for layer in TEMPLATE.layers.values():
        plan = plan_layer(layer, ARTIFACTS.interpreter(next(iter(TEMPLATE.functions.values())))
                          .version)
        if plan.built_dir is None:
            continue
        for dist in plan.built_dir.glob("python/*.dist-info"):
            name, version = dist.name.removesuffix(".dist-info").rsplit("-", 1)
            name = name.lower().replace("_", "-")
            other = seen.setdefault(name, (version, layer.logical_id))
            assert other[0] == version, f"{name}: {other} vs {version} in {layer.logical_id}"
    assert "pydantic" in seen and "imageio-ffmpeg" in seen


def test_source_used_in_place_is_byte_compiled_for_the_workers_python(
        built: Artifacts) -> None:
    """Workers write no bytecode (Lambda's code is read-only): the build compiles the
    CodeUris and source layers once, so a cold start does not compile what it imports."""
    fn = TEMPLATE.functions["CatalogFunction"]
    tag = "cpython-" + ARTIFACTS.interpreter(fn).version.replace(".", "")
    compiled = [fn.code_uri / "__pycache__" / f"catalog.{tag}.pyc",
                ROOT / "shared/edu/__pycache__" / f"services.{tag}.pyc"]
    for path in compiled:
        path.unlink(missing_ok=True)
    built.build([fn])
    assert all(path.is_file() for path in compiled)
