#!/usr/bin/env python3
"""Seed 001's file upload server ("custom protocol 2"), made runnable.

Receives one file: 4 bytes of header length (struct.unpack('i')), the JSON header dict
{"filename", "filesize"}, then filesize bytes, which it saves under OUT_DIR.

usage: classic_receiver.py OUT_DIR
Listens on 127.0.0.1 on a free port and prints "port N" once it is listening.
"""
import json
import os
import socket
import struct
import sys

out_dir = sys.argv[1]

sk = socket.socket()
sk.bind(('127.0.0.1', 0))
sk.listen()
print('port', sk.getsockname()[1], flush=True)

conn, addr = sk.accept()


def recv_exactly(n):
    # recv may return fewer bytes than asked: the sticky-packet lesson of seed 001.
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise SystemExit('connection closed early')
        data += chunk
    return data


head_len = struct.unpack('i', recv_exactly(4))[0]
head = json.loads(recv_exactly(head_len).decode('utf-8'))
filename = os.path.basename(head['filename'])
filesize = head['filesize']

with open(os.path.join(out_dir, filename), 'wb') as f:
    received = 0
    while received < filesize:
        chunk = conn.recv(min(1024 * 1024, filesize - received))
        if not chunk:
            raise SystemExit('connection closed early')
        f.write(chunk)
        received += len(chunk)

print('received', filename, received, flush=True)
conn.close()
sk.close()
