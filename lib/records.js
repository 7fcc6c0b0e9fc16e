'use strict';
// Record streams: a `stream()` body that is a JSON text sequence
// (application/json-seq, RFC 7464) or line-delimited JSON (NDJSON, JSON
// Lines). The native splitter (src/engine/records.rs) finds the records in
// the decoded chunks; each record's text is parsed here with V8's JSON.parse.
const { RecordSplitter, recordFraming } = require('./binding');

const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
const RECORD_TYPES = 'application/json-seq, application/x-ndjson, application/jsonl or application/x-jsonlines';

/** An invalid or oversized record; `offset` is where it starts in the decoded body. */
class RecordError extends Error {
	constructor(message, code, offset, options) {
		super(message, options);
		this.name = 'RecordError';
		this.code = code;
		this.offset = offset;
	}
}

function invalidRecord(offset, cause) {
	return new RecordError(
		`Invalid JSON record at byte offset ${offset} of the response body: ${cause.message}`,
		'ERR_INVALID_RECORD',
		offset,
		{ cause },
	);
}

function recordTooLarge(offset, limit) {
	return new RecordError(
		`The record at byte offset ${offset} of the response body is larger than maxRecordBytes (${limit} bytes)`,
		'ERR_RECORD_TOO_LARGE',
		offset,
	);
}

/** The framing code of a record-stream Content-Type, or null. */
function framingOf(contentType) {
	return typeof contentType === 'string' ? recordFraming(contentType) : null;
}

function notARecordStream(contentType) {
	return new TypeError(
		`records() needs a record stream (Content-Type ${RECORD_TYPES}); this response's Content-Type is ${contentType == null ? 'missing' : JSON.stringify(contentType)}`,
	);
}

/**
 * Turns the body's chunks into parsed records. `deliver(value)` gets each
 * record; `push` and `finish` return the error that ends the stream, or null.
 */
class RecordReader {
	/** `startOffset` bytes went by unsplit, `lastByte` the last of them (-1: none). */
	constructor(framing, maxRecordBytes, startOffset, lastByte) {
		this.limit = maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
		this.splitter = new RecordSplitter(framing, this.limit, startOffset, lastByte);
	}

	push(chunk, deliver) {
		return this.parse(this.splitter.push(chunk), deliver);
	}

	finish(deliver) {
		return this.parse(this.splitter.finish(), deliver);
	}

	parse([text, marks], deliver) {
		// marks: per record, its body offset and where it ends in `text`.
		let start = 0;
		for (let i = 0; i < marks.length; i += 2) {
			const end = marks[i + 1];
			let value;
			try {
				value = JSON.parse(text.slice(start, end));
			} catch (err) {
				return invalidRecord(marks[i], err);
			}
			start = end;
			if (deliver(value) === false) {
				return null;
			}
		}
		const tooLargeAt = this.splitter.tooLargeAt;
		return tooLargeAt == null ? null : recordTooLarge(tooLargeAt, this.limit);
	}
}

module.exports = { RecordReader, RecordError, framingOf, notARecordStream, DEFAULT_MAX_RECORD_BYTES };
