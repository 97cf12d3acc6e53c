"""A tiny SMTP server on 127.0.0.1 for tests (standard library only).

- `FakeSMTPServer()` speaks just enough SMTP for `smtplib` (no STARTTLS, no AUTH) and
  keeps every message it accepted in `messages` (parsed `email.message.Message`).
- `FakeSMTPServer(stall=True)` accepts connections and says nothing (a server that
  hangs): `connected` is set when a client is waiting; `release()` closes them.
- `closed_port()` is a port where nothing listens (a server that is down).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
from email.message import Message


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSMTPServer:
    def __init__(self, port: int = 0, *, stall: bool = False) -> None:
        self.stall = stall
        self.messages: list[Message] = []
        self.connected = threading.Event()
        self._release = threading.Event()
        self._closing = False
        self._conns: list[socket.socket] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeSMTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def release(self) -> None:
        """A stalled server hangs up on every waiting client."""
        self._release.set()

    def close(self) -> None:
        self._closing = True
        self._release.set()
        self._thread.join(timeout=5)
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()

    # ------------------------------------------------------------ serving

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        self.connected.set()
        try:
            if self.stall:
                self._release.wait(timeout=120)
                return
            self._converse(conn)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _converse(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode("ascii") + b"\r\n")

        say("220 fake.smtp ESMTP")
        while True:
            raw = reader.readline()
            if not raw:
                return
            command = raw.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-fake.smtp")
                say("250-8BITMIME")
                say("250 SMTPUTF8")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                say("250 OK")
            elif verb == "DATA":
                say("354 end with <CRLF>.<CRLF>")
                lines: list[bytes] = []
                while True:
                    line = reader.readline()
                    if not line or line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.messages.append(
                    email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                )
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not implemented")
