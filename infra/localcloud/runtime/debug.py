"""Attaching a debugger to a function (SAM: `--debug-port`): its worker starts debugpy,
listens on the port and waits for a DAP client (VS Code, PyCharm, nvim-dap) before it loads
the handler. While debugged, the function has one worker, is never forked from a snapshot,
and its timeout is lifted, so a paused breakpoint is not a timed-out invocation."""

from __future__ import annotations

import tempfile
from pathlib import Path

from localcloud.template import Template, TemplateError

PORT_VAR = "EDU_DEBUG_PORT"  # read by the worker's bootstrap
PATH_VAR = "EDU_DEBUG_PATH"  # a folder holding debugpy alone (the worker sees nothing else)
TIMEOUT_S = 24 * 3600


def debug_function(template: Template, name: str, port: int) -> None:
    """Prepares the template's function `name` for a debugger on 127.0.0.1:`port`."""
    fn = template.functions.get(name)
    if fn is None:
        raise TemplateError(f"--debug-function {name}: no such function "
                            f"(functions: {', '.join(sorted(template.functions))})")
    fn.timeout_s = TIMEOUT_S
    fn.snapstart = False
    fn.reserved_concurrency = 1
    fn.provisioned_concurrency = 1  # started at once: it waits for the debugger from the start
    fn.environment[PORT_VAR] = str(port)
    fn.environment[PATH_VAR] = str(debugpy_alone())
    # debugpy warns that frozen standard-library modules may miss breakpoints; handlers
    # are not frozen
    fn.environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def debugpy_alone() -> Path:
    """A folder with edu's debugpy in it and nothing else, for the worker's sys.path (adding
    edu's site-packages would let the function import what its layers do not ship)."""
    import debugpy

    package = Path(debugpy.__file__).parent
    folder = Path(tempfile.gettempdir()) / f"edu-debugpy-{debugpy.__version__}"
    link = folder / "debugpy"
    if not link.exists():
        folder.mkdir(parents=True, exist_ok=True)
        link.symlink_to(package, target_is_directory=True)
    return folder
