'use strict';
// `request.forward(req, res, options)`: proxies a Node `http.IncomingMessage`
// through the engine and streams the reply into the `http.ServerResponse`
// (deftly-express's `forward`). It is a `stream()` call underneath, so the
// instance's auth and interceptors apply, with the incoming request as a
// streamed body and pass-through on (lib/wire.js PASS_THROUGH): the reply's
// status, headers and bytes come back as they came (a gzip body stays gzip),
// and the request carries no header of ours (the client's Accept-Encoding,
// not ours).
const { pipeline } = require('stream/promises');
const { PASS_THROUGH } = require('./wire');

// RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
const HOP_BY_HOP = new Set([
	'connection',
	'keep-alive',
	'proxy-authenticate',
	'proxy-authorization',
	'te',
	'trailer',
	'transfer-encoding',
	'upgrade',
]);

/** `[name, value]` pairs without the hop-by-hop ones (and those Connection names). */
function endToEnd(entries) {
	const dropped = new Set(HOP_BY_HOP);
	for (const [name, value] of entries) {
		if (name.toLowerCase() === 'connection') {
			for (const token of String(value).split(',')) {
				dropped.add(token.trim().toLowerCase());
			}
		}
	}
	return entries.filter(([name]) => !dropped.has(name.toLowerCase()));
}

/** The incoming request's headers to send upstream. */
function requestHeaders(incoming) {
	const headers = {};
	for (const [name, value] of endToEnd(Object.entries(incoming))) {
		const lower = name.toLowerCase();
		if (value === undefined || lower === 'host') {
			// Host is the upstream's (the engine sets it from the URL).
			continue;
		}
		// The engine's auth replaces `Authorization` by that exact name.
		const key = lower === 'authorization' ? 'Authorization' : name;
		headers[key] = Array.isArray(value) ? value.join(', ') : String(value);
	}
	return headers;
}

/** The reply's headers, for `res.writeHead`. */
function responseHeaders(headers) {
	const out = {};
	for (const [name, value] of endToEnd([...headers])) {
		if (name === 'set-cookie' && typeof headers.getSetCookie === 'function') {
			out[name] = headers.getSetCookie();
		} else {
			out[name] = value;
		}
	}
	return out;
}

/** Whether the incoming request has a body (RFC 9112 6.3). */
const hasBody = (req) =>
	req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] || 0) > 0;

function badGateway(res) {
	if (!res.headersSent && !res.destroyed) {
		res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
		res.end('Bad Gateway');
	} else {
		res.destroy();
	}
}

/**
 * @param request the request instance (its `stream()`)
 * @param req the incoming `http.IncomingMessage`
 * @param res its `http.ServerResponse`
 * @param options `{ url, baseUrl, method, headers, body }`, each defaulting
 *   to the incoming request's
 * @returns a Promise that resolves when the reply is complete and rejects
 *   with the failure (after answering 502, or destroying the connection)
 */
async function forward(request, req, res, options = {}) {
	const controller = new AbortController();
	let finished = false;
	// The client going away (before the end of the reply) cancels upstream.
	const onClientGone = () => {
		if (!finished) {
			controller.abort();
		}
	};
	req.once('aborted', onClientGone);
	res.once('close', onClientGone);
	try {
		const headers = options.headers != null ? requestHeaders(options.headers) : requestHeaders(req.headers);
		let body = options.body;
		if (body === undefined && hasBody(req)) {
			body = req;
		}
		let upstream;
		try {
			upstream = await request.stream({
				url: options.url ?? req.url,
				baseUrl: options.baseUrl,
				method: options.method ?? req.method,
				headers,
				body,
				json: false,
				// The client sees the redirect, as it would without us.
				followRedirect: false,
				signal: controller.signal,
				[PASS_THROUGH]: true,
			});
		} catch (err) {
			// Before the head: 502 if the client is still there.
			if (!controller.signal.aborted) {
				badGateway(res);
			}
			throw err;
		}
		const { response } = upstream;
		res.writeHead(response.statusCode, responseHeaders(response.headers));
		// An upstream failure mid-body destroys `res` (and the client's
		// connection) through the pipeline: the client sees the reply cut.
		await pipeline(upstream, res);
		finished = true;
	} finally {
		finished = true;
		req.off('aborted', onClientGone);
		res.off('close', onClientGone);
	}
}

module.exports = { forward, HOP_BY_HOP };
