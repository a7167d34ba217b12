/**
 * sockit — TCP and UDP done right. Public API (re-exports only; see docs/architecture.md).
 */

// Errors: one hierarchy, stable codes (docs/errors.md).
export * from './errors.js';

// Framing: the sticky-packet fix.
export {
  getFraming, isFramingName, DEFAULT_MAX_FRAME_BYTES, FRAMING_NAMES,
  raw, lines, len32, len32le, len16, varint,
  type Framing, type FrameDecoder, type DecoderOptions, type FramingName,
} from './framing/index.js';

// Transports: kernel TCP or RUDP under the same stream contract.
export type {
  StreamTransport, StreamTransportName, StreamSocket, StreamListener, ListenOptions, ConnectOptions, BoundAddress,
} from './io/stream-transport.js';
export { tcpTransport } from './io/tcp-transport.js';

// TCP: message connections and servers.
export {
  MessageConnection, DEFAULT_HIGH_WATER_MARK_BYTES, DEFAULT_READ_HIGH_WATER_MARK_BYTES, INBOX_MESSAGE_OVERHEAD_BYTES,
  type MessageConnectionOptions, type MessageConnectionEvents, type RequestOptions,
} from './tcp/message-connection.js';
export { listenTcp, MessageServer, DEFAULT_CLOSE_GRACE_MS, type ListenTcpOptions, type MessageServerEvents } from './tcp/message-server.js';
export { connectTcp, type ConnectTcpOptions } from './tcp/connect-tcp.js';

// UDP.
export {
  UdpEndpoint, MAX_UDP4_PAYLOAD_BYTES, MAX_UDP6_PAYLOAD_BYTES,
  type UdpBindOptions, type RemoteInfo, type ReceivedDatagram, type UdpEndpointEvents,
} from './udp/udp-endpoint.js';

// Services.
export { serveStream, serveDatagram, type RunningServer, type ServeStreamOptions, type ServeDatagramOptions } from './services/serve.js';
export type { Service, ServiceDefinition, CommonServiceOptions, DatagramPeer } from './services/types.js';
export { echoService } from './services/echo.js';
export { upperService } from './services/upper.js';
export { discardService } from './services/discard.js';
export { textCodec, TEXT_ENCODINGS, type TextCodec, type TextEncodingName } from './services/text-encoding.js';

// RUDP: TCP's mechanisms over UDP, as net-shaped streams.
export { createServer as createRudpServer, RudpServer, type RudpServerOptions } from './io/rudp-server.js';
export { connect as connectRudp, type RudpConnectOptions } from './io/rudp-connect.js';
export { RudpSocket } from './io/rudp-socket.js';
export { createRudpTransport, type RudpTransportOptions } from './io/rudp-transport.js';
export {
  newReno, cubic, getCongestionController, isCongestionControllerName,
} from './rudp/congestion/index.js';
export type { CongestionController, CongestionControllerConfig } from './rudp/congestion/congestion-controller.js';

// Seeded randomness for simulations.
export { createRng, type Rng } from './core/rng.js';

// File transfer: the seeds' classic protocol and the sockit protocol (docs/files.md).
export { putFiles, getFiles, listFiles, type FilesClientOptions } from './transfer/files-client.js';
export { startFilesServer, serveFilesConnection, type FilesServer, type FilesServerOptions, type FilesProtocol } from './transfer/files-server.js';
export { sendClassic, receiveClassic, type SendClassicOptions, type ReceiveClassicOptions } from './transfer/classic.js';
export type { TransferEvent, FileResult, TransferSummary } from './transfer/transfer-events.js';
export { safeSegments, isSafeRelativePath } from './transfer/protocol/safe-path.js';
export { filesService } from './services/files.js';

// Chat: TCP server and client, LAN chat over UDP multicast (docs/chat.md).
export { listenChat, ChatServer, DEFAULT_MAX_SEND_QUEUE_BYTES, type ChatServerOptions, type ListenChatOptions, type RunningChatServer } from './chat/chat-server.js';
export { runChatClient } from './chat/chat-client.js';
export { ChatTerminal } from './chat/chat-terminal.js';
export { ChatHub, DEFAULT_CHAT_HUB_OPTIONS, type ChatSink, type ChatHubOptions } from './chat/protocol/chat-hub.js';
export { LanChatNode, type LanChatOptions } from './chat/lan-chat.js';
export { LanChatState, type LanEvent } from './chat/protocol/lan-chat-state.js';
export { encodeLanMessage, decodeLanMessage, DEFAULT_LAN_GROUP } from './chat/protocol/lan-message.js';
export { LineSplitter } from './chat/protocol/line-splitter.js';
export { MAX_LINE_BYTES } from './chat/protocol/chat-text.js';
export { TokenBucket } from './chat/protocol/token-bucket.js';
export { chatService } from './services/chat.js';

// The RUDP engine itself (sans-IO): drive it with your own loop, or the simulator.
export { RudpEndpoint, type RudpConfig, type EndpointEvent, type EndpointCounters } from './rudp/endpoint.js';
export { RudpConnection, RudpState, type ConnectionEvent, type RudpStateName, type ConnectionCounters } from './rudp/connection.js';
export { formatTraceEvent, type TraceEvent } from './rudp/trace.js';
export { decodeSegment, encodeSegment, encodedLength } from './rudp/wire/segment-codec.js';
export { Flags, type Segment } from './rudp/wire/segment.js';

// The deterministic network simulator and the real-UDP impairment proxy (sockit impair).
export { Simulator, linkSeed, formatAddress, type SimulatorOptions, type SimEvent } from './sim/simulator.js';
export {
  ImpairedLink, validateImpairments, formatLinkCounters, emptyCounters, DROP_CAUSES, DEFAULT_QUEUE_BYTES, DEFAULT_REORDER_HOLD_MS,
  type LinkImpairments, type GilbertElliott, type DropCause, type LinkCounters, type Delivery, type Verdict,
} from './sim/impairments.js';
export { EventQueue } from './sim/event-queue.js';
export { ImpairProxy, type ImpairProxyOptions, type ImpairCounters } from './io/impair-proxy.js';
