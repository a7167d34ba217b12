/**
 * Framing: how a byte stream is cut into messages (the seeds' "sticky packet" fix), by name.
 *
 * Six codecs: `raw` (no framing), `lines` (LF, CRLF tolerated), `len32` (uint32 BE), `len32le`
 * (int32 LE, Python's `struct.pack('i', n)`), `len16` (uint16 BE) and `varint` (unsigned LEB128).
 * Every decoder takes a required `maxFrameBytes`; {@link DEFAULT_MAX_FRAME_BYTES} is the usual one.
 */
import { FRAMING_NAMES, isFramingName, type Framing, type FramingName } from './types.js';
import { unknownFraming } from './framing-errors.js';
import { raw } from './raw.js';
import { lines } from './lines.js';
import { len32 } from './len32.js';
import { len32le } from './len32le.js';
import { len16 } from './len16.js';
import { varint } from './varint.js';

export { raw, lines, len32, len32le, len16, varint };
export { FRAMING_NAMES, DEFAULT_MAX_FRAME_BYTES, isFramingName } from './types.js';
export type { DecoderOptions, FrameDecoder, Framing, FramingName } from './types.js';

const FRAMINGS: Readonly<Record<FramingName, Framing>> = { raw, lines, len32, len32le, len16, varint };

/** The framing called `name`. Throws SockitError ERR_SOCKIT_UNKNOWN_FRAMING for other names. */
export function getFraming(name: FramingName): Framing {
  if (!isFramingName(name)) throw unknownFraming(String(name), FRAMING_NAMES);
  return FRAMINGS[name];
}
