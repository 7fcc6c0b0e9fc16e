'use strict';
// Turns an options object into the plain request the engine sends (what
// balena-request's `processRequestOptions` does). Like upstream, it adds the
// Content-Type and Accept-Encoding it decides on to `options.headers`, so
// `response.request.headers` shows them.

// Options balena-request rejects, from its list.
const UNSUPPORTED_REQUEST_PARAMS = [
	'qsParseOptions', 'qsStringifyOptions', 'useQuerystring', 'form', 'formData', 'multipart',
	'preambleCRLF', 'postambleCRLF', 'jsonReviver', 'jsonReplacer', 'auth', 'oauth', 'aws',
	'httpSignature', 'followAllRedirects', 'maxRedirects', 'removeRefererHeader', 'encoding',
	'jar', 'agent', 'agentClass', 'agentOptions', 'forever', 'pool', 'localAddress', 'proxy',
	'proxyHeaderWhiteList', 'proxyHeaderExclusiveList', 'time', 'har', 'callback',
];

const { WIRE } = require('./boundary');

/**
 * Set (to true) on the options of a `forward()` call: the reply comes back
 * as it came (not decoded, any status as a stream) and the request carries
 * no header of ours.
 */
const PASS_THROUGH = Symbol('balena-request-native.passThrough');

const { isStreamBody, startUpload, watchDownload, inSlices } = require('./upload');

const isFile = (value) =>
	typeof Blob !== 'undefined' && value instanceof Blob && typeof value.name === 'string';

function bodyToWire(body) {
	if (body == null) {
		return undefined;
	}
	if (typeof body === 'string' || Buffer.isBuffer(body)) {
		return body;
	}
	if (ArrayBuffer.isView(body)) {
		return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	}
	if (body instanceof ArrayBuffer) {
		return Buffer.from(body);
	}
	return String(body);
}

/** Whether a body is an object holding files (sent as a multipart form). */
const hasFiles = (body) =>
	body != null && typeof body === 'object' && !ArrayBuffer.isView(body) && Object.values(body).some(isFile);

async function formParts(entries) {
	return Promise.all(
		entries.map(async ([name, value]) =>
			isFile(value)
				? {
						name,
						data: Buffer.from(await value.arrayBuffer()),
						filename: value.name,
						contentType: value.type || undefined,
					}
				: { name, value: String(value) },
		),
	);
}

/**
 * The Content-Type fetch (send) and node-fetch (stream) give a body of their
 * own accord when the request has none.
 */
function implicitContentType(body) {
	if (typeof body === 'string') {
		return 'text/plain;charset=UTF-8';
	}
	if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) {
		return 'application/x-www-form-urlencoded;charset=UTF-8';
	}
	return undefined;
}

// What `Headers` accepts: a token for the name; for the value, after
// trimming HTTP whitespace, no NUL, CR or LF and no character above U+00FF
// (header bytes are Latin-1, one byte a character).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const BAD_VALUE = /[\0\r\n]|[^\0-\xff]/;

/**
 * A header's value as upstream's `new Headers(headers)` takes it, or the
 * very error it throws: the common case is checked here, and anything
 * doubtful goes through the platform's own `Headers`, so a Symbol, a
 * `toString` that throws, a bad name or a forbidden character fail with
 * upstream's class and message.
 */
function headerValue(name, value) {
	if (typeof value !== 'symbol') {
		const text = (typeof value === 'string' ? value : String(value)).replace(HTTP_WHITESPACE, '');
		if (HEADER_NAME.test(name) && !BAD_VALUE.test(text)) {
			return text;
		}
	}
	new Headers({ [name]: value });
	// Headers accepted what we refuse: should not happen; refuse all the same.
	throw new TypeError(`Invalid header ${JSON.stringify(name)}`);
}

/** `maxResponseSize` in bytes, or undefined for the engine's default (512 MiB). */
function maxResponseSizeOf(value) {
	const n = Number(value);
	return value != null && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

function retriesOf(value) {
	const n = Math.floor(Number(value));
	return Number.isFinite(n) && n > 0 ? Math.min(n, 0xffffffff) : 0;
}

/**
 * stream()'s `resume`: how many times to ask again for the rest of a body
 * whose connection failed (5 unless `resume: false` or `{ maxAttempts }`).
 */
function resumeAttemptsOf(value, stream) {
	if (!stream || value === false) {
		return 0;
	}
	const n = value != null && typeof value === 'object' ? Math.floor(Number(value.maxAttempts ?? 5)) : 5;
	// NaN is 0; Infinity is as many as the wire carries.
	return n > 0 ? Math.min(n, 0xffffffff) : 0;
}

/** stream()'s `idleTimeout` in ms, or undefined for none. */
function idleTimeoutOf(value, stream) {
	const n = Number(value);
	return stream && value != null && Number.isFinite(n) && n >= 1 ? Math.floor(n) : undefined;
}

/**
 * @param options the request options (after defaults and hooks)
 * @param stream whether this is a `stream()` call
 * @param call the call, which keeps a streamed body's upload (lib/upload.js)
 * @returns the wire request (an array, see below), or a Promise of it when
 *   a body holds files or is a stream
 */
function toWire(options, stream, call) {
	// Upstream reads `options.url` whatever a request hook returned: nothing
	// is its TypeError (with a message that says more here), any other value
	// has no url.
	if (options == null) {
		throw new TypeError(
			`request options must be an object, got ${options === null ? 'null' : 'undefined'} (did a request interceptor return nothing?)`,
		);
	}
	const url = options.url || options.uri;
	if (url == null) {
		throw new Error('url option not provided');
	}
	let headers = options.headers;
	if (headers == null || typeof headers !== 'object') {
		headers = {};
	}
	let body = options.body;
	const streamed = isStreamBody(body);
	// A forward() call stays one whatever options a request hook returns.
	const passThrough = call?.passThrough === true || options[PASS_THROUGH] === true;
	if (options.json && body && !streamed) {
		body = JSON.stringify(body);
		headers['Content-Type'] = 'application/json';
	}
	if (passThrough) {
		// The client's own Accept-Encoding (or none), as it asked.
	} else if (stream) {
		headers['Accept-Encoding'] = 'gzip, deflate';
	} else if (!headers['Accept-Encoding']) {
		headers['Accept-Encoding'] = 'compress, gzip';
	}
	if (options.strictSSL === false) {
		throw new Error('`strictSSL` must be true or absent');
	}
	for (const key of UNSUPPORTED_REQUEST_PARAMS) {
		const value = options[key];
		if (value != null) {
			throw new Error(`The ${key} param is not supported. Value: ${value}`);
		}
	}
	const method = options.method == null ? 'GET' : options.method;
	if (typeof method !== 'string') {
		throw new TypeError(`The method option must be a string, got ${typeof method}`);
	}
	const flatHeaders = [];
	let hasContentType = false;
	let declaredLength;
	for (const name of Object.keys(headers)) {
		const value = headers[name];
		if (value !== undefined) {
			const text = headerValue(name, value);
			flatHeaders.push(name, text);
			const lower = name.toLowerCase();
			hasContentType = hasContentType || lower === 'content-type';
			if (lower === 'content-length' && /^\d+$/.test(text)) {
				declaredLength = Number(text);
			}
		}
	}
	const impliedType = hasContentType ? undefined : implicitContentType(body);
	if (impliedType !== undefined) {
		// On the wire only: upstream's options.headers do not show it either.
		flatHeaders.push('content-type', impliedType);
	}
	// WireJs (src/js/boundary.rs): an array with named indices.
	const wire = new Array(WIRE.length);
	wire[WIRE.url] = String(url);
	wire[WIRE.baseUrl] = options.baseUrl ? String(options.baseUrl) : undefined;
	wire[WIRE.qsJson] = options.qs ? JSON.stringify(options.qs) : undefined;
	wire[WIRE.method] = method;
	wire[WIRE.headers] = flatHeaders;
	wire[WIRE.body] = streamed ? undefined : bodyToWire(body);
	wire[WIRE.form] = undefined;
	wire[WIRE.followRedirect] = options.followRedirect !== false;
	wire[WIRE.decompress] = !stream && options.gzip !== false;
	wire[WIRE.retries] = retriesOf(options.retries);
	wire[WIRE.maxResponseSize] = maxResponseSizeOf(options.maxResponseSize);
	wire[WIRE.upload] = undefined;
	wire[WIRE.passThrough] = passThrough;
	wire[WIRE.downloadProgress] = undefined;
	wire[WIRE.resumeAttempts] = resumeAttemptsOf(options.resume, stream);
	wire[WIRE.idleTimeout] = idleTimeoutOf(options.idleTimeout, stream);
	if (!stream && call !== undefined && typeof options.onDownloadProgress === 'function') {
		call.downloadProgress = watchDownload(options.onDownloadProgress);
		wire[WIRE.downloadProgress] = call.downloadProgress.id;
	}
	let upload = streamed ? body : undefined;
	let uploadLength = declaredLength;
	if (
		!streamed &&
		typeof options.onUploadProgress === 'function' &&
		wire[WIRE.body] !== undefined &&
		!hasFiles(options.body)
	) {
		// A whole body with a progress callback goes through the upload
		// channel in slices, so that progress follows the socket.
		const bytes = typeof wire[WIRE.body] === 'string' ? Buffer.from(wire[WIRE.body]) : wire[WIRE.body];
		upload = inSlices(bytes);
		uploadLength = declaredLength ?? bytes.length;
		wire[WIRE.body] = undefined;
	}
	if (upload !== undefined) {
		return startUpload(upload, { onUploadProgress: options.onUploadProgress, contentLength: uploadLength }).then(
			(started) => {
				if (call !== undefined) {
					call.upload = started;
				}
				wire[WIRE.upload] = started.id;
				if (declaredLength === undefined && started.contentLength !== undefined) {
					// A whole file or body: its size, so that it is not sent chunked.
					flatHeaders.push('content-length', String(started.contentLength));
				}
				return wire;
			},
		);
	}
	if (hasFiles(options.body)) {
		return formParts(Object.entries(options.body)).then((form) => {
			wire[WIRE.form] = form;
			wire[WIRE.body] = undefined;
			return wire;
		});
	}
	return wire;
}

/**
 * `toWire` for a call (a Promise of it only when toWire gives one): on
 * failure the error carries the options (as balena-request's do, for
 * send()) and goes into the call's slot, and the result is `undefined`,
 * which tells the pipeline to settle on the slot.
 */
function wireForCall(call, options) {
	const failed = (err) => {
		if (err !== null && typeof err === 'object' && !call.stream) {
			err.requestOptions = options;
		}
		call.fail(err);
		return undefined;
	};
	let wire;
	try {
		wire = toWire(options, call.stream, call);
	} catch (err) {
		return failed(err);
	}
	// Most requests are built at once: no promise (and no extra turn of the
	// microtask queue) unless a body has to be read first.
	return typeof wire?.then === 'function' ? wire.then(undefined, failed) : wire;
}

module.exports = { toWire, wireForCall, UNSUPPORTED_REQUEST_PARAMS, PASS_THROUGH };
