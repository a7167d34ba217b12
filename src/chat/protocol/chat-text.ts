/**
 * Chat text rules: line length, UTF-8 validation and control-character escaping.
 *
 * Read first: RFC 2812 §2.3 (IRC messages: at most 512 bytes including CR LF), RFC 3629 (UTF-8,
 * what a valid sequence is), Unicode TR #9 (the bidirectional overrides that can make a line lie
 * about who wrote it).
 */

/**
 * Longest chat line a client may send, in bytes of text before the line terminator. RFC 2812 §2.3
 * allows 512 bytes including CR LF, i.e. 510 of text; sockit keeps IRC's habit.
 */
export const MAX_LINE_BYTES = 510;

/** The line terminator the chat server writes (RFC 2812 §2.3: CR LF, which telnet needs too). */
export const LINE_END = '\r\n';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes `bytes` as strict UTF-8; returns undefined for an invalid sequence (RFC 3629 §3). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

// C0 controls (tab included: it reads as a space of unknown width), DEL, C1 controls, and the
// bidirectional embedding/override/isolate characters of Unicode TR #9 §2.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text safe to print on someone else's terminal: control characters become visible escapes
 * (`\x1b`, `\u202e`), so an escape sequence or a bidi override sent by one user cannot repaint or
 * reorder another user's screen.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
