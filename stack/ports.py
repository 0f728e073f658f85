"""Free ports and the small network probes that tell whether a component answers."""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading

HOST = "127.0.0.1"

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port(host: str = HOST) -> int:
    """Return a TCP port that is free now and was not handed out before in this process."""
    # Components start concurrently: after close() the kernel may give the same port to the
    # next bind(0), so remember what we handed out and never give it out twice.
    with _handed_out_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free TCP port found")


def port_is_free(port: int, host: str = HOST) -> bool:
    """Return whether a server could bind and listen on the port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR ignores connections in TIME_WAIT, which are not a bound listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError:
            return False
    return True


def tcp_answers(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Return whether a TCP connection to the port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly size bytes or raise ConnectionError."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def kafka_brokers(port: int, host: str = HOST, timeout: float = 2.0) -> list[tuple[str, int]]:
    """Send a Kafka Metadata (v1) request and return the advertised brokers."""
    client_id = b"trending-stack"
    correlation_id = 7
    # api_key=3 (Metadata), api_version=1, then client_id; body: topics = null (all topics).
    request = struct.pack(">hhih", 3, 1, correlation_id, len(client_id)) + client_id
    request += struct.pack(">i", -1)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        payload = _recv_exact(sock, size)
    got_id, count = struct.unpack_from(">ii", payload, 0)
    if got_id != correlation_id:
        raise ConnectionError(f"unexpected correlation id {got_id}")
    offset = 8
    brokers: list[tuple[str, int]] = []
    for _ in range(count):
        _node_id, host_len = struct.unpack_from(">ih", payload, offset)
        offset += 6
        broker_host = payload[offset : offset + host_len].decode()
        offset += host_len
        (broker_port, rack_len) = struct.unpack_from(">ih", payload, offset)
        offset += 6 + max(rack_len, 0)
        brokers.append((broker_host, broker_port))
    return brokers


def kafka_answers(port: int, host: str = HOST) -> bool:
    """Return whether a Kafka broker answers a metadata request with at least one broker."""
    try:
        return bool(kafka_brokers(port, host))
    except (OSError, struct.error, UnicodeDecodeError):
        return False


def redis_answers(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Return whether a Redis server answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_answers(port: int, host: str = HOST, path: str = "/", timeout: float = 1.0) -> bool:
    """Return whether an HTTP GET gets any response below 500."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        with contextlib.suppress(OSError):
            conn.close()
