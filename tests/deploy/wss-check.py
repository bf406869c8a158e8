#!/usr/bin/env python3
"""A chat over wss:// with nothing but Python's standard library.

    wss-check.py URL ORIGIN [CAFILE]

URL is the room's WebSocket, for example
wss://chat.example.org/chat/rooms/deploy-check; ORIGIN is the page origin
the browser would send.  The certificate is checked against CAFILE (the
system's store without it).  The check joins with the JSON protocol, says
one line and waits until the room log gives it back; it prints the welcome
event (with the TURN credential of the connection, if any) on stdout, and
exits 0 on success, 1 with the reason otherwise.  With ORIGIN prefixed by
"!", the connection must be refused instead (ALLOWED_ORIGINS or
websocketd's --origin).
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import urllib.parse

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


def fail(why):
    print('wss-check: ' + why, file=sys.stderr)
    sys.exit(1)


def connect(url, origin, cafile):
    """The TLS socket after a successful upgrade, or None on a refusal."""
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection((u.hostname, u.port or 443), timeout=15)
    sock = ctx.wrap_socket(raw, server_hostname=u.hostname)
    key = base64.b64encode(os.urandom(16)).decode()
    path = u.path + ('?' + u.query if u.query else '')
    sock.sendall((f'GET {path} HTTP/1.1\r\nHost: {u.hostname}\r\n'
                  'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                  f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n'
                  f'Origin: {origin}\r\n\r\n').encode())
    head = b''
    while b'\r\n\r\n' not in head:
        chunk = sock.recv(1)
        if not chunk:
            fail('connection closed during the handshake: ' + repr(head))
        head += chunk
    status = head.split(b'\r\n', 1)[0].decode()
    if ' 101 ' not in status + ' ':
        return None, status
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    if f'sec-websocket-accept: {accept}'.lower() not in head.decode().lower():
        fail('wrong Sec-WebSocket-Accept: ' + head.decode())
    return sock, status


def recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def recv_text(sock):
    """The next text message, or None when the server closed."""
    while True:
        h = recv_exact(sock, 2)
        if h is None:
            return None
        op, n = h[0] & 0x0f, h[1] & 0x7f
        if n == 126:
            n = int.from_bytes(recv_exact(sock, 2), 'big')
        elif n == 127:
            n = int.from_bytes(recv_exact(sock, 8), 'big')
        payload = recv_exact(sock, n) if n else b''
        if op == 8:
            return None
        if op == 1:
            return payload.decode()


def send_text(sock, text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, 'big'))
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def main():
    if len(sys.argv) not in (3, 4):
        fail(__doc__)
    url, origin = sys.argv[1], sys.argv[2]
    cafile = sys.argv[3] if len(sys.argv) == 4 else None
    refuse = origin.startswith('!')
    origin = origin.lstrip('!')
    sock, status = connect(url + ('&' if '?' in url else '?') + 'proto=json', origin, cafile)
    if refuse:
        if sock is None:
            print(f'refused as it should be: {status}')
            return
        event = json.loads(recv_text(sock) or '{}')
        if event.get('type') == 'error':
            print(f'refused as it should be: {event}')
            return
        fail(f'origin {origin} was let in: {event}')
    if sock is None:
        fail(f'no upgrade: {status}')
    welcome = json.loads(recv_text(sock) or '{}')
    if welcome.get('type') != 'welcome':
        fail(f'expected a welcome event, got {welcome}')
    print(json.dumps(welcome))
    said = 'deploy check ' + base64.b16encode(os.urandom(4)).decode()
    send_text(sock, json.dumps({'type': 'message', 'text': said}))
    while True:
        line = recv_text(sock)
        if line is None:
            fail('closed before the message came back')
        event = json.loads(line)
        if event.get('type') == 'message' and event.get('text') == said:
            print(f'message came back through the room log: {line}', file=sys.stderr)
            return
        if event.get('type') == 'error':
            fail(f'error event: {event}')


if __name__ == '__main__':
    main()
