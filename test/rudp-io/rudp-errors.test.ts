// How engine errors reach a Node program: sockit error classes with context in the message and the
// errno code net.Socket would have used as `cause.code`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, NetCodes, SockitError, TimeoutError } from '../../src/errors.js';
import { nodeCodeOf, refusedByIcmp, toSocketError } from '../../src/io/rudp-errors.js';

test('a reset keeps its class, code and reason, gains the address, and carries ECONNRESET', () => {
  const engine = new ConnectionError(NetCodes.CONNECTION_RESET, 'reset', 'connection reset by peer (RST in ESTABLISHED)');
  const err = toSocketError(engine, 'rudp connection to 127.0.0.1:9000', 'read');
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.reason, 'reset');
  assert.equal(err.code, NetCodes.CONNECTION_RESET);
  assert.equal(err.message, 'rudp connection to 127.0.0.1:9000: connection reset by peer (RST in ESTABLISHED)');
  const cause = err.cause as NodeJS.ErrnoException;
  assert.equal(cause.code, 'ECONNRESET');
  assert.equal(cause.syscall, 'read');
  assert.equal(cause.cause, engine);
});

test('timeouts map to ETIMEDOUT and keep their phase and limit', () => {
  const err = toSocketError(new TimeoutError('connect', 300, 'no SYN+ACK within 300 ms'), 'rudp connection to [::1]:7', 'connect');
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.phase, 'connect');
  assert.equal(err.timeoutMs, 300);
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'ETIMEDOUT');
});

test('refused, closed and aborted have their net codes; other sockit errors pass with no errno', () => {
  assert.equal(nodeCodeOf(new ConnectionError(NetCodes.CONNECTION_REFUSED, 'refused', 'x')), 'ECONNREFUSED');
  assert.equal(nodeCodeOf(new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'x')), 'EPIPE');
  assert.equal(nodeCodeOf(new ConnectionError(NetCodes.CONNECTION_ABORTED, 'aborted', 'x')), 'ECONNABORTED');
  const other = new SockitError(NetCodes.INVALID_STATE, 'misuse');
  assert.equal(nodeCodeOf(other), undefined);
  assert.equal(toSocketError(other, 'here', 'read').cause, other);
});

test('an ICMP port-unreachable becomes a refused connection', () => {
  const err = refusedByIcmp(Object.assign(new Error('recvmsg ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  assert.equal(err.reason, 'refused');
  assert.equal(err.code, NetCodes.CONNECTION_REFUSED);
  // The socket names the peer once: "rudp connection to 127.0.0.1:1: connection refused (...)".
  assert.equal(toSocketError(err, 'rudp connection to 127.0.0.1:1', 'connect').message, 'rudp connection to 127.0.0.1:1: connection refused (nothing listens on that UDP port)');
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});
