# Seed 004 (TCP协议/UDP协议/Socket概念), "基于UDP的socket通讯 客户端client", unchanged except that the
# server address comes from the command line and the statements the page ran together on one line
# are on their own lines: python3 seed004_udp_client.py HOST PORT
import sys
import socket
sk = socket.socket(type=socket.SOCK_DGRAM)
host_addr = (sys.argv[1],int(sys.argv[2]))
sk.sendto(b'ni hao server',host_addr)
recv_data,addr = sk.recvfrom(1024)
print(recv_data)
sk.close()
