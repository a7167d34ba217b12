// fromNodeError: every system error a socket can raise becomes a sockit error with a stable code.
// Permission and unreachable cases cannot be produced on loopback as root, so this checks the
// mapping with error objects shaped exactly as Node raises them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromNodeError, formatHostPort, formatPeer } from '../../src/io/node-errors.js';
import { ConnectionError, SockitError, TimeoutError } from '../../src/errors.js';

function systemError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno: -1 });
}

const CASES: Array<[string, string, string]> = [
  ['ECONNREFUSED', 'ERR_SOCKIT_CONNECTION_REFUSED', 'refused'],
  ['ECONNRESET', 'ERR_SOCKIT_CONNECTION_RESET', 'reset'],
  ['EPIPE', 'ERR_SOCKIT_CONNECTION_CLOSED', 'closed'],
  ['EHOSTUNREACH', 'ERR_SOCKIT_HOST_UNREACHABLE', 'unreachable'],
  ['ENETUNREACH', 'ERR_SOCKIT_HOST_UNREACHABLE', 'unreachable'],
  ['ENOTFOUND', 'ERR_SOCKIT_UNKNOWN_HOST', 'unknown-host'],
  ['EADDRINUSE', 'ERR_SOCKIT_ADDRESS_IN_USE', 'address-in-use'],
  ['EADDRNOTAVAIL', 'ERR_SOCKIT_ADDRESS_NOT_AVAILABLE', 'address-not-available'],
  ['EACCES', 'ERR_SOCKIT_PERMISSION_DENIED', 'permission-denied'],
  ['EPERM', 'ERR_SOCKIT_PERMISSION_DENIED', 'permission-denied'],
];

for (const [nodeCode, code, reason] of CASES) {
  test(`${nodeCode} becomes ${code}`, () => {
    const cause = systemError(nodeCode, 'connect');
    const err = fromNodeError(cause, 'connect to 192.0.2.1:80');
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, code);
    assert.equal(err.reason, reason);
    assert.equal(err.cause, cause);
    assert.match(err.message, /^connect to 192\.0\.2\.1:80: /);
  });
}

test('ETIMEDOUT becomes a TimeoutError; sockit errors pass through unchanged', () => {
  assert.ok(fromNodeError(systemError('ETIMEDOUT', 'connect'), 'x') instanceof TimeoutError);
  const own = new SockitError('ERR_SOCKIT_FRAME_TOO_LARGE', 'too big');
  assert.equal(fromNodeError(own, 'x'), own);
});

test('formatHostPort brackets IPv6 literals', () => {
  assert.equal(formatHostPort('::1', 80), '[::1]:80');
  assert.equal(formatHostPort('127.0.0.1', 80), '127.0.0.1:80');
});

test('formatPeer names a peer whose address is gone (reset before Node asked) instead of printing ?:0', () => {
  assert.equal(formatPeer('::1', 80), '[::1]:80');
  assert.equal(formatPeer(undefined, undefined), 'unknown peer');
});
