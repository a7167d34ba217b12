/**
 * `sockit chat`: the terminal chat client, for a chat server (`sockit chat HOST PORT`, over TCP or
 * `--rudp`) or for serverless LAN chat over UDP multicast (`sockit chat --lan`).
 */
import { UsageError } from '../errors.js';
import { formatHostPort } from '../io/node-errors.js';
import { runChatClient } from '../chat/chat-client.js';
import { ChatTerminal } from '../chat/chat-terminal.js';
import { LanChatNode } from '../chat/lan-chat.js';
import { lanPrompt, runLanChatSession } from '../chat/lan-chat-session.js';
import { DEFAULT_LAN_GROUP } from '../chat/protocol/lan-message.js';
import { nickProblem, normalizeRoomName, roomProblem } from '../chat/protocol/names.js';
import { ExitCode, type CliIo, type Command } from './command.js';
import { parseCommandLine, parseEncoding, parseHost, parseMilliseconds, parsePort, stringOption } from './cli-options.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';

const OPTIONS = {
  nick: { type: 'string', short: 'n' },
  lan: { type: 'boolean' },
  group: { type: 'string' },
  room: { type: 'string' },
  iface: { type: 'string' },
  broadcast: { type: 'string' },
  timestamps: { type: 'boolean' },
  timeout: { type: 'string', short: 'w' },
  encoding: { type: 'string' },
  ...TRANSPORT_CLI_OPTIONS,
} as const;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const HELP = `usage: sockit chat HOST PORT [--nick NAME] [--encoding utf8|gbk] [--rudp]
       sockit chat --lan [--nick NAME] [--group ADDR:PORT] [--room NAME] [--iface ADDR]

Chats with a 'sockit listen PORT --service chat' server, or, with --lan, with every other
'sockit chat --lan' on the local network over UDP multicast, with no server at all.

Type a line to say it; /help lists commands (/nick /join /part /rooms /who /msg /me /quit).
On a terminal the line you type stays intact while messages arrive, with timestamps. With
stdin not a terminal, lines are read from stdin and printed to stdout (scriptable): with
--nick they wait until the server accepts the nick, and a taken nick fails (exit 1); at the
end of stdin the client says /quit and exits once the server closes.

options:
  --nick NAME, -n     your nick (otherwise the server asks; --lan: default 'guest' + random digits)
  --timeout MS, -w    give up connecting after MS ms (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --timestamps        prefix lines with the time even when stdout is not a terminal
  --encoding E        charset the server speaks: utf8 (default) or gbk, for a server started
                      with --encoding gbk (your terminal stays UTF-8)
${TRANSPORT_CLI_HELP}
  --lan               serverless LAN chat over UDP multicast
  --group ADDR:PORT   --lan: multicast group (default ${DEFAULT_LAN_GROUP.address}:${DEFAULT_LAN_GROUP.port})
  --room NAME         --lan: room to start in (default #lobby)
  --iface ADDR        --lan: interface address to use (127.0.0.1 keeps it on this machine)
  --broadcast ADDR    --lan: use broadcast to ADDR instead of multicast (e.g. 255.255.255.255)
  --help, -h          show this help

examples:
  sockit listen 7000 --service chat          # in one terminal
  sockit chat 127.0.0.1 7000 --nick alice    # in two others
  nc 127.0.0.1 7000                          # plain nc works too
  sockit chat --lan --nick bob --iface 127.0.0.1

exit status: 0 after /quit or end of input, 1 when the connection failed, the server went
away or (stdin not a terminal) refused --nick, 2 on a usage error.
`;

function parseGroup(text: string): { address: string; port: number } {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) throw new UsageError(`--group must be ADDR:PORT such as ${DEFAULT_LAN_GROUP.address}:${DEFAULT_LAN_GROUP.port}, not '${text}'`);
  const address = text.slice(0, colon);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new UsageError(`--group address must be an IPv4 multicast address such as ${DEFAULT_LAN_GROUP.address}, not '${address}'`);
  return { address, port: parsePort(text.slice(colon + 1), '--group PORT', false) };
}

function checkedNick(nick: string | undefined): string | undefined {
  if (nick === undefined) return undefined;
  const problem = nickProblem(nick);
  if (problem) throw new UsageError(`--nick '${nick}': ${problem}`);
  return nick;
}

/** The `sockit chat` command. */
export const chatCommand: Command = {
  name: 'chat',
  summary: 'chat with a sockit chat server, or serverless over UDP multicast on the LAN (--lan)',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseCommandLine('chat', argv, OPTIONS);
    const nick = checkedNick(stringOption(parsed, 'nick'));
    const timestamps = parsed.values.timestamps === true ? true : undefined;
    if (parsed.values.trace && !parsed.values.rudp) throw new UsageError('chat: --trace needs --rudp');
    if (parsed.values.lan) {
      if (parsed.positionals.length > 0) throw new UsageError('chat: --lan needs no HOST PORT (there is no server)');
      if (parsed.values.rudp) throw new UsageError('chat: --lan and --rudp exclude each other');
      if (parsed.values.encoding !== undefined) throw new UsageError('chat: --encoding is for a chat server; LAN chat is always UTF-8');
      const groupText = stringOption(parsed, 'group');
      const group = groupText === undefined ? DEFAULT_LAN_GROUP : parseGroup(groupText);
      const room = normalizeRoomName(stringOption(parsed, 'room') ?? '#lobby');
      const problem = roomProblem(room);
      if (problem) throw new UsageError(`--room '${room}': ${problem}`);
      const iface = stringOption(parsed, 'iface');
      const broadcastAddress = stringOption(parsed, 'broadcast');
      const node = await LanChatNode.start({
        nick: nick ?? `guest${Math.floor(Math.random() * 9000) + 1000}`,
        room,
        group,
        ...(iface !== undefined ? { iface } : {}),
        ...(broadcastAddress !== undefined ? { broadcastAddress } : {}),
      });
      const terminal = new ChatTerminal(io, { prompt: lanPrompt(room), ...(timestamps ? { timestamps } : {}) });
      terminal.print(`* LAN chat on ${node.mode} ${formatHostPort(node.destination.address, node.destination.port)} as ${node.nick} in ${room}; /help lists commands`);
      await runLanChatSession(node, terminal);
      return ExitCode.OK;
    }
    for (const lanOnly of ['group', 'room', 'iface', 'broadcast'] as const) {
      if (parsed.values[lanOnly] !== undefined) throw new UsageError(`chat: --${lanOnly} is for --lan chat`);
    }
    const [hostText, portText, ...extra] = parsed.positionals;
    if (hostText === undefined) throw new UsageError('chat: missing HOST and PORT (or --lan)');
    const host = parseHost(hostText, 'chat: HOST');
    const port = parsePort(portText, 'PORT', false);
    if (extra.length > 0) throw new UsageError(`chat: unexpected argument '${extra[0]}'`);
    const timeoutText = stringOption(parsed, 'timeout');
    const timeoutMs = timeoutText === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseMilliseconds(timeoutText, '--timeout');
    const encoding = parseEncoding(stringOption(parsed, 'encoding'));
    const transport = await transportFor(parsed.values, (line) => void io.stderr.write(line + '\n'));
    const socket = await transport.connect({ host, port, timeoutMs });
    const terminal = new ChatTerminal(io, { prompt: '> ', ...(timestamps ? { timestamps } : {}) });
    const end = await runChatClient(socket, terminal, { server: formatHostPort(host, port), encoding, ...(nick !== undefined ? { nick } : {}) });
    return end.kind === 'quit' ? ExitCode.OK : ExitCode.FAILURE;
  },
};
