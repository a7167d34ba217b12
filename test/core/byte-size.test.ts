import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseByteSize } from '../../src/core/byte-size.js';

test('sizes people type: plain bytes, binary suffixes in any case, optional B or iB', () => {
  assert.equal(parseByteSize('65536'), 65536);
  assert.equal(parseByteSize('64k'), 64 * 1024);
  assert.equal(parseByteSize('16M'), 16 * 1024 ** 2);
  assert.equal(parseByteSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('1t'), 1024 ** 4);
  assert.equal(parseByteSize('512KiB'), 512 * 1024);
  assert.equal(parseByteSize(' 100 mb '), 100 * 1024 ** 2);
  assert.equal(parseByteSize('0'), 0);
});

test('anything else is not a size', () => {
  for (const text of ['', 'k', '-1', '1.5M', '10x', '0x10', '1e6', '99999999999T']) {
    assert.equal(parseByteSize(text), undefined, text);
  }
});
