"""What a function runs on locally: the template's Python and its layers as `sam build` builds
them, so that what runs locally is what deploys.

On Lambda a function sees its CodeUri, its layers merged into /opt and the runtime's own
packages (boto3, snapshot_restore_py); nothing else. A worker gets exactly that on its
`sys.path` (bootstrap.py runs it with `-I -S`: no site-packages of the interpreter), so an
import no layer ships fails here as it fails on Lambda.

Layers are built once per content and Python version into a cache shared by every checkout
(`EDU_BUILD_CACHE`, default ~/.cache/edu/build) and rebuilt only when what they are built
from changes. A layer's own source (a BuildMethod pythonX.Y layer's code, such as shared/) is
used in place, so a code change shows on the next request without a rebuild.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from localcloud.template import Function, Layer, Template

# Bumped when the way a layer is built changes, so cached builds are redone.
BUILDER_VERSION = "2"
RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
# What AWS's Python runtime ships beside the function (boto3, SnapStart's hooks module).
LAMBDA_RUNTIME_REQUIREMENTS = RUNTIME_DIR / "lambda-runtime-requirements.txt"
# The worker bootstrap's own packages (orjson), visible to it only while it starts.
BOOTSTRAP_REQUIREMENTS = RUNTIME_DIR / "bootstrap-requirements.txt"
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): wheels up to it.
_MANYLINUX = ["manylinux2014", *(f"manylinux_2_{minor}" for minor in range(17, 35))]

Log = Callable[[str], None]


class BuildError(Exception):
    """A layer that could not be built; the message names it and carries the tool's output."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- the template's Python ---------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str  # "3.12"
    wanted: str   # what the template's Runtime asks for

    @property
    def exact(self) -> bool:
        return self.version == self.wanted


def _version_of(executable: str) -> str | None:
    try:
        out = subprocess.run([executable, "-I", "-S", "-c",
                              "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _candidates(version: str) -> Iterable[str]:
    """Where a pythonX.Y usually is: PATH, then the common version managers' folders."""
    name = f"python{version}"
    found = shutil.which(name)
    if found:
        yield found
    home = Path.home()
    managed = [
        (Path(os.environ.get("PYENV_ROOT", home / ".pyenv")) / "versions", f"{version}.*"),
        (home / ".asdf" / "installs" / "python", f"{version}.*"),
        (home / ".local" / "share" / "mise" / "installs" / "python", f"{version}.*"),
        (home / ".local" / "share" / "uv" / "python", f"cpython-{version}.*"),
    ]
    for folder, pattern in managed:
        for install in sorted(folder.glob(pattern), reverse=True) if folder.is_dir() else []:
            yield str(install / "bin" / name)
    yield from (f"/usr/local/bin/{name}", f"/usr/bin/{name}")


@cache
def python_for(runtime: str) -> Interpreter:
    """The interpreter for a function's Runtime ("python3.12"): that version when the machine
    has it, otherwise the one running edu (the caller warns: see `Artifacts`)."""
    wanted = runtime.removeprefix("python")
    own = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if own == wanted:
        return Interpreter(sys.executable, own, wanted)
    for candidate in _candidates(wanted):
        if os.access(candidate, os.X_OK) and _version_of(candidate) == wanted:
            return Interpreter(candidate, wanted, wanted)
    return Interpreter(sys.executable, own, wanted)


# --- building layers -----------------------------------------------------------------------


def cache_root() -> Path:
    given = os.environ.get("EDU_BUILD_CACHE")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "edu" / "build"


def pip_target_args(version: str) -> list[str]:
    """pip flags that fetch wheels for Lambda's Linux and `version`, as SAM's builder does."""
    machine = platform.machine() or "x86_64"
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", version]
    for tag in _MANYLINUX:
        args += ["--platform", f"{tag}_{machine}"]
    return args


def pip_install(requirements: Path, target: Path, version: str) -> None:
    """Installs a requirements file for Lambda's `version` into `target`."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-input", "--no-compile", "--target", str(target), *pip_target_args(version),
           "-r", str(requirements)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"pip could not install {requirements} for Python {version}:\n"
                         f"{_output_tail(proc)}")


def _output_tail(proc: subprocess.CompletedProcess[str]) -> str:
    return "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])


def compile_bytecode(executable: str, folders: Iterable[Path]) -> None:
    """Byte-compiles folders with the Python that will import them (workers never write
    bytecode: Lambda's code is read-only), so a cold start reads bytecode instead of
    compiling every module it imports; compileall skips what is already current."""
    subprocess.run([executable, "-I", "-m", "compileall", "-q", "-j", "0",
                    *sorted(map(str, folders))], capture_output=True, check=False)


def drop_execute_bits(root: Path) -> None:
    """SAM's Python builder unpacks wheels with zipfile, which keeps no file modes: nothing in
    such a layer is executable on Lambda, so nothing is here either."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o111)


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _tree_bytes(root: Path) -> Iterable[bytes]:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        yield str(path.relative_to(root)).encode()
        yield path.read_bytes()


@dataclass(frozen=True)
class LayerPlan:
    """How one layer becomes importable for one Python version: folders used in place (its
    own source) and, when it has something to build, the cached build's folder."""

    name: str
    version: str
    in_place: tuple[Path, ...]
    build_from: Path | None  # requirements.txt, or the Makefile's folder
    makefile: bool = False

    @property
    def key(self) -> str:
        if self.build_from is None:
            return ""
        source = _tree_bytes(self.build_from) if self.makefile else [
            self.build_from.read_bytes()]
        return _digest([BUILDER_VERSION.encode(), self.version.encode(),
                        platform.machine().encode(), b"make" if self.makefile else b"pip",
                        *source])

    @property
    def built_dir(self) -> Path | None:
        if self.build_from is None:
            return None
        return cache_root() / f"python{self.version}" / f"{self.name}-{self.key}"

    def sys_paths(self) -> list[Path]:
        """The layer's folders in Lambda's order for /opt: lib/pythonX.Y/site-packages, then
        python/ (a build is an /opt; a pip-built layer is its python/ folder)."""
        paths: list[Path] = []
        built = self.built_dir
        if built is not None:
            paths += [built / "python" / "lib" / f"python{self.version}" / "site-packages",
                      built / "python"]
        paths += list(self.in_place)
        return [p for p in paths if p.is_dir()]

    def build(self, log: Log) -> None:
        built = self.built_dir
        if built is None or self.build_from is None or built.is_dir():
            return
        log(f"edu: building layer {self.name} for Python {self.version} (cached after)")
        built.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{self.name}-", dir=built.parent))
        try:
            if self.makefile:
                self._make(scratch)
            else:
                pip_install(self.build_from, scratch / "python", self.version)
                drop_execute_bits(scratch / "python")
            # pip would have compiled with edu's own Python: compile with the target's
            interpreter = python_for(f"python{self.version}")
            if interpreter.exact:
                compile_bytecode(interpreter.executable, [scratch])
            try:
                scratch.rename(built)  # atomic: a concurrent build of the same key may win
            except OSError:
                if not built.is_dir():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for stale in built.parent.glob(f"{self.name}-*"):
            if stale != built:
                shutil.rmtree(stale, ignore_errors=True)

    def _make(self, artifacts: Path) -> None:
        """SAM's makefile build: `make build-<LogicalId>` in a copy of the layer's folder with
        ARTIFACTS_DIR set; `python3` is this edu's interpreter (it has pip)."""
        assert self.build_from is not None
        with tempfile.TemporaryDirectory(prefix="edu-make-") as work:
            source = Path(work) / "src"
            shutil.copytree(self.build_from, source)
            env = {**os.environ, "ARTIFACTS_DIR": str(artifacts),
                   "LAMBDA_PYTHON": self.version,
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            proc = subprocess.run(["make", f"build-{self.name}"], cwd=source, env=env,
                                  capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"make build-{self.name} failed in {self.build_from}:\n"
                             f"{_output_tail(proc)}")


def plan_layer(layer: Layer, version: str) -> LayerPlan:
    content, method = layer.content_uri, (layer.build_method or "").lower()
    if method == "makefile":
        return LayerPlan(layer.logical_id, version, (), content, makefile=True)
    if method.startswith("python"):
        # SAM copies the folder into python/ and installs its requirements.txt beside it.
        requirements = content / "requirements.txt"
        return LayerPlan(layer.logical_id, version, (content,),
                         requirements if requirements.is_file() else None)
    # No build method: the folder is the layer's zip as it is, extracted into /opt.
    return LayerPlan(layer.logical_id, version,
                     (content / "python" / "lib" / f"python{version}" / "site-packages",
                      content / "python"), None)


def lambda_runtime_plan(version: str) -> LayerPlan:
    """What AWS's Python runtime ships beside the function (after its layers on sys.path)."""
    return LayerPlan("LambdaRuntime", version, (), LAMBDA_RUNTIME_REQUIREMENTS)


def bootstrap_plan(version: str) -> LayerPlan:
    """The worker bootstrap's own packages."""
    return LayerPlan("Bootstrap", version, (), BOOTSTRAP_REQUIREMENTS)


# --- per template --------------------------------------------------------------------------


class Artifacts:
    """The interpreter and `sys.path` of each function of a template, from built layers."""

    def __init__(self, template: Template, log: Log = _stderr) -> None:
        self.template = template
        self.log = log
        self._warned: set[str] = set()
        self._paths: dict[str, list[str]] = {}  # per function, until the next build

    def interpreter(self, fn: Function) -> Interpreter:
        found = python_for(fn.runtime)
        if not found.exact and fn.name not in self._warned:
            self._warned.add(fn.name)
            self.log(f"edu: warning: {fn.name}: {fn.runtime} is not on this machine (PATH, "
                     f"pyenv, asdf, mise, uv); it runs on Python {found.version} instead")
        return found

    def _plans(self, fn: Function) -> list[LayerPlan]:
        version = self.interpreter(fn).version
        return [plan_layer(layer, version) for layer in self.template.function_layers(fn)]

    def code_paths(self, fn: Function) -> list[str]:
        """The function's sys.path ahead of the standard library, in Lambda's order: its
        CodeUri, its layers (the last listed first: AWS extracts them in order, a later one
        overwriting the files of an earlier one), then the runtime's own packages."""
        known = self._paths.get(fn.name)
        if known is not None:
            return known
        version = self.interpreter(fn).version
        paths = [fn.code_uri]
        for plan in reversed(self._plans(fn)):
            paths += plan.sys_paths()
        paths += lambda_runtime_plan(version).sys_paths()
        self._paths[fn.name] = [str(p) for p in paths]
        return self._paths[fn.name]

    def bootstrap_paths(self, fn: Function) -> list[str]:
        return [str(p) for p in bootstrap_plan(self.interpreter(fn).version).sys_paths()]

    def users_of(self, build_input: Path) -> list[Function]:
        """The functions whose layers are built from `build_input` (a requirements file or a
        Makefile folder's file): the ones a change to it concerns."""
        return [fn for fn in self.template.functions.values()
                if any(plan.build_from is not None and (build_input == plan.build_from or
                       (plan.makefile and build_input.is_relative_to(plan.build_from)))
                       for plan in self._plans(fn))]

    def plans(self, functions: Iterable[Function] | None = None) -> list[LayerPlan]:
        """Every build the given functions (default: all) need, once each."""
        unique: dict[tuple[str, str], LayerPlan] = {}
        for fn in functions if functions is not None else self.template.functions.values():
            version = self.interpreter(fn).version
            for plan in [*self._plans(fn), lambda_runtime_plan(version),
                         bootstrap_plan(version)]:
                unique.setdefault((plan.name, plan.version), plan)
        return list(unique.values())

    def build(self, functions: Iterable[Function] | None = None) -> None:
        """Builds what is not cached yet (a few in parallel: pip mostly waits on I/O), then
        byte-compiles the source used in place."""
        chosen = list(functions) if functions is not None else list(
            self.template.functions.values())
        todo = [plan for plan in self.plans(chosen)
                if plan.built_dir is not None and not plan.built_dir.is_dir()]
        try:
            with ThreadPoolExecutor(max_workers=3) as pool:
                for future in [pool.submit(plan.build, self.log) for plan in todo]:
                    future.result()
        finally:
            self._paths.clear()  # new workers take the new builds
        self._compile_sources(chosen)

    def _compile_sources(self, functions: list[Function]) -> None:
        """Bytecode for the code used in place (CodeUris, source layers) in each function's
        Python; a file edited since is compiled in memory by the worker that imports it."""
        folders: dict[str, set[Path]] = {}
        for fn in functions:
            mine = folders.setdefault(self.interpreter(fn).executable, set())
            mine.add(fn.code_uri)
            for plan in self._plans(fn):
                mine.update(p for p in plan.in_place if p.is_dir())
        for executable, paths in folders.items():
            compile_bytecode(executable, paths)
