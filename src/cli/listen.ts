/**
 * `sockit listen PORT`: the server end of nc, or a service.
 *
 * With `--service NAME` it serves any number of clients until SIGINT/SIGTERM, then shuts down
 * gracefully and exits 0. Without, it is `nc -l`: one client's bytes go to stdout and stdin goes to
 * that client (`--keep-open`: one client after another, like `ncat -k`); over UDP received
 * datagrams are printed and stdin lines go to the last sender. Either way the readiness line
 * `listening on tcp|udp|rudp HOST:PORT` goes to stderr once traffic is accepted.
 */
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { formatHostPort } from '../io/node-errors.js';
import type { BoundAddress, StreamListener, StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { serveDatagram, serveStream, type RunningServer } from '../services/serve.js';
import { loadService, serviceNames } from '../services/registry.js';
import type { ServiceDefinition } from '../services/types.js';
import { MessageConnection } from '../tcp/message-connection.js';
import { UdpEndpoint, type RemoteInfo } from '../udp/udp-endpoint.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import {
  MESSAGE_CLI_HELP, MESSAGE_CLI_OPTIONS, messageSettings, parseCommandLine, parseHost, parsePort, stringOption,
  type MessageSettings, type ParsedCommandLine,
} from './cli-options.js';
import { datagramForTerminal, datagramUnit } from './datagram-output.js';
import { CLI_UDP_RECV_BUFFER_BYTES, sendInputDatagrams } from './datagram-input.js';
import { inputMessages } from './input-messages.js';
import { InputReader } from './input-reader.js';
import { OutputWriter } from './output-writer.js';
import { reportError } from './report-error.js';
import { catchStopSignals } from './stop-signal.js';
import { runStreamSession } from './stream-session.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';

const OPTIONS = {
  host: { type: 'string' },
  udp: { type: 'boolean', short: 'u' },
  service: { type: 'string' },
  'keep-open': { type: 'boolean', short: 'k' },
  ...MESSAGE_CLI_OPTIONS,
  ...TRANSPORT_CLI_OPTIONS,
} as const satisfies ParseArgsConfig['options'];

/** How a service loaded for the help text, or why it did not. */
type LoadedService = { name: string; definition: ServiceDefinition<any> } | { name: string; error: string };

// The help lists every registered service with its own options, so load them all up front (the
// registry loads lazily; `sockit listen` is the one command that needs them).
const SERVICES: LoadedService[] = await Promise.all(serviceNames().map(async (name): Promise<LoadedService> => {
  try {
    const definition = await loadService(name);
    return definition ? { name, definition } : { name, error: 'not found' };
  } catch (err) {
    return { name, error: (err as Error).message };
  }
}));

function servicesHelp(): string {
  if (SERVICES.length === 0) return '  (none registered)';
  const lines: string[] = [];
  for (const s of SERVICES) {
    if ('error' in s) {
      lines.push(`  ${s.name.padEnd(9)} (failed to load: ${s.error})`);
      continue;
    }
    const over = s.definition.transports.map((t) => (t === 'stream' ? 'tcp/rudp' : 'udp')).join(', ');
    lines.push(`  ${s.name.padEnd(9)} ${s.definition.summary} [${over}]`);
    if (s.definition.cliHelp) lines.push(s.definition.cliHelp.replace(/^/gm, '    '));
  }
  return lines.join('\n');
}

const HELP = `usage: sockit listen PORT [options]

Listens on PORT (0 picks a free port) and prints 'listening on tcp|udp|rudp HOST:PORT' on
stderr once it accepts traffic.

Without --service it is nc -l: the client's bytes go to stdout and stdin goes to the client;
end of stdin half-closes the connection; sockit exits when the client has closed too.
Over UDP it prints each datagram and sends stdin lines to the last sender.
With --service it serves any number of clients until Ctrl-C (SIGINT) or SIGTERM, then
finishes open connections and exits 0.

options:
  --host ADDR         address to bind (default: all, IPv4 and IPv6)
  --udp, -u           UDP datagrams instead of a TCP stream
  --service NAME      run a service instead of piping stdin/stdout (see below)
  --keep-open, -k     without --service: after a client leaves, serve the next (like ncat -k)
${MESSAGE_CLI_HELP}
${TRANSPORT_CLI_HELP}
  --help, -h          show this help

services:
${servicesHelp()}

examples:
  sockit listen 9000                                    # nc -l 9000
  sockit listen 0 --host 127.0.0.1 --service upper      # seed 002's uppercase server
  sockit listen 9000 --framing len32le --service echo   # seed 001's protocol 1, echoed
  sockit listen 9000 --udp --service echo               # a UDP echo server

exit status: 0 after a normal end or SIGINT/SIGTERM, 1 on a network failure (port in use,
permission denied, oversized frame, reset), 2 on a usage error.
`;

/** The `sockit listen` command. */
export const listenCommand: Command = {
  name: 'listen',
  summary: 'listen on a TCP or UDP port: nc -l, or serve echo/upper/discard/... to many clients',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const serviceName = findServiceName(argv);
    const definition = serviceName === undefined ? undefined : await loadService(serviceName);
    if (serviceName !== undefined && !definition) {
      throw new UsageError(`listen: unknown service '${serviceName}': use one of ${serviceNames().join(', ') || '(none registered)'}`);
    }
    const parsed = parseCommandLine('listen', argv, { ...definition?.cliOptions, ...OPTIONS });
    const [portText, ...extra] = parsed.positionals;
    if (portText === undefined) throw new UsageError('listen: missing PORT (0 picks a free one)');
    const port = parsePort(portText, 'listen: PORT', true);
    if (extra.length > 0) throw new UsageError(`listen: unexpected argument '${extra[0]}'`);
    const hostText = stringOption(parsed, 'host');
    const host = hostText === undefined ? undefined : parseHost(hostText, 'listen: --host');
    const udp = parsed.values.udp === true;
    if (udp && parsed.values.rudp) throw new UsageError('listen: --udp and --rudp exclude each other (--rudp already runs over UDP)');
    if (parsed.values.trace && !parsed.values.rudp) throw new UsageError('listen: --trace needs --rudp');
    if (definition && parsed.values['keep-open']) throw new UsageError('listen: --keep-open is for nc mode; a --service serves many clients already');
    const settings = messageSettings(parsed, udp && !definition ? 'lines' : 'raw');
    if (udp && !definition && settings.framing !== 'raw' && settings.framing !== 'lines') {
      throw new UsageError(`listen: over --udp each datagram is one message; --framing may be raw or lines, not ${settings.framing}`);
    }
    const log = (line: string): void => void io.stderr.write(line + '\n');

    if (definition) {
      const wanted = udp ? 'datagram' : 'stream';
      if (!definition.transports.includes(wanted)) {
        throw new UsageError(`listen: service '${definition.name}' does not run over ${udp ? 'UDP' : 'a stream'}${udp ? '' : ' (try --udp)'}`);
      }
      return runService(definition, parsed, { host, port, udp, settings }, io, log);
    }
    if (udp) return listenUdp(host, port, settings, io);
    const transport = await transportFor(parsed.values, log);
    return listenStream(transport, host, port, settings, parsed.values['keep-open'] === true, io);
  },
};

/** The value of `--service` in `argv`, read before parsing so the service's own options can join the parse. */
function findServiceName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (arg === '--service') return argv[i + 1];
    if (arg.startsWith('--service=')) return arg.slice('--service='.length);
  }
  return undefined;
}

function announce(io: CliIo, kind: string, address: BoundAddress): void {
  io.stderr.write(`listening on ${kind} ${formatHostPort(address.host, address.port)}\n`);
}

interface Where {
  host: string | undefined;
  port: number;
  udp: boolean;
  settings: MessageSettings;
}

async function runService(definition: ServiceDefinition<any>, parsed: ParsedCommandLine, where: Where, io: CliIo, log: (line: string) => void): Promise<number> {
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(definition.cliOptions ?? {})) {
    if (parsed.values[key] !== undefined) extra[key] = parsed.values[key];
  }
  const stop = catchStopSignals();
  try {
    const service = await definition.create({ ...where.settings, log }, extra);
    let server: RunningServer;
    const bind = where.host === undefined ? { port: where.port } : { host: where.host, port: where.port };
    let kind: string;
    try {
      if (where.udp) {
        server = await serveDatagram(service, { ...bind, recvBufferSize: CLI_UDP_RECV_BUFFER_BYTES });
        kind = 'udp';
      } else {
        const transport = await transportFor(parsed.values, log);
        server = await serveStream(service, { ...bind, transport });
        kind = transport.name;
      }
    } catch (err) {
      await service.close(0);
      throw err;
    }
    announce(io, kind, server.address);
    const signal = await stop.stopped;
    // A second Ctrl-C during the grace period ends the process the usual way.
    stop.dispose();
    log(`${definition.name}: ${signal}: closing (${server.connectionCount} open connection${server.connectionCount === 1 ? '' : 's'})`);
    await server.close();
    return ExitCode.OK;
  } finally {
    stop.dispose();
  }
}

/** nc -l over a stream transport: one session at a time with the accepted client(s). */
async function listenStream(transport: StreamTransport, host: string | undefined, port: number, settings: MessageSettings, keepOpen: boolean, io: CliIo): Promise<number> {
  const stop = catchStopSignals();
  let listener: StreamListener | undefined;
  const input = new InputReader(io.stdin);
  const output = new OutputWriter(io.stdout);
  let current: MessageConnection | undefined;
  try {
    listener = await transport.listen(host === undefined ? { port } : { host, port });
    const waiting: StreamSocket[] = [];
    let wake: (() => void) | undefined;
    listener.on('connection', (socket: StreamSocket) => {
      // Clients queue while another is served; one that gives up meanwhile must not crash us.
      socket.on('error', () => undefined);
      waiting.push(socket);
      wake?.();
    });
    listener.on('error', () => undefined);
    announce(io, transport.name, listener.address);
    let stopped = false;
    void stop.stopped.then(() => {
      stopped = true;
      current?.destroy();
      wake?.();
    });
    for (;;) {
      while (waiting.length === 0 && !stopped) await new Promise<void>((resolve) => { wake = resolve; });
      wake = undefined;
      const socket = waiting.shift();
      if (stopped || socket === undefined) break;
      // Plain nc -l serves one client: stop accepting so later ones are refused, not left hanging.
      if (!keepOpen) void listener.close();
      current = new MessageConnection(socket, { framing: settings.framing, maxFrameBytes: settings.maxFrameBytes, encoding: settings.encoding });
      try {
        await runStreamSession(current, input, output, { ...settings, endWithPeer: keepOpen || io.stdin.isTTY === true, warn: stderrLine(io) });
      } catch (err) {
        if (stopped) break;
        if (!keepOpen) throw err;
        // With --keep-open one client's failure is reported and the next one is served.
        reportError(err, io);
      }
      current = undefined;
      if (!keepOpen) break;
    }
    for (const socket of waiting) socket.destroy();
    return ExitCode.OK;
  } finally {
    stop.dispose();
    input.close();
    await listener?.close();
  }
}

/** nc -l -u: print datagrams; stdin lines go to whoever sent the last one. */
async function listenUdp(host: string | undefined, port: number, settings: MessageSettings, io: CliIo): Promise<number> {
  const stop = catchStopSignals();
  const endpoint = await UdpEndpoint.bind({ ...(host === undefined ? {} : { host }), port, recvBufferSize: CLI_UDP_RECV_BUFFER_BYTES }).catch((err: unknown) => {
    stop.dispose();
    throw err;
  });
  const unit = datagramUnit(settings.framing);
  const output = new OutputWriter(io.stdout);
  const input = new InputReader(io.stdin);
  const sendFailures: unknown[] = [];
  let lastSender: RemoteInfo | undefined;
  let firstSender: () => void = () => undefined;
  const someoneSent = new Promise<void>((resolve) => { firstSender = resolve; });
  announce(io, 'udp', endpoint.address);
  void stop.stopped.then(() => void endpoint.close());
  const replying = (async () => {
    // stdin is read only once someone is there to send it to (until then it waits in the pipe).
    await Promise.race([someoneSent, stop.stopped]);
    const messages = inputMessages(input, { unit, encoding: settings.encoding, maxFrameBytes: settings.maxFrameBytes, warn: stderrLine(io) });
    await sendInputDatagrams(endpoint, messages, unit, () => lastSender);
  })();
  replying.catch((err: unknown) => {
    sendFailures.push(err);
    void endpoint.close();
  });
  try {
    for await (const { message, rinfo } of endpoint) {
      lastSender = rinfo;
      firstSender();
      await output.write(datagramForTerminal(message, unit, settings.encoding));
    }
    if (sendFailures.length > 0) throw sendFailures[0];
    return ExitCode.OK;
  } finally {
    stop.dispose();
    input.close();
    await endpoint.close();
  }
}
