"""Lambda worker process: imports one handler and serves invocations over a socket.

Run as a script by the pool with the function's interpreter:
    python -I -S bootstrap.py FD HANDLER PATHS_JSON [--zygote]
PATHS_JSON is the function's whole sys.path ahead of the standard library (its CodeUri, its
layers, the runtime's packages): `-S` keeps the interpreter's site-packages out, as on Lambda.
The bootstrap itself is stdlib only; it decodes events with orjson from EDU_BOOTSTRAP_PATHS
when that holds it, and takes orjson back out of sight before the handler imports anything.
Frames are a 4-byte big-endian length followed by a JSON object.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

_HEADER = struct.Struct(">I")

# Events are decoded with orjson when the bootstrap's own folder has it (use_fast_decoder);
# replies keep the stdlib encoder, so what fails to serialise here fails as it does in AWS's
# Python runtime.
_loads: Any = json.loads

# One encoder for the worker's life: json.dumps() with any non-default argument builds a
# new JSONEncoder per call, and a woken worker pays for every line it runs with cold caches.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = _encode(message).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


class FrameReader:
    """Reads length-prefixed frames with as few recv() calls as the data allows (usually
    one per invocation, instead of one for the header and one for the body), into one
    buffer kept for the worker's life: recv(262144) allocated (and freed) 256 KB per call,
    ~12 us of a ~15 us receive here."""

    CHUNK = 262144

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.chunk = memoryview(bytearray(self.CHUNK))

    def read(self) -> dict[str, Any] | None:
        while True:
            if len(self.buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self.buffer)
                end = _HEADER.size + size
                if len(self.buffer) >= end:
                    frame = bytes(self.buffer[_HEADER.size:end])
                    del self.buffer[:end]
                    message: dict[str, Any] = _loads(frame)
                    return message
            got = self.sock.recv_into(self.chunk)
            if not got:
                return None
            self.buffer += self.chunk[:got]


class PeakMemory:
    """Peak resident memory (MB) of this process image, cheaply per invocation.

    VmHWM is exact (it resets at exec, while ru_maxrss carries the forking parent's peak)
    but costs three syscalls; getrusage costs one. The peak only grows, so VmHWM is
    re-read only when ru_maxrss moved."""

    def __init__(self) -> None:
        self.last_ru = -1
        self.peak = 0.0

    def __call__(self) -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if ru != self.last_ru:
            self.last_ru = ru
            self.peak = max_rss_mb()
        return self.peak


def max_rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def function_identity() -> dict[str, Any]:
    """The context attributes that are the same for every invocation of this worker, read
    from its environment once (as AWS's runtime does at init), not once per invocation."""
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
    region = os.environ.get("AWS_REGION", "us-east-1")
    return {"function_name": name, "function_version": "$LATEST",
            "memory_limit_in_mb": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            "invoked_function_arn": f"arn:aws:lambda:{region}:123456789012:function:{name}",
            "log_group_name": f"/aws/lambda/{name}",
            "log_stream_name": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local"),
            "identity": None, "client_context": None}


class LambdaContext:
    """The attributes and method AWS's Python runtime gives handlers."""

    def __init__(self, request_id: str, deadline_epoch_ms: int,
                 function: dict[str, Any]) -> None:
        self.__dict__.update(function)
        self.aws_request_id = request_id
        self._deadline_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[1:],
    }


def use_fast_decoder(paths: list[str]) -> None:
    """Takes orjson's loads from the bootstrap's own folders, then removes the folders and
    the module from sight: a handler that imports orjson gets it only from its layers."""
    global _loads
    if not paths:
        return
    saved = list(sys.path)
    sys.path[:0] = paths
    try:
        from orjson import loads
    except ImportError:
        return
    finally:
        sys.path[:] = saved
        for name in [m for m in sys.modules if m == "orjson" or m.startswith("orjson.")]:
            del sys.modules[name]
    _loads = loads


def load_handler(handler_spec: str, paths: list[str]) -> Any:
    # The function's CodeUri, layers and runtime packages, then the standard library.
    sys.path[:] = [*paths, *(p for p in sys.path if p not in ("", "."))]
    os.chdir(paths[0])
    module_name, func_name = handler_spec.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name.replace("/", ".")), func_name)
    if not callable(handler):
        raise TypeError(f"handler {handler_spec} is not callable")
    return handler


def serve(sock: socket.socket, handler: Any) -> None:
    """The invocation loop of a warm worker."""
    frames = FrameReader(sock)
    peak = PeakMemory()
    function = function_identity()
    while True:
        message = frames.read()
        if message is None:
            return
        context = LambdaContext(message["request_id"], message["deadline_ms"], function)
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            result = handler(message["event"], context)
            try:
                reply: dict[str, Any] = {"type": "result", "ok": True, "payload": result}
                data = _encode(reply).encode()
            except (TypeError, ValueError) as exc:
                reply = {"type": "result", "ok": False, "error": {
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError", "stackTrace": []}}
                data = b""
        except Exception as exc:
            reply, data = {"type": "result", "ok": False, "error": _error(exc)}, b""
        sys.stdout.flush()
        sys.stderr.flush()
        duration = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - cpu0) * 1000  # the runtime's admission learns from it
        if data:
            # Payload already encoded: splice the timing fields in without re-encoding (a
            # finite float's repr is JSON).
            data = data[:-1] + (f',"duration_ms":{duration!r},"cpu_ms":{cpu!r},'
                                f'"max_rss_mb":{peak()!r}}}').encode()
            sock.sendall(_HEADER.pack(len(data)) + data)
        else:
            reply.update(duration_ms=duration, cpu_ms=cpu, max_rss_mb=peak())
            send(sock, reply)


def run_snapstart_hooks(kind: str) -> None:
    """Runs the hooks a function registered with AWS's `snapshot_restore_py` (SnapStart's
    runtime hooks): "before_snapshot" in the zygote before it forks anything,
    "after_restore" in each forked worker. Only when the function imported that module."""
    hooks = sys.modules.get("snapshot_restore_py")
    if hooks is None:
        return
    registry = getattr(hooks, f"get_{kind}")()
    for func, args, kwargs in registry:
        func(*args, **kwargs)


def zygote(control: socket.socket, handler: Any) -> None:
    """Fork "SnapStart": this initialised process forks a worker per cold start.

    A fork request carries three fds (the worker's protocol socket, stdout, stderr). The
    zygote reaps its children and reports their exit codes, so crashes keep their status.
    """
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # poll, not select: the control socket keeps the fd number it had in the runtime, which
    # holds a connection per client and worker; select() fails above fd 1023 ("filedescriptor
    # out of range"), and a zygote started under load died of it.
    poller = select.poll()
    poller.register(control, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while True:
        try:
            ready = {fd for fd, _event in poller.poll()}
        except InterruptedError:  # a signal (SIGCHLD) during poll: look again
            continue
        if wake_r in ready:
            os.read(wake_r, 4096)
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                send(control, {"type": "exit", "pid": pid,
                               "code": os.waitstatus_to_exitcode(status)})
        if control.fileno() not in ready:
            continue
        msg, fds, _flags, _addr = socket.recv_fds(control, 16, 3)
        if not msg:
            return  # the runtime went away
        forked_at = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            control.close()
            os.setpgid(0, 0)  # see main()
            os.dup2(fds[1], 1)
            os.dup2(fds[2], 2)
            os.close(fds[1])
            os.close(fds[2])
            worker = socket.socket(fileno=fds[0])
            run_snapstart_hooks("after_restore")
            send(worker, {"type": "ready", "init_ms": (time.perf_counter() - forked_at) * 1000,
                          "max_rss_mb": max_rss_mb(), "restored": True})
            serve(worker, handler)
            os._exit(0)
        for fd in fds:
            os.close(fd)
        send(control, {"type": "forked", "pid": pid})


def never_preempt_the_runtime() -> None:
    """Linux's batch policy for this worker (and the workers a zygote forks from it): a
    woken batch task waits for the waker's time slice instead of preempting it. The
    gateway's one event loop wakes a worker per request; on a saturated 2-core machine a
    woken worker would otherwise take the loop's core mid-batch, stalling every request.
    Elsewhere (no SCHED_BATCH) the default policy stays."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def wait_for_debugger(port: int, debugpy_path: str) -> None:
    """`--debug-port`: listens for a DAP client and waits for it before the handler loads
    (so breakpoints in module code are hit too)."""
    sys.path.append(debugpy_path)
    import debugpy

    debugpy.listen(("127.0.0.1", port))
    print(f"edu: waiting for a debugger on 127.0.0.1:{port} (attach, then the invocation "
          "runs)", flush=True)
    debugpy.wait_for_client()


def main() -> None:
    # Its own process group (the runtime kills a worker with what it started), but the
    # runtime's session: where the kernel groups CPU time by session (autogroup scheduling,
    # on by default on desktop Linux), a session per worker gave every busy worker the
    # CPU share of moto or PostgreSQL, and the shared services starved under load.
    os.setpgid(0, 0)
    never_preempt_the_runtime()
    fd, handler_spec, paths_json = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    as_zygote = "--zygote" in sys.argv[4:]
    sock = socket.socket(fileno=fd)
    started = time.perf_counter()
    use_fast_decoder(json.loads(os.environ.pop("EDU_BOOTSTRAP_PATHS", "[]")))
    if os.environ.get("EDU_DEBUG_PORT") and not as_zygote:
        wait_for_debugger(int(os.environ["EDU_DEBUG_PORT"]), os.environ["EDU_DEBUG_PATH"])
    try:
        handler = load_handler(handler_spec, json.loads(paths_json))
        if as_zygote:  # priming belongs to the snapshot's Init, as on AWS
            run_snapstart_hooks("before_snapshot")
    except Exception as exc:
        err = _error(exc)
        err["errorType"] = f"Runtime.ImportModuleError: {err['errorType']}"
        send(sock, {"type": "init_error", "error": err,
                    "init_ms": (time.perf_counter() - started) * 1000})
        sys.exit(1)
    send(sock, {"type": "ready", "init_ms": (time.perf_counter() - started) * 1000,
                "max_rss_mb": max_rss_mb()})
    if as_zygote:
        zygote(sock, handler)
    else:
        serve(sock, handler)


if __name__ == "__main__":
    main()
