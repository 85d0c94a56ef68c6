"""Starting one function's workers the way Lambda does: the environment a worker sees, a
process started from scratch (a full cold start), or a fork of the function's initialised
zygote ("SnapStart"), and the worker's output turned into log lines."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Callable

from localcloud.artifacts import Artifacts
from localcloud.runtime.debug import PORT_VAR as DEBUG_PORT_VAR
from localcloud.runtime.invocation import LogSink
from localcloud.runtime.workers import (
    BOOTSTRAP,
    FRAME_HEADER,
    ForkedWorker,
    ProcessWorker,
    Worker,
    Zygote,
    kill_group,
    open_channel,
    read_pipe,
)
from localcloud.template import Function, Template


class WorkerLauncher:
    def __init__(self, fn: Function, template: Template, base_env: dict[str, str],
                 artifacts: Artifacts, log: LogSink, snapstart: bool | None = None) -> None:
        self.fn = fn
        self.template = template
        self.base_env = base_env
        self.artifacts = artifacts
        self.log = log
        # a debugged function's worker waits for its debugger: never forked from a snapshot
        self.snapstart = (fn.snapstart if snapstart is None else snapstart) and (
            DEBUG_PORT_VAR not in fn.environment)
        self.zygote: Zygote | None = None
        self._zygote_lock = asyncio.Lock()
        self.line_listeners: list[Callable[[Function, str], None]] = []  # worker output

    def worker_env(self) -> dict[str, str]:
        fn = self.fn
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
               if k in os.environ}
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout_s),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{uuid.uuid4().hex}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_REGION": self.template.region,
            "AWS_DEFAULT_REGION": self.template.region,
            "LAMBDA_TASK_ROOT": str(fn.code_uri),
            "_HANDLER": fn.handler,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "TZ": ":UTC",
            "AWS_SAM_LOCAL": "true",  # as `sam local` sets it: tools quiet what needs AWS
        })
        env.update(self.base_env)   # local AWS endpoint and credentials
        env.update(fn.environment)  # the template's variables win, as on AWS
        env["EDU_BOOTSTRAP_PATHS"] = json.dumps(self.artifacts.bootstrap_paths(fn))
        return env

    async def _start_process(self, zygote: bool = False
                             ) -> tuple[asyncio.subprocess.Process, socket.socket]:
        parent_sock, child_sock = socket.socketpair()
        try:
            # -I -S: none of the interpreter's site-packages, only what code_paths gives.
            proc = await asyncio.create_subprocess_exec(
                self.artifacts.interpreter(self.fn).executable, "-I", "-S", str(BOOTSTRAP),
                str(child_sock.fileno()), self.fn.handler,
                json.dumps(self.artifacts.code_paths(self.fn)),
                *(["--zygote"] if zygote else []),
                pass_fds=(child_sock.fileno(),), env=self.worker_env(),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        finally:
            child_sock.close()
        return proc, parent_sock

    async def launch(self, generation: int) -> Worker:
        """A new worker of `generation` (the pool's code generation): forked from the
        zygote when snapshots are on and it answers, else started from scratch."""
        if self.snapstart:
            forked = await self._fork(generation)
            if forked is not None:
                return forked
        proc, parent_sock = await self._start_process()
        worker = ProcessWorker(proc, await open_channel(parent_sock), generation)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            worker.log_tasks.append(asyncio.create_task(self._pump(worker, stream)))
        return worker

    async def ensure_zygote(self) -> Zygote | None:
        """Starts (once per code generation) the initialised process workers fork from."""
        async with self._zygote_lock:
            if self.zygote is not None and self.zygote.proc.returncode is None:
                return self.zygote
            proc, control = await self._start_process(zygote=True)
            reader, writer = await asyncio.open_unix_connection(sock=control)
            log_tasks = []
            for stream in (proc.stdout, proc.stderr):
                assert stream is not None
                log_tasks.append(asyncio.create_task(self._pump(None, stream)))
            try:
                header = await asyncio.wait_for(reader.readexactly(FRAME_HEADER.size),
                                                timeout=max(30, self.fn.timeout_s))
                ready = json.loads(await reader.readexactly(FRAME_HEADER.unpack(header)[0]))
            except (TimeoutError, asyncio.IncompleteReadError):
                ready = {"type": "init_error"}
            if ready.get("type") != "ready":
                kill_group(proc.pid)
                await proc.wait()
                writer.close()
                return None  # an import error shows on the normal cold path
            self.zygote = Zygote(proc, control, reader, writer)
            self.zygote.log_tasks = log_tasks
            self.zygote.init_ms = float(ready.get("init_ms", 0.0))
            self.log(f"[{self.fn.name}] snapshot ready (init {self.zygote.init_ms:.1f} ms)")
            return self.zygote

    async def _fork(self, generation: int) -> Worker | None:
        zygote = await self.ensure_zygote()
        if zygote is None:
            return None
        parent_sock, child_sock = socket.socketpair()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            pid = await zygote.fork([child_sock.fileno(), out_w, err_w])
        except ConnectionError as exc:  # the next cold start starts a new zygote
            self.log(f"[{self.fn.name}] snapshot process gone ({exc}): normal cold start")
            parent_sock.close()
            os.close(out_r)
            os.close(err_r)
            return None
        finally:
            child_sock.close()
            os.close(out_w)
            os.close(err_w)
        worker = ForkedWorker(pid, await open_channel(parent_sock), generation,
                              zygote.exit_future(pid))
        for fd in (out_r, err_r):
            worker.log_tasks.append(asyncio.create_task(self._pump(worker, read_pipe(fd))))
        return worker

    async def _pump(self, worker: Worker | None, stream: asyncio.StreamReader) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\n")
            request = (worker.current_request or worker.last_request) if worker else ""
            self.log(f"[{self.fn.name}] {request or '-'} {text}")
            for listener in self.line_listeners:
                listener(self.fn, text)

    async def drop_zygote(self) -> None:
        """The code changed: the next fork takes a new snapshot."""
        async with self._zygote_lock:
            zygote, self.zygote = self.zygote, None
        if zygote is not None:
            await zygote.close()
