# Seed 004 (TCP协议/UDP协议/Socket概念), "基于TCP的socket通讯 客户端client", unchanged except that the
# server address comes from the command line (the page uses 192.168.21.253) and the statements the
# page ran together on one line are on their own lines: python3 seed004_tcp_client.py HOST PORT
import sys
import socket
#1.创建套接字对象
sk = socket.socket(type=socket.SOCK_STREAM)
#2.连接目的服务器
sk.connect((sys.argv[1],int(sys.argv[2])))
#3.数据的收发
send_msg = input('请输入发送的数据:')
sk.send(send_msg.encode())
recv_msg = sk.recv(1024)
print('接受到服务端的数据:',recv_msg)
sk.close()
