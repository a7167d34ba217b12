# Seed 001 (tcp / udp 协议及其实现的soc), 2.2 "server.py 服务端", unchanged except that the bind
# address comes from the command line: python3 seed001_udp_server.py HOST PORT
import sys
import socket
sk = socket.socket(type=socket.SOCK_DGRAM)
sk.bind((sys.argv[1],int(sys.argv[2])))
msg,addr = sk.recvfrom(1024)
print(msg)
sk.sendto(b'hi',addr)
sk.close()
