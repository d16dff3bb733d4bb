"""Listening addresses: parsed strictly, bound up front, errors that say which setting to change."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tldops.ops.supervisor import ListenError, bind, bound_address, parse_listen


def test_parse_listen_accepts_ipv4_ipv6_and_names():
    assert parse_listen("127.0.0.1:8000", what="web") == ("127.0.0.1", 8000)
    assert parse_listen("[::1]:8025", what="SMTP") == ("::1", 8025)
    assert parse_listen("localhost:0", what="web") == ("localhost", 0)


@pytest.mark.parametrize("value", ["8000", "127.0.0.1", "127.0.0.1:http", ":8000", "h:70000"])
def test_parse_listen_refuses_malformed_addresses(value):
    with pytest.raises(ListenError) as exc:
        parse_listen(value, what="the web server")
    assert "is not host:port" in str(exc.value)


def test_bind_reports_a_busy_port_with_the_setting_to_change():
    sock = bind(("127.0.0.1", 0), what="LMTP", setting="LMTP_LISTEN")
    try:
        host, port = sock.getsockname()[:2]
        assert bound_address(sock) == f"127.0.0.1:{port}"
        with pytest.raises(ListenError) as exc:
            bind((host, port), what="LMTP", setting="LMTP_LISTEN")
        assert f"cannot listen on 127.0.0.1:{port} for LMTP" in str(exc.value)
        assert "TLDOPS_LMTP_LISTEN" in str(exc.value)
    finally:
        sock.close()


def test_web_command_fails_clearly_on_a_busy_port(db):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError) as exc:
            call_command("web", "--web", f"127.0.0.1:{port}")
    assert exc.value.returncode == 1
    assert "TLDOPS_WEB_LISTEN" in str(exc.value)


def test_the_listening_socket_and_its_connections_send_without_nagle():
    """Without TCP_NODELAY an answer written in two pieces waits for the client's delayed ACK
    (40 ms on Linux): the web pages were capped near 400 requests a second with idle CPUs."""
    sock = bind(("127.0.0.1", 0), what="test", setting="WEB_LISTEN")
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        sock.setblocking(True)
        client = socket.create_connection(sock.getsockname()[:2], timeout=5)
        conn, _addr = sock.accept()
        with client, conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()
