'use strict';
// Streamed request bodies: a Node Readable, a web ReadableStream, an async
// iterable of Buffer/Uint8Array/string, or a function returning one of
// these (or a Promise of one), called again whenever the body must be sent
// again (a 307/308 redirect, a re-send on a new connection). The pump here
// writes the source's chunks into a `NativeUpload` (src/js/upload.rs), a
// bounded channel whose other end is the request body in the engine: a
// write that finds it full waits for room, so a slow server slows the
// source and memory stays bounded.
const fs = require('fs');
const { NativeUpload, NativeReceivedBytes } = require('./binding');

const TAKEN = 0;
const CLOSED = 2;
/** Progress callbacks at most this often (plus once at the end). */
const PROGRESS_INTERVAL_MS = 100;

const isSource = (value) =>
	value != null &&
	typeof value === 'object' &&
	(typeof value[Symbol.asyncIterator] === 'function' || typeof value.getReader === 'function');

/** Whether `body` is a body this file sends (and not one sent whole). */
const isStreamBody = (body) => typeof body === 'function' || isSource(body);

function toBytes(chunk) {
	if (typeof chunk === 'string') {
		return Buffer.from(chunk);
	}
	if (ArrayBuffer.isView(chunk)) {
		return chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
	}
	if (chunk instanceof ArrayBuffer) {
		return new Uint8Array(chunk);
	}
	throw new TypeError(`A request body stream must yield Buffer, Uint8Array or string chunks, got ${chunk === null ? 'null' : typeof chunk}`);
}

/** An async iterable over a source (a ReadableStream without one gets a reader loop). */
function iterate(source) {
	if (typeof source[Symbol.asyncIterator] === 'function') {
		return source;
	}
	return (async function* read() {
		const reader = source.getReader();
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) {
					return;
				}
				yield value;
			}
		} finally {
			reader.releaseLock();
		}
	})();
}

/** The size of a whole-file `fs.ReadStream` (no start/end), else undefined. */
async function fileSize(source) {
	if (!(source instanceof fs.ReadStream) || source.path == null) {
		return undefined;
	}
	if (source.start !== undefined || (source.end !== undefined && source.end !== Infinity)) {
		return undefined;
	}
	try {
		const stat = await fs.promises.stat(source.path);
		return stat.isFile() ? stat.size : undefined;
	} catch {
		return undefined;
	}
}

/**
 * `callback({ loadedBytes, total })`, at most every 100 ms and once at the
 * end, never a step back (a body sent again starts over: nothing is
 * reported until it passes what was reported before).
 */
function progressReporter(callback, total) {
	if (typeof callback !== 'function') {
		return { add() {}, end() {} };
	}
	let reported = -1;
	let last = 0;
	const report = (loadedBytes) => {
		if (loadedBytes <= reported) {
			return;
		}
		reported = loadedBytes;
		last = Date.now();
		callback({ loadedBytes, total });
	};
	return {
		add(loadedBytes) {
			// The last byte of a known total is reported at once: with a
			// Content-Length the request may complete (and the call settle)
			// before the source says it has ended.
			if (loadedBytes > 0 && (loadedBytes === total || Date.now() - last >= PROGRESS_INTERVAL_MS)) {
				report(loadedBytes);
			}
		},
		end(loadedBytes) {
			report(loadedBytes);
		},
	};
}

/**
 * Starts sending `body` (see isStreamBody). Resolves with
 * `{ id, contentLength, error(), discard() }`: `id` goes on the wire;
 * `contentLength` is the file size when the source is a whole file;
 * `error()` is the source's error if it failed; `discard(failed)` (when the
 * call ends) stops the pump if the call failed or its request never took
 * the body (a stream() call's upload may go on after the response head).
 */
async function startUpload(body, { onUploadProgress, contentLength } = {}) {
	const renewable = typeof body === 'function';
	let sourceError;
	let stopCurrent = () => {};
	const open = async () => {
		const source = renewable ? await body() : body;
		if (!isSource(source)) {
			throw new TypeError('A body function must return a Readable, a ReadableStream or an async iterable');
		}
		return source;
	};

	async function pump(source, generation, progress) {
		let stopped = false;
		stopCurrent = () => {
			stopped = true;
			// A source waiting for data would keep the pump (and a file
			// descriptor) forever: close it now.
			if (typeof source.destroy === 'function') {
				source.destroy();
			} else if (typeof source.cancel === 'function' && !source.locked) {
				source.cancel().catch(() => {});
			} else if (typeof source.return === 'function') {
				source.return().catch(() => {});
			}
		};
		let loaded = 0;
		try {
			for await (const chunk of iterate(source)) {
				const bytes = toBytes(chunk);
				let written = upload.write(generation, bytes);
				while (written !== TAKEN && written !== CLOSED && !stopped) {
					written = (await upload.room(generation)) ? upload.write(generation, bytes) : CLOSED;
				}
				if (written === CLOSED || stopped) {
					// Nobody reads this generation: leaving the loop closes
					// the source (a Readable is destroyed, a reader cancelled).
					return;
				}
				loaded += bytes.byteLength;
				progress.add(loaded);
			}
			upload.end(generation);
			progress.end(loaded);
		} catch (err) {
			if (!stopped) {
				sourceError = err;
				upload.fail(generation, `the request body's source failed: ${err && err.message ? err.message : String(err)}`);
			}
		}
	}

	let progress;
	// Called by the engine when the body must be sent again.
	const renew = (generation) => {
		stopCurrent();
		open().then(
			(source) => pump(source, generation, progress),
			(err) => {
				sourceError = err;
				upload.fail(generation, `the request body function failed: ${err && err.message ? err.message : String(err)}`);
			},
		);
	};
	const first = await open();
	const size = contentLength ?? (await fileSize(first));
	progress = progressReporter(onUploadProgress, size);
	const upload = new NativeUpload(renewable ? renew : undefined);
	pump(first, 0, progress);
	return {
		id: upload.id,
		contentLength: size,
		error: () => sourceError,
		discard: (failed) => {
			const untaken = upload.discard();
			if (failed || untaken) {
				stopCurrent();
			}
		},
	};
}

/**
 * `send()`'s `onDownloadProgress`: the engine counts the response body as
 * it arrives (src/engine/received_bytes.rs) and this polls the count every
 * 100 ms. `stop(succeeded)` ends the polling, with a last report after a
 * whole body.
 */
function watchDownload(callback) {
	const counter = new NativeReceivedBytes();
	let total;
	let reporter;
	const poll = () => {
		const [loaded, announced] = counter.get();
		if (reporter === undefined && loaded > 0) {
			total = announced < 0 ? undefined : announced;
			reporter = progressReporter(callback, total);
		}
		return loaded;
	};
	const timer = setInterval(() => {
		const loaded = poll();
		reporter?.add(loaded);
	}, PROGRESS_INTERVAL_MS);
	timer.unref?.();
	return {
		id: counter.id,
		stop(succeeded) {
			clearInterval(timer);
			const loaded = poll();
			if (succeeded) {
				(reporter ?? progressReporter(callback, total)).end(loaded);
			}
		},
	};
}

/** A whole body as a body function of 64 KiB slices (re-sendable). */
const SLICE = 64 * 1024;
const inSlices = (bytes) =>
	async function* slices() {
		for (let at = 0; at < bytes.length; at += SLICE) {
			yield bytes.subarray(at, at + SLICE);
		}
	};

module.exports = { isStreamBody, startUpload, progressReporter, watchDownload, inSlices };
