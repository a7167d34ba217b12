# A TCP server that never accepts, with its accept queue already full: a further connect() gets no
# answer at all (the kernel drops its SYN), which is how a connect timeout is produced on loopback.
# Prints the port, then sleeps until killed.
import socket
import time

server = socket.socket()
server.bind(('127.0.0.1', 0))
server.listen(0)
port = server.getsockname()[1]
fillers = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fillers.append(c)
time.sleep(0.2)
print(port, flush=True)
time.sleep(60)
