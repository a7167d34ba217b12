# Seed 001 (tcp / udp 协议及其实现的soc), 1.3 "client.py 客户端", unchanged except that the server
# address comes from the command line: python3 seed001_tcp_client.py HOST PORT
import sys
import socket
sk = socket.socket()
sk.connect((sys.argv[1],int(sys.argv[2])))
sk.send(b'hello!')
ret = sk.recv(1024)
print(ret)
sk.close()
