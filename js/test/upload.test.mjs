// The picker's side of the chunk protocol (the kernel's side is tests/widget/), driven by a
// model that records what would go over the websocket.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { ChunkSender, fileSha256 } from '../src/widget/upload.js';

const KiB = 1024;

function fakeFile(size, name = 'walk.mp4') {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + 7) % 251;
  const blob = new Blob([bytes]);
  return { name, size, slice: (start, end) => blob.slice(start, end), bytes };
}

function recordingModel() {
  const sent = [];
  return { sent, send: (content, callbacks, buffers) => sent.push({ content, buffers }) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test('the hash is the SHA-256 of the whole file, read in slices', async () => {
  const file = fakeFile(300 * KiB);
  const expected = createHash('sha256').update(file.bytes).digest('hex');
  assert.equal(await fileSha256(file, 64 * KiB), expected);
});

test('chunks go in order, each at its offset, never more than maxInFlight unacknowledged', async () => {
  const file = fakeFile(200 * KiB + 5);
  const model = recordingModel();
  let ended = 'not yet';
  const sender = new ChunkSender(model, file, { chunkBytes: 64 * KiB, maxInFlight: 2, onEnd: (m) => { ended = m; } });
  await sender.start();
  const [start] = model.sent;
  assert.equal(start.content.type, 'upload_start');
  assert.equal(start.content.size, file.size);
  assert.equal(start.content.sha256, createHash('sha256').update(file.bytes).digest('hex'));

  sender.handle({ type: 'ready', id: sender.id });
  await settle();
  const chunks = () => model.sent.filter((m) => m.content.type === 'chunk');
  assert.deepEqual(chunks().map((m) => m.content.offset), [0, 64 * KiB]); // two in flight, no more
  let received = 0;
  while (!model.sent.some((m) => m.content.type === 'upload_end')) {
    received += chunks()[chunks().length - 1 - (sender.inFlight - 1)].buffers[0].byteLength;
    sender.handle({ type: 'ack', id: sender.id, received });
    await settle();
  }
  const all = chunks();
  assert.deepEqual(all.map((m) => m.content.index), [0, 1, 2, 3]);
  assert.deepEqual(all.map((m) => m.content.offset), [0, 64 * KiB, 128 * KiB, 192 * KiB]);
  const joined = Buffer.concat(all.map((m) => Buffer.from(m.buffers[0])));
  assert.ok(joined.equals(Buffer.from(file.bytes)));
  assert.equal(ended, 'not yet'); // done only when the kernel says it has the file
  sender.handle({ type: 'received', id: sender.id });
  assert.equal(ended, null);
});

test('a file the kernel already knows ends without a chunk', async () => {
  const model = recordingModel();
  let ended = 'not yet';
  const sender = new ChunkSender(model, fakeFile(10 * KiB), { chunkBytes: 64 * KiB, maxInFlight: 3, onEnd: (m) => { ended = m; } });
  await sender.start();
  sender.handle({ type: 'known', id: sender.id });
  assert.equal(ended, null);
  assert.deepEqual(model.sent.map((m) => m.content.type), ['upload_start']);
});

test("another upload's messages are ignored; the kernel's refusal ends this one with its words", async () => {
  const model = recordingModel();
  let ended = 'not yet';
  const sender = new ChunkSender(model, fakeFile(10 * KiB), { chunkBytes: 64 * KiB, maxInFlight: 3, onEnd: (m) => { ended = m; } });
  await sender.start();
  sender.handle({ type: 'ready', id: 'someone-else' });
  await settle();
  assert.equal(model.sent.length, 1);
  sender.handle({ type: 'abort', id: sender.id, message: 'notes.mp4 is over the 100 MiB cap.' });
  assert.equal(ended, 'notes.mp4 is over the 100 MiB cap.');
});

test('cancel tells the kernel and sends nothing more', async () => {
  const model = recordingModel();
  let ended = 'not yet';
  const sender = new ChunkSender(model, fakeFile(300 * KiB), { chunkBytes: 64 * KiB, maxInFlight: 1, onEnd: (m) => { ended = m; } });
  await sender.start();
  sender.handle({ type: 'ready', id: sender.id });
  sender.cancel();
  await settle();
  sender.handle({ type: 'ack', id: sender.id, received: 64 * KiB });
  await settle();
  assert.equal(ended, 'Cancelled.');
  assert.ok(model.sent.some((m) => m.content.type === 'cancel'));
  assert.equal(model.sent.filter((m) => m.content.type === 'chunk').length, 0);
});
