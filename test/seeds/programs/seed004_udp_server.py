# Seed 004 (TCP协议/UDP协议/Socket概念), "基于UDP的socket通讯 服务端server", unchanged except that the
# bind address comes from the command line and the statements the page ran together on one line
# are on their own lines: python3 seed004_udp_server.py HOST PORT
import sys
import socket
#创建的是udp类型的套接字对象
sk = socket.socket(type=socket.SOCK_DGRAM)
sk.bind((sys.argv[1],int(sys.argv[2])))
#必须先接受客户端的数据,从接受的角度可以提取出客户端的地址
recv_data,addr = sk.recvfrom(1024)
recv_data = recv_data.decode()
print(recv_data,addr)
#根据指定地址将数据发送给目标应用
sk.sendto(b'nihao',addr)
sk.close()
