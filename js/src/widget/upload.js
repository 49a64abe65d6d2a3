// Sends one File to the kernel as binary chunks of custom messages.
//
// A default Jupyter server silently drops browser-to-kernel messages over 10 MiB, so the
// file travels in chunks of at most `chunkBytes` (8 MiB), each acknowledged by the kernel;
// at most `maxInFlight` are unacknowledged at once, which keeps the browser's memory and the
// kernel's queue small whatever the file's size. Chunks are read and sent strictly in order
// (the kernel appends them to a temp file and refuses a gap).
//
// Before any byte leaves, the file's SHA-256 is computed here and sent with `upload_start`:
// when the kernel's cache already has a job for that video on this server, it answers
// `known` and nothing is sent (re-picking a 150 MB video costs a second, not a transfer).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

// Hex SHA-256 of a File (or Blob), read in slices so a large video never sits in memory whole.
export async function fileSha256(file, sliceBytes = 8 * 1024 * 1024) {
  const digest = sha256.create();
  for (let start = 0; start < file.size; start += sliceBytes) {
    const buffer = await file.slice(start, Math.min(file.size, start + sliceBytes)).arrayBuffer();
    digest.update(new Uint8Array(buffer));
  }
  return bytesToHex(digest.digest());
}

export class ChunkSender {
  constructor(model, file, { chunkBytes, maxInFlight, onEnd }) {
    this.model = model;
    this.file = file;
    this.chunkBytes = Math.max(64 * 1024, Math.min(chunkBytes, 8 * 1024 * 1024));
    this.maxInFlight = Math.max(1, maxInFlight);
    this.onEnd = onEnd;
    this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.nextOffset = 0;
    this.nextIndex = 0;
    this.inFlight = 0;
    this.acked = 0;
    this.stopped = false;
    this.ready = false;
    // One promise chain, so slices are read and sent in file order even though reads are async.
    this.queue = Promise.resolve();
  }

  start() {
    return fileSha256(this.file, this.chunkBytes)
      .then((hash) => {
        if (!this.stopped) {
          this.model.send({ type: 'upload_start', id: this.id, name: this.file.name, size: this.file.size, sha256: hash });
        }
      })
      .catch((err) => this.finish(`The browser could not read the file (${err}); pick it again.`));
  }

  // Called for every custom message from the kernel; ignores other uploads' messages.
  handle(msg) {
    if (!msg || msg.id !== this.id || this.stopped) return;
    if (msg.type === 'ready') {
      this.ready = true;
      this.pump();
    } else if (msg.type === 'ack') {
      this.inFlight -= 1;
      this.acked = msg.received;
      this.pump();
    } else if (msg.type === 'received' || msg.type === 'known') {
      this.finish(null);
    } else if (msg.type === 'abort') {
      this.finish(msg.message || 'The kernel stopped the upload.');
    }
  }

  pump() {
    while (!this.stopped && this.ready && this.inFlight < this.maxInFlight && this.nextOffset < this.file.size) {
      const start = this.nextOffset;
      const end = Math.min(this.file.size, start + this.chunkBytes);
      const index = this.nextIndex;
      this.nextOffset = end;
      this.nextIndex += 1;
      this.inFlight += 1;
      this.queue = this.queue
        .then(() => this.file.slice(start, end).arrayBuffer())
        .then((buffer) => {
          if (!this.stopped) this.model.send({ type: 'chunk', id: this.id, index, offset: start }, undefined, [buffer]);
        })
        .catch((err) => this.fail(`The browser could not read the file (${err}); pick it again.`));
    }
    if (!this.stopped && this.ready && this.inFlight === 0 && this.nextOffset >= this.file.size) {
      this.model.send({ type: 'upload_end', id: this.id });
      this.ready = false; // wait for 'received'
    }
  }

  cancel() {
    if (this.stopped) return;
    this.model.send({ type: 'cancel', id: this.id });
    this.finish('Cancelled.');
  }

  fail(message) {
    if (this.stopped) return;
    this.model.send({ type: 'cancel', id: this.id });
    this.finish(message);
  }

  finish(message) {
    this.stopped = true;
    if (this.onEnd) this.onEnd(message);
  }
}
