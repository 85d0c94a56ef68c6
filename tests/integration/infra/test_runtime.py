"""Worker pools: warm/cold, context, isolation, and every failure mode, with real processes."""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from localcloud.runtime.invocation import InvokeResult
from localcloud.runtime.pool import FunctionPool
from localcloud.runtime.workers import Zygote
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/runtime/template.yaml"
BASE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}


def run_pool(name: str, events: list[Any], lines: list[str] | None = None,
             concurrent: bool = False, snapstart: bool = False) -> list[InvokeResult]:
    tpl = load_template(FIXTURE)
    sink = lines if lines is not None else []

    async def go() -> list[InvokeResult]:
        pool = FunctionPool(tpl.functions[name], tpl, BASE_ENV, sink.append,
                            snapstart=snapstart)
        try:
            if concurrent:
                return list(await asyncio.gather(*(pool.invoke(e) for e in events)))
            return [await pool.invoke(e) for e in events]
        finally:
            await pool.close()

    return asyncio.run(go())


def test_second_invocation_is_warm_and_reports_lambda_lines() -> None:
    lines: list[str] = []
    first, second = run_pool("ContextFunction", [{}, {}], lines)
    assert first.ok and first.cold and first.init_ms is not None and first.init_ms > 0
    assert second.ok and not second.cold and second.init_ms is None
    assert first.payload["cold_mark"] == second.payload["cold_mark"]  # same process
    reports = [line for line in lines if line.startswith("REPORT")]
    assert len(reports) == 2
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    assert "Memory Size: 256 MB" in reports[0] and "Billed Duration" in reports[0]
    assert any(line.startswith(f"START RequestId: {first.request_id}") for line in lines)


def test_context_and_environment_are_lambda_like_and_isolated(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDU_TEST_PARENT_SECRET", "must-not-leak")
    (result,) = run_pool("ContextFunction", [{}])
    info = result.payload
    assert info["request_id"] == result.request_id
    assert info["function_name"] == "ContextFunction"
    assert str(info["memory"]) == "256"
    assert 0 < info["remaining"] <= 7000
    assert info["arn"].endswith(":function:ContextFunction")
    assert info["log_group"] == "/aws/lambda/ContextFunction"
    assert info["only_here"] == "yes"
    assert info["leaked"] is None
    assert info["queue_url"].endswith("/123456789012/edu-platform-WorkQueue")
    assert os.path.realpath(info["cwd"]) == str(FIXTURE.parent / "functions")


def test_a_worker_runs_the_templates_python_on_its_code_and_layers_only() -> None:
    from localcloud.artifacts import python_for

    (result,) = run_pool("ContextFunction", [{}])
    info = result.payload
    wanted = python_for("python3.12")
    assert info["python"] == wanted.version and info["executable"] == wanted.executable
    assert info["sys_path"][0] == str(FIXTURE.parent / "functions")
    # Nothing of the virtualenv that runs edu: only the runtime's packages (boto3, the
    # SnapStart hooks) beside the code, then the standard library.
    assert not any(".venv" in p or p.endswith("-packages") for p in info["sys_path"])
    assert info["importable"] == {"boto3": True, "snapshot_restore_py": True,
                                  "orjson": False, "yaml": False}


def test_provisioned_concurrency_starts_workers_before_the_first_request() -> None:
    tpl = load_template(FIXTURE)
    fn = tpl.functions["ProvisionedFunction"]
    assert fn.provisioned_concurrency == 2
    lines: list[str] = []

    async def go() -> tuple[int, list[InvokeResult], InvokeResult]:
        pool = FunctionPool(fn, tpl, BASE_ENV, lines.append)
        try:
            started = await pool.prewarm()
            first = list(await asyncio.gather(pool.invoke({}), pool.invoke({})))
            # a third at once has no provisioned worker left: an on-demand cold start
            third = await asyncio.gather(pool.invoke({}), pool.invoke({}), pool.invoke({}))
            return started, first, max(third, key=lambda r: r.cold)
        finally:
            await pool.close()

    started, first, extra = asyncio.run(go())
    assert started == 2
    assert [r.cold for r in first] == [False, False]
    assert len({r.payload["pid"] for r in first}) == 2
    assert extra.cold
    assert any("provisioned concurrency: 2 worker(s) ready" in line for line in lines)


def test_an_import_no_layer_ships_fails_as_on_lambda() -> None:
    first, second = run_pool("MissingDependencyFunction", [{}, {}])
    for result in (first, second):
        assert result.status == "init_error" and result.error is not None
        assert result.error["errorType"] == "Runtime.ImportModuleError: ModuleNotFoundError"
        assert "No module named 'yaml'" in result.error["errorMessage"]


def test_handler_exception_is_an_error_result_and_the_worker_survives() -> None:
    lines: list[str] = []
    first, second = run_pool("FailFunction", [{}, {}], lines)
    assert first.status == "error"
    assert first.error and first.error["errorType"] == "ValueError"
    assert first.error["errorMessage"] == "boom"
    assert not second.cold  # an exception does not kill the worker


def test_a_reply_json_cannot_carry_is_a_marshal_error_and_timing_still_arrives() -> None:
    good, bad, again = run_pool("MarshalFunction", [{}, {"set": True}, {}])
    # What the standard library's encoder accepts arrives intact, with the worker's timing.
    assert good.ok and good.payload == {"big": 2**63 - 1, "ratio": 0.1, "text": "é",
                                        "nested": [None, True]}
    assert good.duration_ms > 0 and 5 < good.max_memory_mb < 128
    assert bad.status == "error" and bad.error is not None
    assert bad.error["errorType"] == "Runtime.MarshalError"
    assert "not JSON serializable" in bad.error["errorMessage"]
    assert bad.duration_ms > 0 and bad.max_memory_mb > 5
    assert again.ok and not again.cold  # the worker survives


def test_timeout_kills_the_worker_with_lambdas_message() -> None:
    first, second = run_pool("SleepFunction", [{}, {}])
    assert first.status == "timeout"
    assert first.error and first.error["errorMessage"] == "Task timed out after 1.00 seconds"
    assert second.cold  # the timed-out worker was replaced


def test_crash_kills_only_that_worker() -> None:
    first, second = run_pool("CrashFunction", [{}, {}])
    assert first.status == "crash" and second.status == "crash"
    assert first.error and "exit status 3" in first.error["errorMessage"]
    assert second.cold


def test_segfault_kills_only_that_worker() -> None:
    (crash,) = run_pool("SegfaultFunction", [{}])
    assert crash.status == "crash"
    assert crash.error and "signal: 11" in crash.error["errorMessage"]
    (echo,) = run_pool("EchoFunction", [{}])  # other functions are unaffected
    assert echo.ok


def test_memory_above_memory_size_kills_the_worker() -> None:
    (result,) = run_pool("HogFunction", [{}])
    assert result.status == "oom"
    assert result.error and "MemorySize 128 MB" in result.error["errorMessage"]


def test_memory_is_enforced_while_the_handler_runs() -> None:
    t0 = time.monotonic()
    (result,) = run_pool("HogAndWaitFunction", [{}])
    assert result.status == "oom" and result.max_memory_mb > 128
    assert time.monotonic() - t0 < 20  # stopped for memory, not by its 60 s timeout


def test_reserved_concurrency_throttles_the_excess() -> None:
    results = run_pool("OneAtATimeFunction", [{}, {}, {}], concurrent=True)
    statuses = sorted(r.status for r in results)
    assert statuses == ["ok", "throttled", "throttled"]


def test_import_error_is_reported_as_init_error() -> None:
    (result,) = run_pool("BrokenImportFunction", [{}])
    assert result.status == "init_error"
    assert result.error and "ImportModuleError" in result.error["errorType"]


@pytest.mark.parametrize("snapstart", [False, True], ids=["spawned", "forked"])
def test_handler_output_is_attributed_to_its_request(snapstart: bool) -> None:
    lines: list[str] = []
    (result,) = run_pool("EchoFunction", [{"x": 1}], lines, snapstart=snapstart)
    assert f"[EchoFunction] {result.request_id} echo called" in lines


# --- fork "SnapStart" ---------------------------------------------------------------------


def test_snapstart_cold_start_is_a_fork_of_the_initialised_process() -> None:
    lines: list[str] = []
    first, second, third = run_pool("ContextFunction", [{}, {}, {}], lines, snapstart=True)
    assert first.ok and first.cold and first.restored
    assert not second.cold
    # Module state comes from the snapshot: the import ran once, in the zygote.
    assert first.payload["cold_mark"] == third.payload["cold_mark"]
    assert any("Restore Duration" in line for line in lines if line.startswith("REPORT"))
    assert any("snapshot ready" in line for line in lines)


@pytest.mark.parametrize("snapstart", [False, True], ids=["spawned", "forked"])
def test_a_worker_leads_its_own_process_group_in_the_runtime_s_session(snapstart: bool) -> None:
    # Its own group: a kill reaches what the worker started. The runtime's session: where the
    # kernel shares CPU per session (autogroup), a session per worker starved moto under load.
    (result,) = run_pool("ContextFunction", [{}], snapstart=snapstart)
    info = result.payload
    assert info["pid"] != os.getpid()
    assert info["process_group"] == info["pid"]
    assert info["session"] == os.getsid(0)


@pytest.mark.parametrize("snapstart", [False, True], ids=["spawned", "forked"])
def test_a_worker_runs_under_the_batch_policy_and_the_runtime_does_not(snapstart: bool) -> None:
    # Woken workers must not preempt the runtime's event loop (which woke them).
    (result,) = run_pool("ContextFunction", [{}], snapstart=snapstart)
    assert result.payload["scheduling_policy"] == os.SCHED_BATCH
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_snapstart_runtime_hooks_prime_the_snapshot_and_run_after_each_restore() -> None:
    (first,) = run_pool("HooksFunction", [{}], snapstart=True)
    assert first.ok and first.restored
    primed_in, worker = first.payload["primed_in"], first.payload["pid"]
    assert primed_in is not None and primed_in != worker  # before the fork, in the zygote
    assert first.payload["restored_in"] == [worker]       # once, in the forked worker
    (plain,) = run_pool("HooksFunction", [{}])  # no snapshots: no hooks, as on AWS
    assert plain.ok and plain.payload["primed_in"] is None
    assert plain.payload["restored_in"] == []


def test_snapstart_concurrent_cold_starts_fork_separate_workers() -> None:
    results = run_pool("OneAtATimeFunction", [{}], snapstart=True)
    assert results[0].ok and results[0].restored
    results = run_pool("EchoFunction", [{"n": i} for i in range(3)], concurrent=True,
                       snapstart=True)
    assert all(r.ok and r.cold and r.restored for r in results)
    assert len({r.payload["headers"]["x-request-id"] for r in results}) == 3


def test_snapstart_worker_failures_keep_their_status() -> None:
    crash, again = run_pool("CrashFunction", [{}, {}], snapstart=True)
    assert crash.status == "crash" and again.status == "crash"
    assert crash.error and "exit status 3" in crash.error["errorMessage"]
    (timeout,) = run_pool("SleepFunction", [{}], snapstart=True)
    assert timeout.status == "timeout"
    lines: list[str] = []
    (echo,) = run_pool("EchoFunction", [{}], lines, snapstart=True)
    assert f"[EchoFunction] {echo.request_id} echo called" in lines


def test_snapstart_import_error_falls_back_to_a_normal_cold_start_error() -> None:
    (result,) = run_pool("BrokenImportFunction", [{}], snapstart=True)
    assert result.status == "init_error"


def test_snapstart_works_when_the_runtime_holds_fds_above_select_s_limit() -> None:
    """Under load the runtime holds a connection per client and worker: a zygote started
    then got a control socket above fd 1023, where select() fails; it must still fork."""
    keep = [os.dup(0) for _ in range(1100)]
    try:
        assert max(keep) > 1024
        results = run_pool("EchoFunction", [{"n": i} for i in range(2)], concurrent=True,
                           snapstart=True)
    finally:
        for fd in keep:
            os.close(fd)
    assert all(r.ok and r.restored for r in results)


def cold_start_with_a_broken_zygote(
        break_it: Callable[[Zygote, FunctionPool], Awaitable[InvokeResult]]
) -> tuple[InvokeResult, list[str]]:
    """An echo invocation on a snapstart pool whose zygote `break_it` breaks (it returns the
    invocation's result), and the pool's log lines."""
    lines: list[str] = []
    tpl = load_template(FIXTURE)

    async def go() -> InvokeResult:
        pool = FunctionPool(tpl.functions["EchoFunction"], tpl, BASE_ENV, lines.append,
                            snapstart=True)
        try:
            zygote = await pool.launcher.ensure_zygote()
            assert zygote is not None
            return await asyncio.wait_for(break_it(zygote, pool), timeout=30)
        finally:
            await pool.close()

    return asyncio.run(go()), lines


def test_a_zygote_that_dies_while_asked_to_fork_does_not_hang_the_cold_start() -> None:
    async def dies_while_forking(zygote: Zygote, pool: FunctionPool) -> InvokeResult:
        os.kill(zygote.proc.pid, signal.SIGSTOP)  # the fork request will wait ...
        invocation = asyncio.create_task(pool.invoke({"n": 1}))
        await asyncio.sleep(0.5)
        zygote.proc.kill()  # ... and the zygote dies without answering it
        return await invocation

    result, lines = cold_start_with_a_broken_zygote(dies_while_forking)
    assert result.ok and result.cold and not result.restored  # a normal cold start instead
    assert any("snapshot process gone" in line for line in lines)


def test_a_fork_whose_zygote_socket_is_gone_falls_back_to_a_normal_cold_start() -> None:
    # Seen once under load right after a hot reload: the zygote's control socket answered
    # EBADF to the fork request, and the request failed with a 500 instead of starting cold.
    async def socket_gone(zygote: Zygote, pool: FunctionPool) -> InvokeResult:
        zygote.control.detach()  # the socket object no longer has a descriptor
        return await pool.invoke({"n": 1})

    result, lines = cold_start_with_a_broken_zygote(socket_gone)
    assert result.ok and result.cold and not result.restored
    assert any("snapshot process gone" in line and "closing" in line for line in lines)
