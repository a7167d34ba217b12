/**
 * `sockit connect HOST PORT`: the client end of nc.
 *
 * TCP (or RUDP with `--rudp`): stdin goes to the peer and the peer to stdout; at stdin EOF we
 * half-close and keep printing until the peer closes, then exit 0. UDP: each stdin line is one
 * datagram (`--framing raw`: each chunk as read), replies are printed as they come, and after stdin
 * ends we wait `--timeout` ms (default 2000) of quiet for more, then exit 0.
 */
import { lookup } from 'node:dns/promises';
import { UsageError } from '../errors.js';
import { fromNodeError } from '../io/node-errors.js';
import { connectTcp } from '../tcp/connect-tcp.js';
import { UdpEndpoint } from '../udp/udp-endpoint.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import {
  MESSAGE_CLI_HELP, MESSAGE_CLI_OPTIONS, messageSettings, parseCommandLine, parseHost, parseMilliseconds, parsePort, stringOption,
  type MessageSettings,
} from './cli-options.js';
import { datagramForTerminal, datagramUnit } from './datagram-output.js';
import { CLI_UDP_RECV_BUFFER_BYTES, sendInputDatagrams } from './datagram-input.js';
import { inputMessages } from './input-messages.js';
import { InputReader } from './input-reader.js';
import { OutputWriter } from './output-writer.js';
import { runStreamSession } from './stream-session.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';

/** How long `connect --udp` waits for replies after stdin ends, unless `--timeout` says otherwise. */
export const DEFAULT_UDP_LINGER_MS = 2000;

const OPTIONS = {
  udp: { type: 'boolean', short: 'u' },
  broadcast: { type: 'boolean', short: 'b' },
  timeout: { type: 'string', short: 'w' },
  ...MESSAGE_CLI_OPTIONS,
  ...TRANSPORT_CLI_OPTIONS,
} as const;

const HELP = `usage: sockit connect HOST PORT [options]

Connects to HOST:PORT like nc: stdin goes to the peer, the peer's bytes go to stdout.
Over TCP, end of stdin half-closes the connection (the peer may still answer) and sockit exits
once the peer closes too. Over UDP each stdin line is one datagram; replies are printed as
they arrive, and after stdin ends sockit waits --timeout ms of quiet for more, then exits.

options:
  --udp, -u           use UDP datagrams instead of a TCP stream
  --broadcast, -b     --udp: allow sending to a broadcast address (SO_BROADCAST), as nc -b
  --timeout MS, -w    TCP: give up connecting after MS ms (default: the kernel's own limit);
                      UDP: after stdin ends, wait MS ms of quiet for replies before exiting
                      (default ${DEFAULT_UDP_LINGER_MS})
${MESSAGE_CLI_HELP}
${TRANSPORT_CLI_HELP}
  --help, -h          show this help

examples:
  echo hello | sockit connect 127.0.0.1 9000
  sockit connect 127.0.0.1 9000 --framing len32le            # one stdin line = one message
  printf 'hello\\n' | sockit connect --udp 127.0.0.1 9000 --timeout 500
  echo hi | sockit connect --udp --broadcast 127.255.255.255 9000   # every listener on the subnet
  sockit connect 127.0.0.1 7788 --encoding gbk               # talk to the seed 003 GBK programs

exit status: 0 when the exchange completed, 1 on a network failure (refused, unknown host,
timeout, reset, oversized frame), 2 on a usage error.
`;

/** The `sockit connect` command. */
export const connectCommand: Command = {
  name: 'connect',
  summary: 'connect to a TCP or UDP server: stdin to the peer, the peer to stdout (like nc)',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseCommandLine('connect', argv, OPTIONS);
    const [hostText, portText, ...extra] = parsed.positionals;
    if (hostText === undefined) throw new UsageError('connect: missing HOST and PORT');
    const host = parseHost(hostText, 'connect: HOST');
    if (portText === undefined) throw new UsageError('connect: missing PORT');
    const port = parsePort(portText, 'connect: PORT', false);
    if (extra.length > 0) throw new UsageError(`connect: unexpected argument '${extra[0]}'`);
    const udp = parsed.values.udp === true;
    const timeoutText = stringOption(parsed, 'timeout');
    const timeoutMs = timeoutText === undefined ? undefined : parseMilliseconds(timeoutText, '--timeout');
    if (parsed.values.trace && !parsed.values.rudp) throw new UsageError('connect: --trace needs --rudp');
    if (udp) {
      if (parsed.values.rudp) throw new UsageError('connect: --udp and --rudp exclude each other (--rudp already runs over UDP)');
      const settings = messageSettings(parsed, 'lines');
      if (settings.framing !== 'raw' && settings.framing !== 'lines') {
        throw new UsageError(`connect: over --udp each datagram is one message; --framing may be raw or lines, not ${settings.framing}`);
      }
      return connectUdp(host, port, settings, timeoutMs ?? DEFAULT_UDP_LINGER_MS, parsed.values.broadcast === true, io);
    }
    if (parsed.values.broadcast) throw new UsageError('connect: --broadcast needs --udp');
    const settings = messageSettings(parsed, 'raw');
    const transport = await transportFor(parsed.values, stderrLine(io));
    const conn = await connectTcp({
      transport,
      host,
      port,
      framing: settings.framing,
      maxFrameBytes: settings.maxFrameBytes,
      encoding: settings.encoding,
      ...(timeoutMs !== undefined && timeoutMs > 0 ? { timeoutMs } : {}),
    });
    const input = new InputReader(io.stdin);
    try {
      // A person at a terminal is done when the server is (like the seeds' input() clients); a
      // pipe keeps flowing to a peer that only half-closed, as nc does.
      await runStreamSession(conn, input, new OutputWriter(io.stdout), { ...settings, endWithPeer: io.stdin.isTTY === true, warn: stderrLine(io) });
    } finally {
      input.close();
    }
    return ExitCode.OK;
  },
};

/** Resolves `host` to the first address the resolver gives, mapping lookup failures to sockit errors. */
async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  try {
    const { address, family } = await lookup(host);
    return { address, family: family === 6 ? 6 : 4 };
  } catch (err) {
    throw fromNodeError(err, `look up ${host}`);
  }
}

async function connectUdp(host: string, port: number, settings: MessageSettings, lingerMs: number, broadcast: boolean, io: CliIo): Promise<number> {
  const target = await resolveHost(host);
  const endpoint = await UdpEndpoint.bind({ port: 0, type: target.family === 6 ? 'udp6' : 'udp4', recvBufferSize: CLI_UDP_RECV_BUFFER_BYTES });
  if (broadcast) endpoint.setBroadcast(true);
  const unit = datagramUnit(settings.framing);
  const output = new OutputWriter(io.stdout);
  const input = new InputReader(io.stdin);
  let quietTimer: NodeJS.Timeout | undefined;
  let inputDone = false;
  // After stdin ends, every reply restarts the wait: we leave after lingerMs of silence.
  const armQuietTimer = (): void => {
    if (!inputDone) return;
    if (quietTimer) clearTimeout(quietTimer);
    quietTimer = setTimeout(() => void endpoint.close(), lingerMs);
  };
  const receiving = (async () => {
    for await (const { message, rinfo } of endpoint) {
      // Unicast: only the peer is heard, as on nc -u's connected socket; anyone else who learns our
      // port cannot put lines on our stdout. A broadcast's replies come from every listener.
      if (!broadcast && (rinfo.address !== target.address || rinfo.port !== port)) continue;
      await output.write(datagramForTerminal(message, unit, settings.encoding));
      armQuietTimer();
    }
  })();
  // stdout failing (the reader went away) ends the exchange; the error surfaces from `await receiving`.
  receiving.catch(() => void endpoint.close());
  try {
    const messages = inputMessages(input, { unit, encoding: settings.encoding, maxFrameBytes: settings.maxFrameBytes, warn: stderrLine(io) });
    await sendInputDatagrams(endpoint, messages, unit, () => ({ port, address: target.address }));
    inputDone = true;
    armQuietTimer();
    await receiving;
  } finally {
    if (quietTimer) clearTimeout(quietTimer);
    input.close();
    await endpoint.close();
  }
  return ExitCode.OK;
}
