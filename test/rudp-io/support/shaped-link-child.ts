// Runs inside a network namespace whose loopback is rate-limited by a tbf qdisc (see
// ../shaped-link.test.ts): datagrams wait in the qdisc, the sender's socket buffer fills, and the
// kernel answers EAGAIN, which loopback without a qdisc never does. Prints one JSON line.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { openUdpPort, type UdpIoKind } from '../../../src/io/udp-port.js';
import { createServer } from '../../../src/io/rudp-server.js';
import { connect } from '../../../src/io/rudp-connect.js';
import type { RudpSocket } from '../../../src/io/rudp-socket.js';

const mode = process.argv[2];
const io = (process.argv[3] ?? 'native') as UdpIoKind;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function ports(): Promise<void> {
  const got: number[] = [];
  let writable = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const TOTAL = 3000;
  const rx = await openUdpPort({ type: 'udp4', host: '127.0.0.1', port: 0, recvBufferSize: 8 << 20, sendBufferSize: 1 << 20 }, {
    datagram: (bytes) => {
      got.push(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0));
      if (got.length === TOTAL) done();
    },
    writable() {},
    error(err) {
      throw err;
    },
  }, io);
  const to = { host: '127.0.0.1', port: rx.address.port };
  let refused = 0;
  let next = 0;
  const tx = await openUdpPort({ type: 'udp4', host: '127.0.0.1', port: 0, recvBufferSize: 1 << 20, sendBufferSize: 64 * 1024 }, {
    datagram() {},
    writable: () => {
      writable++;
      pump();
    },
    error(err) {
      throw err;
    },
  }, io);
  function pump(): void {
    while (next < TOTAL) {
      const d = new Uint8Array(1232);
      new DataView(d.buffer).setUint32(0, next++);
      if (!tx.send(d, to)) {
        refused++;
        return;
      }
    }
    if (!tx.flush()) refused++;
  }
  pump();
  const timeout = setTimeout(done, 20_000);
  await finished;
  clearTimeout(timeout);
  // UDP promises no order, and loopback can reorder: with two CPUs, datagrams the qdisc releases
  // on one CPU and then another wait in two per-CPU backlogs (seen once under CI's load). The port
  // must send each datagram once and in the order given; the kernel may still swap a few.
  const exactlyOnce = new Set(got).size === TOTAL && got.every((v) => v >= 0 && v < TOTAL);
  const outOfOrder = got.filter((v, i) => i > 0 && v < got[i - 1]!).length;
  console.log(JSON.stringify({ received: got.length, total: TOTAL, exactlyOnce, outOfOrder, refused, writable }));
  tx.close();
  rx.close();
}

async function stream(): Promise<void> {
  const server = createServer({ io }, (socket: RudpSocket) => socket.pipe(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const data = randomBytes(2 * 1024 * 1024);
  const client = connect({ port: server.address()!.port, host: '127.0.0.1', io, sendBufferSize: 64 * 1024 });
  await once(client, 'connect');
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  client.end(data);
  await once(client, 'end');
  console.log(JSON.stringify({ equal: sha256(Buffer.concat(chunks)) === sha256(data), bytes: Buffer.concat(chunks).length }));
  client.destroy();
  server.close();
}

/** Datagrams larger than the link's MTU allows for GSO: the kernel refuses UDP_SEGMENT (EINVAL). */
async function gsoRefused(): Promise<void> {
  const TOTAL = 200;
  const got: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const rx = await openUdpPort({ type: 'udp4', host: '127.0.0.1', port: 0, recvBufferSize: 8 << 20, sendBufferSize: 1 << 20 }, {
    datagram: (bytes) => {
      got.push(bytes.length === 1400 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(0) : -1);
      if (got.length === TOTAL) done();
    },
    writable() {},
    error(err) {
      throw err;
    },
  }, io);
  const errors: string[] = [];
  const tx = await openUdpPort({ type: 'udp4', host: '127.0.0.1', port: 0, recvBufferSize: 1 << 20, sendBufferSize: 4 << 20 }, {
    datagram() {},
    writable() {},
    error: (err) => errors.push(String(err.code)),
  }, io);
  const to = { host: '127.0.0.1', port: rx.address.port };
  for (let i = 0; i < TOTAL; i++) {
    const d = new Uint8Array(1400);
    new DataView(d.buffer).setUint32(0, i);
    tx.send(d, to);
  }
  tx.flush();
  const timeout = setTimeout(done, 5000);
  await finished;
  clearTimeout(timeout);
  console.log(JSON.stringify({ received: got.length, total: TOTAL, inOrder: got.every((v, i) => v === i), errors }));
  tx.close();
  rx.close();
}

(mode === 'ports' ? ports() : mode === 'gso-refused' ? gsoRefused() : stream()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
