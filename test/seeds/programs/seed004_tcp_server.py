# Seed 004 (TCP协议/UDP协议/Socket概念), "基于TCP的socket通讯 服务端server", unchanged except that the
# bind address comes from the command line (the page binds 192.168.21.253) and the statements the
# page ran together on one line are on their own lines: python3 seed004_tcp_server.py HOST PORT
import sys
import socket
#1.创建一个套接字对象(区分类型)
sk = socket.socket(type=socket.SOCK_STREAM)
#2.绑定ip和端口
sk.bind((sys.argv[1],int(sys.argv[2])))
#3.监听外部连接
sk.listen()
#4.处理/接收监听到的客户端连接
#conn表示建立好的连接通道抽象成的对象
#address就是接收到客户端的ip和port
conn,address = sk.accept()
#accept是一个阻塞方法,程序运行到此处就hang住,除非某种条件成立后,结束阻塞
#结束阻塞条件就是成功的接收到一个客户端连接
#5.基于建立好的连接通道进行数据的收发
recv_msg = conn.recv(1024)
print('服务端接受到的数据为:',recv_msg)
send_msg = input('请录入发送给客户端的数据:')
conn.send(send_msg.encode()) #会不会报错
conn.close()
sk.close()
