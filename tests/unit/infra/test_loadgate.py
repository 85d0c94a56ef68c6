"""The roadmap's stage gates judge Locust's aggregate row as the roadmap states them."""

from localcloud.loadgate import GATES, REQUESTS_PER_USER_S, judge


def row(rps: float, p99: str, errors: int = 0, requests: int = 30000) -> dict[str, str]:
    return {"Requests/s": str(rps), "99%": p99, "Failure Count": str(errors),
            "Request Count": str(requests)}


def test_the_optimisation_gate_is_the_roadmaps_exit_criterion() -> None:
    gate = GATES["optimisation"]
    assert (gate.rps, gate.p99_ms, gate.measure_s) == (500, 200, 60)
    assert judge(gate, row(512.3, "180")) == []
    assert judge(gate, row(499.0, "180")) == ["499 req/s (needs >= 500)"]
    assert judge(gate, row(600, "200")) == ["p99 200 ms (needs < 200)"]
    assert judge(gate, row(600, "90", errors=1)) == ["1 errors of 30000 (needs 0)"]
    assert len(judge(gate, row(84, "7400", errors=5))) == 3


def test_a_run_that_measured_nothing_never_passes() -> None:
    for gate in GATES.values():
        assert judge(gate, row(0, "N/A", requests=0)) == ["no requests were measured"]
        assert judge(gate, row(gate.rps * 2, "N/A")) != []


def test_each_gate_offers_more_than_its_target_rate() -> None:
    for gate in GATES.values():
        assert gate.users * REQUESTS_PER_USER_S > gate.rps
        assert gate.users / gate.spawn_rate <= 30
    assert GATES["goal"].users > GATES["optimisation"].users > GATES["mvp"].users
