#coding=utf-8
# Seed 003 (网络通信udp与tcp的区别), "1.网络通信udp" (GBK text), unchanged except that the bind
# address comes from the command line: python3 seed003_udp_server.py HOST PORT

import sys
from socket import *

# 1. 创建套接字
udp_socket = socket(AF_INET, SOCK_DGRAM)

# 2. 绑定本地的相关信息,如果一个网络程序不绑定,则系统会随机分配
local_addr = (sys.argv[1], int(sys.argv[2])) #  ip地址和端口号,ip一般不用写,表示本机的任何一个ip
udp_socket.bind(local_addr)

# 3. 等待接收对方发送的数据
recv_data = udp_socket.recvfrom(1024) #  1024表示本次接收的最大字节数

# 4. 显示接收到的数据
print(recv_data[0].decode('gbk'))

# 5. 关闭套接字
udp_socket.close()
