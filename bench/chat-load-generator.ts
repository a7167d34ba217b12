/**
 * Load generator for bench/chat-scale.bench.ts: holds N chat client sockets in one process, then
 * measures (A) the delivery latency of single broadcasts to everyone and (B) a sustained rate of
 * messages from many senders, checking that every receiver gets every message.
 *
 * Usage: node dist/bench/chat-load-generator.js PORT CLIENTS PROTOCOL(sockit|plain) SUSTAIN_S
 * Prints one JSON object on stdout. Run it with a raised open-file limit (`ulimit -n`).
 *
 * Latency is measured inside this one process (send time and receive time on the same monotonic
 * clock), so it includes the generator's own time to read 10,000 sockets: the whole system's
 * latency, which is what a user sees.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const [portText, clientsText, protocol = 'sockit', sustainText = '10'] = process.argv.slice(2);
const PORT = Number(portText);
const CLIENTS = Number(clientsText);
const SUSTAIN_S = Number(sustainText);
const CONNECT_WAVE = 250;
const BROADCASTS = 20;
const SENDERS = 100;
const RATE_PER_S = 100;
const LATENCY_SAMPLE_EVERY = 100;
/** Shared by every socket: reads are handled synchronously, so one buffer serves them all. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

interface Client {
  socket: net.Socket;
  index: number;
  ready: boolean;
  partial: string;
  /** Sustained-phase messages received. */
  received: number;
  /** Broadcast-phase lines received. */
  broadcastsSeen: number;
  closed: boolean;
}

const nowMs = (): number => performance.now();
const clients: Client[] = [];
let readyCount = 0;
let closedCount = 0;
let phase: 'connect' | 'broadcast' | 'sustain' = 'connect';
const broadcastSeen = new Map<number, number>();
const broadcastLatencies: number[] = [];
const sustainLatencies: number[] = [];
let onProgress: () => void = () => {};

function onLine(c: Client, line: string): void {
  if (phase === 'connect') {
    // Ready once the server has accepted us and said so (a completed connect only means the
    // kernel queued the connection): sockit confirms the join, the plain relay greets.
    if (!c.ready && line.startsWith(protocol === 'plain' ? '* welcome' : '* #lobby:')) {
      c.ready = true;
      readyCount++;
      onProgress();
    }
    return;
  }
  const at = line.indexOf(' B ');
  if (at === -1 && !line.startsWith('B ')) return;
  const sentAt = Number(line.slice(at === -1 ? 0 : at + 1).split(' ')[2]);
  c.received++;
  if (c.index % LATENCY_SAMPLE_EVERY === 0) sustainLatencies.push(nowMs() - sentAt);
}

/** Send time of broadcast k (1-based). Phase A lines are the only lines then, so the k-th line a
 * client reads is broadcast k: no parsing needed, which keeps the generator's own cost low. */
const broadcastSentAt: number[] = [];

function onData(c: Client, chunk: Buffer): void {
  if (phase === 'broadcast') {
    const now = nowMs();
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl === -1) break;
      const k = ++c.broadcastsSeen;
      broadcastLatencies.push(now - broadcastSentAt[k]!);
      broadcastSeen.set(k, (broadcastSeen.get(k) ?? 0) + 1);
      from = nl + 1;
    }
    onProgress();
    return;
  }
  // Sustained phase, unsampled receivers: count lines without building strings (10,000 sockets
  // at 100 lines/s is a million lines a second for this one process).
  if (phase === 'sustain' && c.index % LATENCY_SAMPLE_EVERY !== 0) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl === -1) break;
      c.received++;
      from = nl + 1;
    }
    return;
  }
  const text = c.partial + chunk.toString('latin1');
  const lines = text.split('\n');
  c.partial = lines.pop()!;
  for (const line of lines) onLine(c, line);
}

function connectOne(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // `onread` hands each read to us in one reused buffer, skipping the Readable stream machinery:
    // 10,000 sockets in one process, so the generator's own cost per read must stay small.
    let c: Client | undefined;
    const socket = net.connect({
      host: '127.0.0.1', port: PORT, noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (bytes: number, buf: Uint8Array) => {
        onData(c!, Buffer.from(buf.buffer, buf.byteOffset, bytes));
        return true;
      } },
    });
    c = { socket, index, ready: false, partial: '', received: 0, broadcastsSeen: 0, closed: false };
    clients.push(c);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      c!.closed = true;
      closedCount++;
    });
    socket.once('connect', () => {
      if (protocol === 'sockit') socket.write(`/nick u${index}\n`);
      resolve();
    });
    socket.once('error', reject);
  });
}

function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onProgress = () => {};
      clearInterval(poll);
      process.stderr.write(`chat-load: gave up waiting for ${what}\n`);
      resolve(false);
    }, timeoutMs);
    const done = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      clearInterval(poll);
      onProgress = () => {};
      resolve(true);
    };
    const poll = setInterval(done, 50);
    onProgress = done;
    done();
  });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const t0 = nowMs();
  for (let i = 0; i < CLIENTS; i += CONNECT_WAVE) {
    const wave: Promise<void>[] = [];
    for (let j = i; j < Math.min(CLIENTS, i + CONNECT_WAVE); j++) wave.push(connectOne(j));
    await Promise.all(wave);
  }
  await waitUntil('all clients registered', () => readyCount === CLIENTS, 120_000);
  const connectMs = nowMs() - t0;

  // Phase A: one broadcast at a time, each to every client (the sender included: the echo).
  phase = 'broadcast';
  for (let k = 1; k <= BROADCASTS; k++) {
    broadcastSentAt[k] = nowMs();
    clients[0]!.socket.write(`A ${k} ${broadcastSentAt[k]}\n`);
    await waitUntil(`broadcast ${k}`, () => (broadcastSeen.get(k) ?? 0) >= CLIENTS - closedCount, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // Phase B: SENDERS clients, RATE_PER_S messages a second in all, evenly spread, for SUSTAIN_S s.
  phase = 'sustain';
  const total = RATE_PER_S * SUSTAIN_S;
  const intervalMs = 1000 / RATE_PER_S;
  const start = nowMs();
  let sent = 0;
  let worstLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      // Send every message that is due (catching up if the event loop was late), then sleep.
      const due = Math.min(total, Math.floor((nowMs() - start) / intervalMs) + 1);
      while (sent < due) {
        worstLagMs = Math.max(worstLagMs, nowMs() - (start + sent * intervalMs));
        clients[sent % SENDERS]!.socket.write(`B ${sent} ${nowMs()}\n`);
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * intervalMs - nowMs()));
    };
    tick();
  });
  const sendSeconds = (nowMs() - start) / 1000;
  await waitUntil('sustained messages delivered', () => clients.every((c) => c.closed || c.received >= total), 60_000);
  const deliveredSeconds = (nowMs() - start) / 1000;
  const short = clients.filter((c) => c.received < total).length;

  const result = {
    protocol,
    clients: CLIENTS,
    connectMs: Math.round(connectMs),
    broadcast: {
      messages: BROADCASTS,
      deliveries: broadcastLatencies.length,
      p50Ms: percentile(broadcastLatencies, 50),
      p99Ms: percentile(broadcastLatencies, 99),
      maxMs: percentile(broadcastLatencies, 100),
    },
    sustain: {
      messages: total,
      sendSeconds,
      deliveredSeconds,
      worstSendLagMs: worstLagMs,
      receiversShort: short,
      closed: closedCount,
      sampledP50Ms: percentile(sustainLatencies, 50),
      sampledP99Ms: percentile(sustainLatencies, 99),
    },
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  for (const c of clients) c.socket.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`chat-load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
