import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/lib/errors.js';
import { isRecordId, looseRecordId, MAX_RECORD_ID, pathDisplayId, recordId } from '../../src/lib/params.js';

test('recordId takes what can name a stored row and is 404 for the rest, before any query', () => {
  assert.equal(recordId('1'), 1);
  assert.equal(recordId(42), 42);
  assert.equal(recordId(String(MAX_RECORD_ID)), MAX_RECORD_ID);
  for (const raw of ['0', '-1', '1.5', 'abc', '', String(MAX_RECORD_ID + 1), '99999999999999999999999', 'NaN', 'Infinity', undefined, null]) {
    assert.throws(
      () => recordId(raw),
      (error: unknown) => error instanceof HttpError && error.statusCode === 404 && error.body.error === 'Resource could not be found',
      String(raw),
    );
  }
});

test('isRecordId bounds ids by the 32-bit id columns', () => {
  assert.equal(isRecordId(1), true);
  assert.equal(isRecordId(MAX_RECORD_ID), true);
  assert.equal(isRecordId(MAX_RECORD_ID + 1), false);
  assert.equal(isRecordId(0), false);
  assert.equal(isRecordId(Number.NaN), false);
  assert.equal(isRecordId(2.5), false);
});

test('pathDisplayId reads digits only; anything else finds nothing', () => {
  assert.equal(pathDisplayId('17'), 17);
  for (const raw of ['', '+1', ' 1', '1e3', '0x10', '1234567890123', 'abc']) assert.ok(Number.isNaN(pathDisplayId(raw)), raw);
});

test('looseRecordId is null for what finds nothing in a query or body, as find_by(id:) is nil', () => {
  assert.equal(looseRecordId('7'), 7);
  assert.equal(looseRecordId(7), 7);
  assert.equal(looseRecordId(MAX_RECORD_ID), MAX_RECORD_ID);
  for (const raw of [MAX_RECORD_ID + 1, String(MAX_RECORD_ID + 1), '99999999999999999999', 0, -3, 1.5, 'x', '', null, undefined]) {
    assert.equal(looseRecordId(raw), null, String(raw));
  }
});
