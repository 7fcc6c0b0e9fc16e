'use strict';
// The errors a caller sees when the network fails, shaped like balena-request
// 14.2.3's: its send() runs on Node's fetch (undici), which fails with
// `TypeError('fetch failed')` (or `'terminated'` once the body was being
// read) whose `cause` is the system, DNS or TLS error; its stream() runs on
// node-fetch 2, whose `FetchError` says `request to <url> failed, reason:
// <reason>` with `code`, `errno` and `type: 'system'`, and whose body
// failures are the socket's own error. The engine classifies a failure into
// plain fields (`NetFailureJs` in src/js/convert.rs); this file is the one
// place that turns them into those objects, property order included (it is
// what `Object.keys` and `JSON.stringify` show).
const { getSystemErrorMap } = require('util');
const net = require('net');

let errnoByName;
/** Node's (libuv's, negative) `errno` for a code such as ECONNREFUSED. */
function errnoOf(name) {
	if (errnoByName === undefined) {
		errnoByName = new Map();
		for (const [errno, [errName]] of getSystemErrorMap()) {
			errnoByName.set(errName, errno);
		}
	}
	return errnoByName.get(name);
}

/**
 * A system or DNS error as Node builds it (`exceptionWithHostPort`,
 * `errnoException`, `dnsException`): `connect ECONNREFUSED 127.0.0.1:80`,
 * `read ECONNRESET`, `getaddrinfo ENOTFOUND host`.
 */
function systemError(fields) {
	const { code, syscall, address, port, hostname } = fields;
	let details = '';
	if (hostname != null) {
		details = ` ${hostname}`;
	} else if (address != null) {
		details = port ? ` ${address}:${port}` : ` ${address}`;
	}
	const error = new Error(`${syscall} ${code}${details}`);
	error.errno = errnoOf(fields.errnoName ?? code);
	error.code = code;
	error.syscall = syscall;
	if (hostname != null) {
		error.hostname = hostname;
	} else if (address != null) {
		error.address = address;
		if (port) {
			error.port = port;
		}
	}
	return error;
}

/**
 * A TLS failure as Node gives it: the certificate checks' `Error(message)`
 * with `code`; the host name check's `ERR_TLS_CERT_ALTNAME_INVALID` with
 * `reason` and `host`; OpenSSL protocol errors with `library` and `reason`.
 */
function tlsError(fields) {
	const error = new Error(fields.text);
	if (fields.library != null) {
		error.library = fields.library;
		error.reason = fields.reason;
		error.code = fields.code;
	} else if (fields.host != null) {
		error.code = fields.code;
		error.reason = fields.reason;
		error.host = fields.host;
	} else if (fields.code != null) {
		error.code = fields.code;
	}
	return error;
}

/** undici's error for a connection the server closed early. */
class SocketError extends Error {
	constructor(message, socket) {
		super(message);
		this.name = 'SocketError';
		this.code = 'UND_ERR_SOCKET';
		this.socket = socket;
	}
}

/** What undici's SocketError says about the socket; only the peer is known here. */
function socketInfo(url) {
	let remoteAddress;
	let remotePort;
	try {
		const parsed = new URL(url);
		const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
		if (net.isIP(host)) {
			remoteAddress = host;
			remotePort = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
		}
	} catch {
		// No URL, no peer details.
	}
	return {
		localAddress: undefined,
		localPort: undefined,
		remoteAddress,
		remotePort,
		remoteFamily: remoteAddress === undefined ? undefined : `IPv${net.isIP(remoteAddress)}`,
		timeout: undefined,
		bytesWritten: undefined,
		bytesRead: undefined,
	};
}

/** node-fetch 2's FetchError (same own properties, in the same order). */
class FetchError extends Error {
	constructor(message, type, systemError) {
		super();
		this.message = message;
		this.type = type;
		if (systemError) {
			this.code = this.errno = systemError.code;
		}
		// The stack's first line shows the message, as node-fetch's does.
		Error.captureStackTrace(this, this.constructor);
	}
}
Object.defineProperty(FetchError.prototype, 'name', { value: 'FetchError', writable: true, configurable: true });

/** node-fetch 2's AbortError: what stream() fails with when its signal aborts. */
class AbortError extends Error {
	constructor(message) {
		super();
		this.type = 'aborted';
		this.message = message;
		Error.captureStackTrace(this, this.constructor);
	}
}
Object.defineProperty(AbortError.prototype, 'name', { value: 'AbortError', writable: true, configurable: true });

const streamAborted = () => new AbortError('The user aborted a request.');

/** The error under fetch's TypeError: what Node's socket, DNS or TLS layer gave. */
function causeOf(fields) {
	switch (fields.kind) {
		case 'system':
		case 'dns':
			return systemError(fields);
		case 'closed':
			return new SocketError('other side closed', socketInfo(fields.url));
		case 'tls':
			return tlsError(fields);
		default: {
			const error = new Error(fields.text);
			if (fields.code != null) {
				error.code = fields.code;
			}
			return error;
		}
	}
}

/**
 * When the request went through a proxy, the reason ends with it, so that a
 * dead proxy does not read as the API refusing the connection.
 */
const viaProxy = (text, fields) => (fields.proxy == null ? text : `${text} (proxy ${fields.proxy})`);

/** fetch's `TypeError('fetch failed')` (`'terminated'` while reading the body). */
function fetchFailed(cause, inBody = false) {
	return new TypeError(inBody ? 'terminated' : 'fetch failed', { cause });
}

/** send()'s error for a network failure. */
function sendNetworkError(fields) {
	const cause = causeOf(fields);
	if (fields.proxy != null && cause instanceof Error) {
		cause.message = viaProxy(cause.message, fields);
	}
	return fetchFailed(cause, fields.inBody);
}

/** stream()'s rejection for a network failure before the response head. */
function streamRequestError(fields) {
	let reason = fields.text;
	let code = fields.code ?? undefined;
	switch (fields.kind) {
		case 'system':
		case 'dns':
			reason = systemError(fields).message;
			break;
		case 'closed':
			// Node's http client: the socket ended before a response.
			reason = 'socket hang up';
			code = 'ECONNRESET';
			break;
		case 'tls':
			// Node's https client meets OpenSSL protocol errors on its write.
			if (fields.library != null) {
				reason = `write EPROTO ${fields.text}`;
				code = 'EPROTO';
			}
			break;
		default:
	}
	return new FetchError(`request to ${fields.url} failed, reason: ${viaProxy(reason, fields)}`, 'system', { code });
}

/** The error a stream emits when the network fails while its body is read. */
function streamBodyError(fields) {
	switch (fields.kind) {
		case 'closed': {
			// node-fetch's own error for a body that stopped early.
			const error = new Error('Premature close');
			error.code = 'ERR_STREAM_PREMATURE_CLOSE';
			return error;
		}
		case 'system':
		case 'dns':
			return systemError(fields);
		case 'tls':
			return tlsError(fields);
		default: {
			const error = new Error(`download from ${fields.url} failed: ${fields.text}`);
			if (fields.code != null) {
				error.code = fields.code;
			}
			return error;
		}
	}
}

module.exports = {
	FetchError,
	AbortError,
	SocketError,
	systemError,
	tlsError,
	fetchFailed,
	sendNetworkError,
	streamRequestError,
	streamBodyError,
	streamAborted,
};
