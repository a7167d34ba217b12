// The UDP socket under RUDP, both ways it is built: batched native I/O (recvmmsg/sendmmsg with
// UDP GSO/GRO, Linux) and node:dgram. Real sockets on loopback; every datagram sent must arrive as
// the same datagram, whichever side batches, and RUDP must carry a stream over either.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { openUdpPort, defaultUdpIo, type UdpPort, type UdpPortHandlers } from '../../src/io/udp-port.js';
import { loadNativeUdp, nativeUdpLoadError } from '../../src/io/native-udp-port.js';
import type { DatagramAddress } from '../../src/rudp/datagram-endpoint.js';
import { createServer } from '../../src/io/rudp-server.js';
import { connect } from '../../src/io/rudp-connect.js';
import type { RudpSocket } from '../../src/io/rudp-socket.js';
import { RudpDriver } from '../../src/io/rudp-driver.js';

const BUFFERS = { recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Received {
  bytes: Uint8Array;
  from: DatagramAddress;
}

/** A port that records what it receives and can wait for a count. */
interface Recording {
  port: UdpPort;
  got: Received[];
  errors: Error[];
  waitFor(n: number): Promise<void>;
  /** Sends every datagram, waiting for `writable` whenever the port says stop, then flushes. */
  sendAll(datagrams: Uint8Array[], to: (i: number) => DatagramAddress): Promise<void>;
}

const open: UdpPort[] = [];
after(() => {
  for (const p of open) p.close();
});

async function recordingPort(kind: 'native' | 'dgram', type: 'udp4' | 'udp6', host: string): Promise<Recording> {
  const got: Received[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  let onWritable: (() => void) | undefined;
  const handlers: UdpPortHandlers = {
    datagram: (bytes, from) => {
      got.push({ bytes, from });
      wake?.();
    },
    writable: () => onWritable?.(),
    error: (err) => {
      errors.push(err);
      wake?.();
    },
  };
  const port = await openUdpPort({ type, host, port: 0, ...BUFFERS }, handlers, kind);
  open.push(port);
  const sendAll = async (datagrams: Uint8Array[], to: (i: number) => DatagramAddress): Promise<void> => {
    for (let i = 0; i < datagrams.length; i++) {
      if (!port.send(datagrams[i]!, to(i))) await new Promise<void>((resolve) => (onWritable = resolve));
    }
    if (!port.flush()) await new Promise<void>((resolve) => (onWritable = resolve));
  };
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (got.length < n && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  return { port, got, errors, waitFor, sendAll };
}

/** Datagrams shaped like RUDP's: runs of equal full-sized ones, a short one ending a run, tiny ACKs, a large one. */
function mixedDatagrams(): Uint8Array[] {
  const sizes: number[] = [];
  for (let run = 0; run < 6; run++) {
    for (let i = 0; i < 70; i++) sizes.push(1232); // more than one GSO message holds
    sizes.push(700, 32, 32);
  }
  sizes.push(1, 60_000, 1232, 1232, 0);
  return sizes.map((n, i) => {
    const b = randomBytes(n);
    if (n >= 4) b.writeUInt32BE(i, 0); // numbered, so order is checked too
    return new Uint8Array(b);
  });
}

test('on Linux the batched native UDP I/O is built and is the default', { skip: process.platform !== 'linux' }, () => {
  assert.ok(loadNativeUdp(), `native/udp_batch.c did not load: ${nativeUdpLoadError()?.message}`);
  if (process.env['SOCKIT_UDP_IO'] !== 'dgram') assert.equal(defaultUdpIo(), 'native');
});

const kinds = (loadNativeUdp() ? ['native', 'dgram'] : ['dgram']) as Array<'native' | 'dgram'>;

for (const sender of kinds) {
  for (const receiver of kinds) {
    describe(`${sender} sender → ${receiver} receiver`, () => {
      for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
        test(`${type}: every datagram arrives whole, in order, from the sender's address`, async () => {
          const rx = await recordingPort(receiver, type, host);
          const tx = await recordingPort(sender, type, host);
          const to = { host, port: rx.port.address.port };
          const datagrams = mixedDatagrams();
          await tx.sendAll(datagrams, () => to);
          await rx.waitFor(datagrams.length);
          assert.deepEqual(rx.errors, []);
          assert.equal(rx.got.length, datagrams.length);
          rx.got.forEach((r, i) => {
            assert.equal(r.bytes.length, datagrams[i]!.length, `datagram ${i}: length`);
            assert.equal(Buffer.compare(r.bytes, datagrams[i]!), 0, `datagram ${i}: bytes`);
            assert.deepEqual(r.from, { host, port: tx.port.address.port });
          });
          tx.port.close();
          rx.port.close();
        });
      }
    });
  }
}

for (const kind of kinds) {
  describe(`${kind} port`, () => {
    test('one batch to two destinations: each gets its own datagrams, in order', async () => {
      const a = await recordingPort(kind, 'udp4', '127.0.0.1');
      const b = await recordingPort(kind, 'udp4', '127.0.0.1');
      const tx = await recordingPort(kind, 'udp4', '127.0.0.1');
      const toA = { host: '127.0.0.1', port: a.port.address.port };
      const toB = { host: '127.0.0.1', port: b.port.address.port };
      const datagrams = Array.from({ length: 300 }, (_, i) => new Uint8Array(1232).fill(i & 0xff));
      await tx.sendAll(datagrams, (i) => (i % 3 === 0 ? toB : toA));
      await a.waitFor(200);
      await b.waitFor(100);
      assert.deepEqual(a.got.map((r) => r.bytes[0]), Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => i & 0xff));
      assert.deepEqual(b.got.map((r) => r.bytes[0]), Array.from({ length: 100 }, (_, k) => (3 * k) & 0xff));
      for (const p of [a, b, tx]) p.port.close();
    });

    test('received bytes are the receiver\'s to keep: later batches do not overwrite them', async () => {
      const rx = await recordingPort(kind, 'udp4', '127.0.0.1');
      const tx = await recordingPort(kind, 'udp4', '127.0.0.1');
      const to = { host: '127.0.0.1', port: rx.port.address.port };
      const sent: string[] = [];
      for (let round = 0; round < 5; round++) {
        const datagrams = Array.from({ length: 40 }, () => new Uint8Array(randomBytes(1232)));
        for (const d of datagrams) sent.push(sha256(d));
        await tx.sendAll(datagrams, () => to);
        await rx.waitFor((round + 1) * 40);
      }
      assert.deepEqual(rx.got.map((r) => sha256(r.bytes)), sent);
      tx.port.close();
      rx.port.close();
    });

    test('binding a port in use fails with EADDRINUSE', async () => {
      const first = await recordingPort(kind, 'udp4', '127.0.0.1');
      await assert.rejects(
        openUdpPort({ type: 'udp4', host: '127.0.0.1', port: first.port.address.port, ...BUFFERS }, { datagram() {}, writable() {}, error() {} }, kind),
        (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
      );
      first.port.close();
    });

    test('a connected port learns ECONNREFUSED when nobody listens at the peer', async () => {
      const gone = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => gone.bind(0, '127.0.0.1', resolve));
      const deadPort = gone.address().port;
      gone.close();
      const errors: NodeJS.ErrnoException[] = [];
      const port = await openUdpPort({ type: 'udp4', peer: { host: '127.0.0.1', port: deadPort }, ...BUFFERS }, { datagram() {}, writable() {}, error: (e) => errors.push(e) }, kind);
      for (let i = 0; i < 3 && errors.length === 0; i++) {
        port.send(new Uint8Array(10), { host: '127.0.0.1', port: deadPort });
        port.flush();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(errors.some((e) => e.code === 'ECONNREFUSED'), `errors: ${errors.map((e) => e.code).join(', ')}`);
      port.close();
    });

    test('RUDP carries 8 MiB both ways over this port, byte for byte', async () => {
      const server = createServer({ io: kind }, (socket: RudpSocket) => socket.pipe(socket));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const data = randomBytes(8 * 1024 * 1024);
      const client = connect({ port: server.address()!.port, host: '127.0.0.1', io: kind });
      await once(client, 'connect');
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      client.end(data);
      await once(client, 'end');
      assert.equal(sha256(Buffer.concat(chunks)), sha256(data));
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    test('a driver reports which implementation it runs on', async () => {
      const driver = await RudpDriver.bind({ type: 'udp4', host: '127.0.0.1', port: 0 }, { io: kind });
      assert.equal(driver.io, kind);
      driver.destroy();
    });
  });
}
