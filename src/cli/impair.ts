/**
 * `sockit impair`: a UDP relay that makes a network bad on purpose — loss, delay, jitter,
 * reordering, duplication, corruption, a bandwidth limit — with the same models the simulator uses
 * (src/sim/impairments.ts), so any UDP program can be tried over a lossy path on loopback.
 *
 *   sockit impair --listen 9000 --to 127.0.0.1:7000 --loss 5% --delay 20ms --seed 1
 *
 * Clients send to the listen port; datagrams go on to the target, and the target's replies come
 * back to the client that sent. SIGINT or SIGTERM prints the counters of both directions and exits 0.
 */
import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';
import { ImpairProxy } from '../io/impair-proxy.js';
import { formatHostPort } from '../io/node-errors.js';
import { formatLinkCounters, type LinkImpairments } from '../sim/impairments.js';
import { parseByteCount, parseCommandLine } from './cli-options.js';
import { ExitCode, type CliIo, type Command } from './command.js';
import { catchStopSignals } from './stop-signal.js';

const HELP = `usage: sockit impair --listen [HOST:]PORT --to HOST:PORT [options]

Relays UDP datagrams both ways between clients and a target, impairing them on the way:
clients send to the listen address, datagrams go on to the target, replies come back.
The same impairment models drive sockit's network simulator. Each option applies to
both directions.

options:
  --listen [HOST:]PORT  where clients send (host default 127.0.0.1; port 0 picks a free one)
  --to HOST:PORT        where datagrams are forwarded
  --loss P%             drop each datagram with probability P (e.g. 5%)
  --burst P%,R%         bursty loss (Gilbert-Elliott): enter a loss burst with probability P
                        per datagram, leave it with probability R
  --delay MS            one-way delay (e.g. 20ms, 1s; a bare number is milliseconds)
  --jitter MS           each delay drawn uniformly from delay ± jitter (may reorder)
  --reorder P%          hold a datagram back by --reorder-hold (default 10ms) so later ones overtake
  --reorder-hold MS     how long a reordered datagram is held back
  --duplicate P%        send a datagram twice with probability P
  --corrupt P%          flip one random bit of a datagram with probability P
  --rate RATE           bandwidth limit: 10mbit, 500kbit, 1gbit, 2mbps (bytes/s), bare = bit/s
  --queue BYTES         drop-tail queue in front of --rate (default 262144; 64k, 1m accepted)
  --mtu BYTES           drop datagrams larger than this
  --drop-nth N[,M...]   drop exactly the N-th (1-based) datagram from client to target
  --seed N              seed of the random models (default: random, printed at start)
  -h, --help            this help

Percentages accept a % sign or not (--loss 5 is 5%). On SIGINT or SIGTERM the counters of
both directions are printed on stderr and the relay exits with status 0.

example:
  sockit listen --rudp 7000 &
  sockit impair --listen 9000 --to 127.0.0.1:7000 --loss 5% --delay 20ms --seed 1
  sockit connect --rudp 127.0.0.1 9000 --trace
`;

/** Parses `5%`, `5` or `0.5%` into a probability 0..1. */
export function parsePercent(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const v = m ? Number(m[1]) / 100 : NaN;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`--${option} takes a percentage from 0% to 100%, got '${text}'`);
  return v;
}

/** Parses `20ms`, `1.5s`, `20` (milliseconds) into milliseconds. */
export function parseDurationMs(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${option} takes a duration such as 20ms or 1s, got '${text}'`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

const RATE_UNITS: Record<string, number> = {
  '': 1, bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9,
};

/** Parses a tc-style rate (`10mbit`, `500kbit`, `2mbps` = bytes/s) into bits per second. */
export function parseRateBitsPerSec(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(text.trim());
  const unit = m ? RATE_UNITS[m[2]!.toLowerCase()] : undefined;
  const v = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!(v > 0)) throw new UsageError(`--rate takes a rate such as 10mbit, 500kbit or 2mbps, got '${text}'`);
  return v;
}

/** Parses `65536`, `64k`, `1m` into bytes. */
export function parseBytes(option: string, text: string): number {
  return parseByteCount(text.trim(), `--${option}`);
}

function parseHostPort(option: string, text: string, defaultHost: string | undefined): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? (defaultHost !== undefined ? /^()()(\d+)$/.exec(text) : null);
  const host = m ? (m[1] ?? m[2] ?? '') || defaultHost : undefined;
  const port = m ? Number(m[3]) : NaN;
  if (host === undefined || !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new UsageError(`--${option} takes ${defaultHost !== undefined ? '[HOST:]PORT' : 'HOST:PORT'}, got '${text}'`);
  }
  return { host, port };
}

/** The link settings given by parsed options (every option applies to both directions). */
export function impairmentsFrom(values: Record<string, string | undefined>): LinkImpairments {
  const link: LinkImpairments = {};
  if (values.loss !== undefined) link.loss = parsePercent('loss', values.loss);
  if (values.burst !== undefined) {
    const parts = values.burst.split(',');
    if (parts.length !== 2) throw new UsageError(`--burst takes two percentages P%,R%, got '${values.burst}'`);
    link.burst = { pGoodToBad: parsePercent('burst', parts[0]!), pBadToGood: parsePercent('burst', parts[1]!) };
  }
  if (values.delay !== undefined) link.delayMs = parseDurationMs('delay', values.delay);
  if (values.jitter !== undefined) link.jitterMs = parseDurationMs('jitter', values.jitter);
  if (values.reorder !== undefined) link.reorder = parsePercent('reorder', values.reorder);
  if (values['reorder-hold'] !== undefined) link.reorderHoldMs = parseDurationMs('reorder-hold', values['reorder-hold']);
  if (values.duplicate !== undefined) link.duplicate = parsePercent('duplicate', values.duplicate);
  if (values.corrupt !== undefined) link.corrupt = parsePercent('corrupt', values.corrupt);
  if (values.rate !== undefined) link.rateBitsPerSec = parseRateBitsPerSec(values.rate);
  if (values.queue !== undefined) link.queueBytes = parseBytes('queue', values.queue);
  if (values.mtu !== undefined) link.mtuBytes = parseBytes('mtu', values.mtu);
  return link;
}

function parseDropNth(text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`--drop-nth takes 1-based datagram numbers such as 3 or 3,7, got '${text}'`);
  }
  return list;
}

const OPTIONS = {
  listen: { type: 'string' },
  to: { type: 'string' },
  loss: { type: 'string' },
  burst: { type: 'string' },
  delay: { type: 'string' },
  jitter: { type: 'string' },
  reorder: { type: 'string' },
  'reorder-hold': { type: 'string' },
  duplicate: { type: 'string' },
  corrupt: { type: 'string' },
  rate: { type: 'string' },
  queue: { type: 'string' },
  mtu: { type: 'string' },
  'drop-nth': { type: 'string' },
  seed: { type: 'string' },
} as const;

async function run(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine('impair', argv, OPTIONS);
  if (parsed.positionals.length > 0) throw new UsageError(`impair: unexpected argument '${parsed.positionals[0]}' (every setting is an option)`);
  const values = parsed.values as Record<string, string | undefined>;
  if (values.listen === undefined) throw new UsageError('impair needs --listen [HOST:]PORT (where clients send)');
  if (values.to === undefined) throw new UsageError('impair needs --to HOST:PORT (where datagrams go)');
  const listen = parseHostPort('listen', values.listen, '127.0.0.1');
  const target = parseHostPort('to', values.to, undefined);
  const link = impairmentsFrom(values);
  let seed: number;
  if (values.seed === undefined) seed = randomInt(0, 0x7fff_ffff);
  else {
    seed = Number(values.seed);
    if (!(/^\d+$/.test(values.seed) && seed <= 0xffff_ffff)) throw new UsageError(`--seed takes an integer from 0 to 4294967295, got '${values.seed}'`);
  }
  const upstream: LinkImpairments = values['drop-nth'] === undefined ? link : { ...link, dropNth: parseDropNth(values['drop-nth']) };

  // Catch the signals before the readiness line: a script may send SIGINT the moment it reads
  // that line, and until a handler is installed the kernel's default action kills the process.
  const stop = catchStopSignals();
  let proxy: ImpairProxy;
  let signal: NodeJS.Signals;
  try {
    proxy = await ImpairProxy.start({ listen, target, upstream, downstream: link, seed });
    io.stderr.write(`impairing udp ${formatHostPort(proxy.address.host, proxy.address.port)} -> ${formatHostPort(target.host, target.port)}\n`);
    io.stderr.write(`seed ${seed}\n`);
    signal = await stop.stopped;
  } finally {
    stop.dispose();
  }
  const c = proxy.counters();
  await proxy.close();
  io.stderr.write(`${signal}: stopping\n`);
  io.stderr.write(`client -> target: ${formatLinkCounters(c.upstream)}\n`);
  io.stderr.write(`target -> client: ${formatLinkCounters(c.downstream)}\n`);
  if (c.sendErrors > 0) io.stderr.write(`send errors: ${c.sendErrors}\n`);
  return ExitCode.OK;
}

/** `sockit impair`. */
export const impairCommand: Command = {
  name: 'impair',
  summary: 'relay UDP with loss, delay, jitter, reordering, duplication, corruption, rate limits',
  help: HELP,
  run,
};
