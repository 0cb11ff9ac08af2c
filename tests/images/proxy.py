"""A TCP proxy on 127.0.0.1 that cuts any connection once it has carried more than N bytes upstream:
an upload interrupted midway, with the registry really holding a half-written session."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def cutting_proxy(upstream_port: int, cut_after: int) -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    cuts = [0]

    def pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        carried = 0
        try:
            while data := src.recv(65536):
                carried += len(data)
                if limit is not None and carried > limit:
                    cuts[0] += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", upstream_port))
            threading.Thread(target=pipe, args=(client, server, cut_after), daemon=True).start()
            threading.Thread(target=pipe, args=(server, client, None), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
