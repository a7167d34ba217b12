# A client of seed 001's "自定义协议1" (custom protocol 1, the sticky-packet fix): each message is
# a 4-byte struct.pack('i', n) header holding the message's length, then the message.
# It writes COUNT such messages back to back in ONE sendall (so they arrive glued together), then
# reads the echoes back the protocol's way (4 header bytes, then exactly n bytes) and checks them.
#   python3 seed001_protocol1_client.py HOST PORT COUNT
import sys
import socket
import struct


def recv_exactly(sk, n):
    data = b''
    while len(data) < n:
        more = sk.recv(n - len(data))
        if not more:
            raise SystemExit('connection closed after %d of %d bytes' % (len(data), n))
        data += more
    return data


host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
messages = [('message %d: %s' % (i, '粘包' * (i % 7))).encode('utf-8') for i in range(count)]

sk = socket.socket()
sk.connect((host, port))
sk.sendall(b''.join(struct.pack('i', len(m)) + m for m in messages))

for i, sent in enumerate(messages):
    n = struct.unpack('i', recv_exactly(sk, 4))[0]
    got = recv_exactly(sk, n)
    if got != sent:
        raise SystemExit('echo %d differs: sent %r, got %r' % (i, sent, got))
sk.close()
print('%d messages echoed intact' % count)
