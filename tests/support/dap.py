"""A minimal Debug Adapter Protocol client (what VS Code speaks to debugpy), enough to attach,
set a breakpoint, see a stop and continue."""

from __future__ import annotations

import json
import socket
import time
from typing import Any


class DapClient:
    def __init__(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buffer = b""
        self.seq = 0
        self.seen: list[dict[str, Any]] = []  # messages read while waiting for another

    @classmethod
    def initialized(cls, port: int, timeout: float = 30) -> DapClient:
        """A client past `initialize`. debugpy's adapter may close a connection that comes
        while it is still starting (seen on a first run, as it compiles itself): retried."""
        deadline = time.monotonic() + timeout
        while True:
            client = cls(port, timeout)
            try:
                client.send("initialize", adapterID="python", clientID="edu-test",
                            linesStartAt1=True, columnsStartAt1=True, pathFormat="path")
                client.wait_for("response", "initialize")
                return client
            except ConnectionError:
                client.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def send(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command,
                           "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        while len(self.buffer) < length:
            self.buffer += self._recv()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        message: dict[str, Any] = json.loads(body)
        return message

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        return chunk

    def wait_for(self, kind: str, name: str) -> dict[str, Any]:
        """The next event `name` (kind "event") or response to command `name`."""
        for index, message in enumerate(self.seen):
            if message.get("type") == kind and name in (message.get("event"),
                                                        message.get("command")):
                return self.seen.pop(index)
        while True:
            message = self._read()
            if message.get("type") == kind and name in (message.get("event"),
                                                        message.get("command")):
                return message
            self.seen.append(message)

    def close(self) -> None:
        self.sock.close()
