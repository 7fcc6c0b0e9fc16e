'use strict';
// The Node Readable that `stream()` resolves to. It pulls from the native
// download one chunk at a time: Node calls `_read` again only after a push,
// so a slow consumer slows the download and memory stays bounded.
//
// A record stream (lib/records.js) also emits each parsed record as a
// `value` event, and `records()` iterates them; records are split from the
// chunks as they are pushed, once someone asked for them.
const { Readable } = require('stream');
const { streamBodyError } = require('./errors');
const { RecordReader, framingOf, notARecordStream } = require('./records');

class DownloadStream extends Readable {
	/** `records`: `{ contentType, maxRecordBytes }` of the response. */
	constructor(download, records) {
		// Native chunks are up to 1 MiB; buffer about one of them ahead.
		super({ highWaterMark: 1024 * 1024 });
		this._download = download;
		this._contentType = records?.contentType;
		this._framing = framingOf(this._contentType);
		this._maxRecordBytes = records?.maxRecordBytes;
		/** Body bytes pushed so far, and the last of them (-1: none yet):
		 * where a late record reader starts. */
		this._pushed = 0;
		this._lastByte = -1;
		/** Set once a `value` listener or `records()` wants records. */
		this._records = null;
		/** The queues of the `records()` iterators. */
		this._recordQueues = new Set();
	}

	on(event, listener) {
		const result = super.on(event, listener);
		if (event === 'value' && this._framing != null) {
			this._wantRecords();
			// Like a `data` listener: start the flow unless paused explicitly.
			if (this.readableFlowing !== false) {
				this.resume();
			}
		}
		return result;
	}

	addListener(event, listener) {
		return this.on(event, listener);
	}

	/**
	 * Iterates the parsed records, pulling the body only as fast as the loop
	 * consumes them. Throws for a response that is not a record stream.
	 */
	records() {
		if (this._framing == null) {
			throw notARecordStream(this._contentType);
		}
		this._wantRecords();
		const queue = [];
		this._recordQueues.add(queue);
		return this._iterateRecords(queue);
	}

	async *_iterateRecords(queue) {
		// Yields each queued batch with a plain loop: `yield*` over an array
		// costs an extra promise per record in an async generator.
		const drain = () => queue.splice(0, queue.length);
		try {
			try {
				// Reading the bytes is what pulls the download; each chunk's
				// records are queued when it is pushed, before it is read here.
				// eslint-disable-next-line no-unused-vars
				for await (const chunk of this) {
					while (queue.length > 0) {
						for (const value of drain()) yield value;
					}
				}
			} catch (err) {
				// The records before a bad one still come first.
				while (queue.length > 0) {
					for (const value of drain()) yield value;
				}
				throw err;
			}
			while (queue.length > 0) {
				for (const value of drain()) yield value;
			}
		} finally {
			this._recordQueues.delete(queue);
		}
	}

	_wantRecords() {
		if (this._records == null) {
			this._records = new RecordReader(this._framing, this._maxRecordBytes, this._pushed, this._lastByte);
			this._deliver = (value) => {
				if (this.listenerCount('value') > 0) {
					this.emit('value', value);
				}
				for (const queue of this._recordQueues) {
					queue.push(value);
				}
				return !this.destroyed;
			};
		}
	}

	_read() {
		this._download.next().then(
			([data, progressDue, progress, failure]) => {
				if (this.destroyed) {
					return;
				}
				if (failure != null) {
					this.destroy(streamBodyError(failure));
					return;
				}
				if (progressDue) {
					this.emit('progress', progress ?? undefined);
				}
				if (data == null) {
					this.emit('progress', this._download.finalProgress() ?? undefined);
					if (this._records != null) {
						const error = this._records.finish(this._deliver);
						if (error != null || this.destroyed) {
							this.destroy(error ?? undefined);
							return;
						}
					}
					this.push(null);
				} else if (data.length === 0) {
					this._read();
				} else {
					this._pushed += data.length;
					this._lastByte = data[data.length - 1];
					this.push(data);
					if (this._records != null && !this.destroyed) {
						const error = this._records.push(data, this._deliver);
						if (error != null) {
							this.destroy(error);
						}
					}
				}
			},
			(err) => {
				if (!this.destroyed) {
					this.destroy(err instanceof Error ? err : new Error(String(err)));
				}
			},
		);
	}

	_destroy(err, callback) {
		this._download.cancel();
		callback(err);
	}
}

module.exports = { DownloadStream };
