'use strict';
// The Node Readable that `stream()` resolves to. It pulls from the native
// download one chunk at a time: Node calls `_read` again only after a push,
// so a slow consumer slows the download and memory stays bounded.
const { Readable } = require('stream');
const { streamBodyError } = require('./errors');

class DownloadStream extends Readable {
	constructor(download) {
		// Native chunks are up to 1 MiB; buffer about one of them ahead.
		super({ highWaterMark: 1024 * 1024 });
		this._download = download;
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
					this.push(null);
				} else if (data.length === 0) {
					this._read();
				} else {
					this.push(data);
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
