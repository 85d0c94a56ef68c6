"""Ports for throwaway stacks."""

import socket

from localcloud.procs import free_port


def test_free_ports_are_bindable_and_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)  # the kernel alone repeats just-closed ports
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))
