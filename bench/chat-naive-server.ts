/**
 * The peer of bench/chat-scale.bench.ts: the chat relay most tutorials (and `ncat --chat`) write,
 * in plain node:net. Every chunk read is written to every connected socket at once, one write per
 * socket per chunk, with no batching, no line handling and no bound on what waits for a slow
 * reader. Prints `listening on tcp 127.0.0.1:PORT` on stderr like sockit does.
 */
import net from 'node:net';

const sockets = new Set<net.Socket>();
const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  // One line on accept, so the load generator knows the relay has this client.
  socket.write('* welcome\n');
  socket.on('data', (chunk: Buffer) => {
    for (const s of sockets) s.write(chunk);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => {
  process.stderr.write(`listening on tcp 127.0.0.1:${(server.address() as net.AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
});
