/**
 * Demo chapter: TCP's mechanisms over UDP, live. A RUDP client talks to a RUDP server through the
 * impairment relay of `sockit impair`, which delays every datagram and drops two chosen ones from
 * client to server, so the trace always shows the three-way handshake, a retransmission and the
 * four-way close down to TIME_WAIT and CLOSED — the diagrams of the seeds, as they happen.
 *
 * Which datagrams carry what depends on how the engine coalesces ACK, data and FIN, so the relay
 * drops the 2nd and the 3rd from the client: whichever way they were packed, one of them carries
 * data or a FIN, and the client must send it again.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { TimeoutError } from '../../errors.js';
import { ImpairProxy } from '../../io/impair-proxy.js';
import { createServer, type RudpServer } from '../../io/rudp-server.js';
import { connect } from '../../io/rudp-connect.js';
import type { RudpSocket } from '../../io/rudp-socket.js';
import { formatLinkCounters } from '../../sim/impairments.js';
import { check, type DemoChapter, type DemoContext } from './chapter.js';

/** One-way delay the relay adds, so the trace's times read like a real path. */
const DELAY_MS = 10;
/** A short MSL so TIME_WAIT (2·MSL) ends within the chapter instead of after the default 4 s. */
const MSL_MS = 250;
/** Longest the chapter waits for anything (a guard against a hang, not part of the story). */
const SAFETY_MS = 15_000;

function readAll(socket: RudpSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.once('error', reject);
  });
}

function gaveUp(what: string): TimeoutError {
  return new TimeoutError('reply', SAFETY_MS, `demo: gave up waiting for ${what} after ${SAFETY_MS} ms`);
}

function withSafety<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(gaveUp(what)), SAFETY_MS);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + SAFETY_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw gaveUp(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(ctx: DemoContext): Promise<void> {
  ctx.say('TCP makes an unreliable network reliable: handshake, sequence numbers, acknowledgements,');
  ctx.say('retransmission, the four-way close. sockit RUDP does all of it in TypeScript over UDP.');
  ctx.say(`Here a client and a server talk through a relay (sockit impair) that adds ${DELAY_MS} ms each way`);
  ctx.say('and drops the 2nd and 3rd datagrams from the client. Watch the trace:');

  const t0 = performance.now();
  const lines: Array<{ who: string; line: string }> = [];
  const engine = { mslMs: MSL_MS };
  let server: RudpServer | undefined;
  let proxy: ImpairProxy | undefined;
  let client: RudpSocket | undefined;
  try {
    let serverDone: Promise<void> = Promise.resolve();
    server = createServer({ allowHalfOpen: true, engine, trace: (line) => lines.push({ who: 'server', line }), traceOrigin: t0 }, (socket) => {
      // The seeds' upper-case echo: read the whole request, answer, close our side.
      const closed = once(socket, 'close');
      serverDone = readAll(socket).then(async (request) => {
        socket.end(request.toUpperCase());
        await closed;
      });
    });
    server.listen(0, '127.0.0.1');
    await withSafety(once(server, 'listening'), 'the RUDP server to listen');
    const serverPort = server.address()!.port;

    proxy = await ImpairProxy.start({
      listen: { host: '127.0.0.1', port: 0 },
      target: { host: '127.0.0.1', port: serverPort },
      upstream: { delayMs: DELAY_MS, dropNth: [2, 3] },
      downstream: { delayMs: DELAY_MS },
      seed: 1,
    });

    client = connect({ host: '127.0.0.1', port: proxy.address.port, allowHalfOpen: true, engine, trace: (line) => lines.push({ who: 'client', line }), traceOrigin: t0 });
    // Listen for 'close' from the start: it may follow 'end' within the same tick.
    const clientClosed = once(client, 'close');
    await withSafety(once(client, 'connect'), 'the handshake');
    const reply = readAll(client);
    client.end('hello over a lossy network\n');
    const answer = await withSafety(reply, 'the reply');
    await withSafety(Promise.all([clientClosed, serverDone]), 'both sides to close');
    // The side that closed first lingers in TIME_WAIT for 2·MSL, then reaches CLOSED.
    await waitFor(() => lines.some((l) => /TIME_WAIT → CLOSED/.test(l.line)), 'TIME_WAIT to end');
    const shown = lines.splice(0);

    for (const { who, line } of shown) ctx.show(who, line);
    const c = proxy.counters();
    ctx.show('relay', `client -> server: ${formatLinkCounters(c.upstream)}`);
    ctx.show('relay', `server -> client: ${formatLinkCounters(c.downstream)}`);
    ctx.show('client', `received: ${answer.trimEnd()}`);

    const text = shown.map((l) => l.line).join('\n');
    const missing = [
      [/→ SYN seq=/, 'a SYN'],
      [/SYN\+ACK/, 'a SYN+ACK'],
      [/\(retransmission\)/, 'a retransmission'],
      [/FIN/, 'a FIN'],
      [/TIME_WAIT → CLOSED/, 'TIME_WAIT ending in CLOSED'],
    ].filter(([re]) => !(re as RegExp).test(text));
    check(missing.length === 0 && answer === 'HELLO OVER A LOSSY NETWORK\n', `the RUDP trace lacks ${missing.map(([, what]) => what).join(', ') || 'the expected reply'}`);
    const firstRtx = shown.findIndex((l) => /\(retransmission\)/.test(l.line));
    const byTimer = shown.slice(0, firstRtx).some((l) => l.who === shown[firstRtx]!.who && /⏱ rto timer/.test(l.line));
    const what = /(?:→|←) (\S+)/.exec(shown[firstRtx]!.line)?.[1] ?? 'segment';
    ctx.say('SYN, SYN+ACK, ACK opened the connection (the three-way handshake). The lost ' + what + ' was sent again');
    ctx.say(byTimer ? 'when its retransmission timer expired (RFC 6298).' : 'after duplicate ACKs reported the gap (fast retransmit, RFC 5681).');
    ctx.say('FIN and ACK each way closed the connection, and the side that closed first waited 2·MSL in');
    ctx.say('TIME_WAIT before CLOSED, in case its last ACK was lost and the peer sent its FIN again.');
  } catch (err) {
    // Show what did happen: the trace is the best clue to what did not.
    for (const { who, line } of lines) ctx.show(who, line);
    throw err;
  } finally {
    client?.destroy();
    await proxy?.close();
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

/** The RUDP chapter of `sockit demo`. */
export const rudpChapter: DemoChapter = {
  title: 'TCP over UDP: handshake, a lost segment retransmitted, the four-way close',
  run,
};
