/**
 * The Internet checksum of a RUDP segment, over a pseudo-header of our own.
 *
 * Read first: RFC 1071 (computing the Internet checksum), RFC 9293 §3.1 ("Checksum" and the
 * pseudo-header).
 *
 * TCP's pseudo-header holds the IP addresses, the protocol number and the TCP length. A RUDP segment
 * rides in a UDP datagram whose addresses the UDP checksum already covers (and a NAT may rewrite), so
 * sockit's pseudo-header keeps only the last two fields, exactly as TCP lays them out:
 *
 * ```
 *  0      7 8     15 16                    31
 * +--------+--------+------------------------+
 * |  zero  |  PTCL  |     segment length     |   PTCL = 6 (TCP), length = header + payload bytes
 * +--------+--------+------------------------+
 * ```
 *
 * The checksum is the 16-bit one's complement of the one's complement sum of that pseudo-header and
 * the whole segment, with the checksum field taken as zero (RFC 9293 §3.1).
 */

/** The protocol number in the pseudo-header: TCP's (RFC 9293 §3.1). */
export const PSEUDO_HEADER_PROTOCOL = 6;

// True on little-endian hosts, where typed arrays read big-endian words byte-swapped.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Below this many bytes the plain byte loop is as fast as a word view. */
const WORD_VIEW_MIN_BYTES = 64;

// The 32-bit view of the last buffer summed: outgoing datagrams are carved from one slab, so one
// view serves a couple of hundred of them instead of one allocation each.
let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordsOf(bytes: Uint8Array): Uint32Array<ArrayBufferLike> {
  // A buffer that grew (resizable) or was detached since gets a fresh view.
  if (bytes.buffer !== lastBuffer || (bytes.byteOffset + bytes.length) >>> 2 > lastWords.length) {
    lastBuffer = bytes.buffer;
    lastWords = new Uint32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
  }
  return lastWords;
}

function sumWords(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  let sum = 0;
  if (n >= WORD_VIEW_MIN_BYTES && (bytes.byteOffset & 3) === 0) {
    // RFC 1071 §2(B, C): the one's complement sum does not depend on byte order and may be taken
    // over wider native words and folded; swap the folded result back on little-endian hosts.
    // A JS number holds the sum of 2^21 32-bit words exactly.
    const words = wordsOf(bytes);
    const first = bytes.byteOffset >>> 2;
    const count = first + (n >>> 2);
    // Four independent sums let the CPU overlap the additions (~1.5× faster than one chain).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = first;
    for (; k + 4 <= count; k += 4) {
      s0 += words[k]!;
      s1 += words[k + 1]!;
      s2 += words[k + 2]!;
      s3 += words[k + 3]!;
    }
    for (; k < count; k++) s0 += words[k]!;
    const s = fold(s0 + s1 + s2 + s3);
    sum = LITTLE_ENDIAN ? ((s & 0xff) << 8) | (s >>> 8) : s;
    i = n & ~3;
  }
  const even = n & ~1;
  for (; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
  if (n !== even) sum += bytes[n - 1]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for `segment` (whose checksum field must hold zero while computing). */
export function segmentChecksum(segment: Uint8Array): number {
  const sum = PSEUDO_HEADER_PROTOCOL + segment.length + sumWords(segment);
  return ~fold(sum) & 0xffff;
}

/** True when the checksum field of `segment` is right (the sum over everything folds to 0xffff). */
export function isChecksumValid(segment: Uint8Array): boolean {
  return fold(PSEUDO_HEADER_PROTOCOL + segment.length + sumWords(segment)) === 0xffff;
}
