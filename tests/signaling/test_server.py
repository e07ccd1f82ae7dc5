"""SignalingServer over real loopback WebSockets (127.0.0.1 only)."""

import asyncio
import random
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from webrtc.signaling.protocol import Message, MessageType, decode_message, encode_message
from webrtc.signaling.server import SignalingServer

T = MessageType
R = TypeVar("R")
STEP = 5.0  # hang guard per await, never an assertion on elapsed time


def run(coro: Awaitable[R]) -> R:
    async def bounded() -> R:
        return await asyncio.wait_for(coro, 30)

    return asyncio.run(bounded())


def make_server(**kw: Any) -> SignalingServer:
    kw.setdefault("rng", random.Random(3))
    # Long unless a test is about it, so a loaded CI machine cannot trip the timers.
    kw.setdefault("join_timeout", 60.0)
    kw.setdefault("seal_timeout", 60.0)
    return SignalingServer("127.0.0.1", 0, **kw)


async def send(ws: ClientConnection, mtype: MessageType, peer_id: int = 0, data: str = "") -> None:
    await ws.send(encode_message(Message(mtype, peer_id, data)))


async def recv(ws: ClientConnection) -> Message:
    frame = await asyncio.wait_for(ws.recv(), STEP)
    assert isinstance(frame, str)
    return decode_message(frame)


async def closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), STEP)
    except ConnectionClosed:
        pass
    return ws.close_code, ws.close_reason


async def create_lobby(url: str, mesh: bool = True) -> tuple[ClientConnection, str]:
    host = await connect(url)
    await send(host, T.JOIN, 0 if mesh else 1, "")
    assert await recv(host) == Message(T.ID, 1, "true" if mesh else "")
    joined = await recv(host)
    assert joined.type is T.JOIN
    return host, joined.data


async def join_lobby(url: str, lobby: str, host: ClientConnection) -> tuple[ClientConnection, int]:
    """Join ``lobby``; return the connection and its id (as announced to the host)."""
    ws = await connect(url)
    await send(ws, T.JOIN, 0, lobby)
    id_msg = await recv(ws)
    assert id_msg.type is T.ID and id_msg.id >= 2
    announced = await recv(host)
    assert announced == Message(T.PEER_CONNECT, id_msg.id)
    return ws, id_msg.id


async def drain_until(ws: ClientConnection, mtype: MessageType) -> Message:
    while True:
        msg = await recv(ws)
        if msg.type is mtype:
            return msg


def test_mesh_session_relay_and_host_leave() -> None:
    async def scenario() -> None:
        async with make_server() as server:
            host, lobby = await create_lobby(server.url)
            b, b_id = await join_lobby(server.url, lobby, host)
            assert await recv(b) == Message(T.PEER_CONNECT, 1)
            assert await recv(b) == Message(T.JOIN, 0, lobby)
            c, c_id = await join_lobby(server.url, lobby, host)
            assert await recv(b) == Message(T.PEER_CONNECT, c_id)
            assert {(await recv(c)).id for _ in range(2)} == {1, b_id}
            assert await recv(c) == Message(T.JOIN, 0, lobby)

            # c (higher id) offers to b and to the host, as Godot's demo client does.
            await send(c, T.OFFER, b_id, "v=0 offer")
            assert await recv(b) == Message(T.OFFER, c_id, "v=0 offer")
            await send(b, T.ANSWER, c_id, "v=0 answer")
            assert await recv(c) == Message(T.ANSWER, b_id, "v=0 answer")
            await send(c, T.OFFER, 1, "to host")
            assert await recv(host) == Message(T.OFFER, c_id, "to host")
            cand = "\n0\n0\ncandidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"
            await send(host, T.CANDIDATE, c_id, cand)
            assert await recv(c) == Message(T.CANDIDATE, 1, cand)

            await b.close()
            assert await recv(host) == Message(T.PEER_DISCONNECT, b_id)
            assert await recv(c) == Message(T.PEER_DISCONNECT, b_id)
            await host.close()
            assert await closed(c) == (4000, "Room host has disconnected")
            assert server.hub.lobbies == {}

    run(scenario())


def test_client_server_visibility_over_sockets() -> None:
    async def scenario() -> None:
        async with make_server() as server:
            host, lobby = await create_lobby(server.url, mesh=False)
            b, b_id = await join_lobby(server.url, lobby, host)
            assert await recv(b) == Message(T.PEER_CONNECT, 1)
            assert await recv(b) == Message(T.JOIN, 0, lobby)
            c, c_id = await join_lobby(server.url, lobby, host)
            assert await recv(c) == Message(T.PEER_CONNECT, 1)
            assert await recv(c) == Message(T.JOIN, 0, lobby)
            # b hears nothing about c: the next thing b receives is the host's relay.
            await send(host, T.OFFER, b_id, "only host")
            assert await recv(b) == Message(T.OFFER, 1, "only host")
            await c.close()
            assert await recv(host) == Message(T.PEER_DISCONNECT, c_id)
            await send(host, T.OFFER, b_id, "still only host")
            assert await recv(b) == Message(T.OFFER, 1, "still only host")

    run(scenario())


BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("{not json", "Invalid message format: not JSON"),
    ('{"type": "4", "id": 1, "data": "x"}', "Invalid message format: 'type' must be an integer"),
    ('{"type": 4, "id": 1, "data": 5}', "Invalid message format: 'data' must be a string"),
    ('{"type": 42, "id": 1, "data": ""}', "Invalid command: unknown type 42"),
    ('{"type": 2, "id": 1, "data": ""}', "Invalid command: clients may not send PEER_CONNECT"),
    ('{"type": 4, "id": 999, "data": "x"}', "Invalid destination: no peer 999 in this lobby"),
    ('{"type": 7, "id": 0, "data": ""}', "Only host can seal the lobby"),
    (b"\x00binary", "Invalid transfer mode, must be text"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_FRAMES)
def test_bad_frame_closes_only_the_sender(bad: str | bytes, reason: str) -> None:
    async def scenario() -> None:
        async with make_server() as server:
            host, lobby = await create_lobby(server.url)
            good, good_id = await join_lobby(server.url, lobby, host)
            bad_ws, bad_id = await join_lobby(server.url, lobby, host)
            await bad_ws.send(bad)
            assert await closed(bad_ws) == (4000, reason)
            assert await drain_until(host, T.PEER_DISCONNECT) == Message(T.PEER_DISCONNECT, bad_id)
            assert await drain_until(good, T.PEER_DISCONNECT) == Message(T.PEER_DISCONNECT, bad_id)
            # Everyone else still works.
            await send(good, T.OFFER, 1, "after")
            assert await recv(host) == Message(T.OFFER, good_id, "after")
            await send(host, T.ANSWER, good_id, "reply")
            assert await recv(good) == Message(T.ANSWER, 1, "reply")

    run(scenario())


def test_oversized_frame_closes_only_the_sender() -> None:
    async def scenario() -> None:
        async with make_server(max_message_size=1024) as server:
            host, lobby = await create_lobby(server.url)
            big, big_id = await join_lobby(server.url, lobby, host)
            await send(big, T.OFFER, 1, "x" * 4096)
            code, _ = await closed(big)
            assert code == 1009  # RFC 6455 §7.4.1 message too big
            assert await drain_until(host, T.PEER_DISCONNECT) == Message(T.PEER_DISCONNECT, big_id)
            _other, _ = await join_lobby(server.url, lobby, host)

    run(scenario())


def test_join_timeout_closes_idle_connection() -> None:
    async def scenario() -> None:
        async with make_server(join_timeout=0.2) as server:
            idle = await connect(server.url)
            assert await closed(idle) == (4000, "Have not joined lobby yet")
            assert server.hub.peers == {}

    run(scenario())


def test_seal_blocks_new_peers_but_relaying_continues() -> None:
    async def scenario() -> None:
        async with make_server() as server:
            host, lobby = await create_lobby(server.url)
            b, b_id = await join_lobby(server.url, lobby, host)
            await send(host, T.SEAL)
            assert await recv(host) == Message(T.SEAL, 0)
            assert await drain_until(b, T.SEAL) == Message(T.SEAL, 0)
            late = await connect(server.url)
            await send(late, T.JOIN, 0, lobby)
            assert await closed(late) == (4000, "Lobby is sealed")
            await send(b, T.ANSWER, 1, "after seal")
            assert await recv(host) == Message(T.ANSWER, b_id, "after seal")

    run(scenario())


def test_seal_closes_lobby_after_timeout() -> None:
    async def scenario() -> None:
        async with make_server(seal_timeout=0.2) as server:
            host, lobby = await create_lobby(server.url)
            b, _ = await join_lobby(server.url, lobby, host)
            await send(host, T.SEAL)
            assert await recv(host) == Message(T.SEAL, 0)
            assert await drain_until(b, T.SEAL) == Message(T.SEAL, 0)
            assert await closed(b) == (1000, "Seal complete")
            assert await closed(host) == (1000, "Seal complete")
            assert server.hub.lobbies == {} and server.hub.peers == {}

    run(scenario())


def test_peer_limit_rejects_extra_connection() -> None:
    async def scenario() -> None:
        async with make_server(max_peers=2) as server:
            host, lobby = await create_lobby(server.url)
            b, _ = await join_lobby(server.url, lobby, host)
            extra = await connect(server.url)
            assert await closed(extra) == (4000, "Too many peers connected")
            await send(b, T.OFFER, 1, "unaffected")
            assert (await recv(host)).data == "unaffected"

    run(scenario())


def test_lobby_limit() -> None:
    async def scenario() -> None:
        async with make_server(max_lobbies=1) as server:
            host, lobby = await create_lobby(server.url)
            extra = await connect(server.url)
            await send(extra, T.JOIN, 0, "")
            assert await closed(extra) == (4000, "Too many lobbies open, disconnecting")
            _b, _ = await join_lobby(server.url, lobby, host)

    run(scenario())


def test_server_close_disconnects_clients() -> None:
    async def scenario() -> None:
        server = make_server()
        await server.start()
        host, _ = await create_lobby(server.url)
        await server.close()
        code, _ = await closed(host)
        assert code == 1001  # going away

    run(scenario())


async def http_get(port: int, path: str, headers: str = "") -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), STEP)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields, body


PAGE = b"<!doctype html><title>signaling demo</title><p>hello</p>\n"


def test_static_page_served_at_root_and_websocket_still_works(tmp_path: Path) -> None:
    page = tmp_path / "demo.html"
    page.write_bytes(PAGE)

    async def scenario() -> None:
        async with make_server(static_page=page) as server:
            status, fields, body = await http_get(server.port, "/")
            assert status == 200
            assert fields["content-type"] == "text/html; charset=utf-8"
            assert int(fields["content-length"]) == len(PAGE)
            assert body == PAGE
            assert (await http_get(server.port, "/index.html?x=1"))[2] == PAGE
            assert (await http_get(server.port, "/other.js"))[0] == 404
            # The same port still speaks the signaling protocol.
            _host, lobby = await create_lobby(server.url)
            assert len(lobby) == 16

    run(scenario())


def test_static_directory_files_and_no_traversal(tmp_path: Path) -> None:
    root = tmp_path / "www"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(PAGE)
    (root / "game.wasm").write_bytes(b"\x00asm")
    (root / "sub" / "app.js").write_bytes(b"console.log(1)")
    (tmp_path / "secret.txt").write_bytes(b"secret")

    async def scenario() -> None:
        async with make_server(static=root) as server:
            port = server.port
            assert (await http_get(port, "/"))[2] == PAGE
            status, fields, body = await http_get(port, "/game.wasm")
            assert (status, fields["content-type"], body) == (200, "application/wasm", b"\x00asm")
            status, fields, body = await http_get(port, "/sub/app.js")
            assert status == 200 and body == b"console.log(1)"
            assert fields["content-type"].startswith("text/javascript")
            assert (await http_get(port, "/sub/"))[0] == 404  # no index.html there
            for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt", "/%00"]:
                status, _, body = await http_get(port, bad)
                assert status == 404 and b"secret" not in body

    run(scenario())


def test_plain_http_without_static_gets_upgrade_required() -> None:
    async def scenario() -> None:
        async with make_server() as server:
            status, _, _ = await http_get(server.port, "/")
            assert status == 426

    run(scenario())


def test_missing_static_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SignalingServer(static=tmp_path / "nope")


def test_peer_that_stops_reading_is_closed_not_buffered_forever() -> None:
    async def scenario() -> None:
        async with make_server(max_write_buffer=0) as server:
            host, lobby = await create_lobby(server.url)
            good, good_id = await join_lobby(server.url, lobby, host)
            # max_queue=1: the client stops reading its socket once one message is unread;
            # a small receive buffer keeps the kernel from absorbing megabytes first.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
            victim = await connect(server.url, max_queue=1, sock=sock, compression=None)
            await send(victim, T.JOIN, 0, lobby)
            victim_id = (await drain_until(host, T.PEER_CONNECT)).id
            peer = server.hub.peers[victim_id]
            blob = "x" * 60_000
            for _ in range(5000):  # bounded; kernel buffers fill after a few MB
                if peer.closing:
                    break
                await send(host, T.OFFER, victim_id, blob)
                await asyncio.sleep(0)
            assert peer.closing
            # Nobody else is affected.
            await send(host, T.OFFER, good_id, "still fine")
            assert await drain_until(good, T.OFFER) == Message(T.OFFER, 1, "still fine")
            victim.transport.abort()

    run(scenario())
