'use strict';
// Builds what the caller sees from the engine's plain response: the response
// object of `send()` (fetch-style Headers, legacy `request.uri`) and its body.

function toHeaders(flat) {
	const headers = new Headers();
	for (let i = 0; i < flat.length; i += 2) {
		headers.append(flat[i], flat[i + 1]);
	}
	return headers;
}

// `url.parse`-style view of a WHATWG URL, as balena-request gives it.
function legacyUri(href) {
	const url = new URL(href);
	const search = url.search !== '' ? url.search : url.href.endsWith('?') ? '?' : null;
	return {
		href: url.href,
		protocol: url.protocol,
		slashes: url.protocol !== '',
		auth: url.username ? `${url.username}:${url.password}` : null,
		host: url.host,
		hostname: url.hostname,
		port: url.port !== '' ? url.port : null,
		pathname: url.pathname,
		path: `${url.pathname}${search ?? ''}`,
		search,
		query: search != null ? search.replace(/^\?/, '') : null,
		hash: url.hash !== '' ? url.hash : null,
	};
}

/** The Content-Type of flat `[name, value, ...]` headers (names are lowercase). */
function contentTypeOf(flat) {
	for (let i = 0; i < flat.length; i += 2) {
		if (flat[i] === 'content-type') {
			return flat[i + 1];
		}
	}
	return '';
}

function decodeBody(raw, contentType) {
	switch (raw.format) {
		case 'none':
			return null;
		case 'blob':
			return new Blob([raw.data ?? Buffer.alloc(0)], { type: contentType });
		case 'json':
			return JSON.parse(raw.text);
		default:
			// A `mime` policy decoding an urlencoded body.
			return raw.decode === 'form' ? Object.fromEntries(new URLSearchParams(raw.text ?? '')) : (raw.text ?? '');
	}
}

/**
 * The response object, without its body. `headers` and `request.uri` are
 * built on first access (most callers of a successful send() read only the
 * body): enumerable getters that then replace themselves with the value.
 */
function responseObject(raw, requestHeaders, headers) {
	const response = {
		statusCode: raw.status,
		status: raw.status,
		ok: raw.status >= 200 && raw.status < 300,
		url: raw.url,
		headers: undefined,
		body: undefined,
		duration: raw.duration,
		request: { headers: requestHeaders, uri: undefined },
	};
	lazy(response, 'headers', () => headers ?? toHeaders(raw.headers));
	lazy(response.request, 'uri', () => legacyUri(raw.requestUrl));
	return response;
}

function lazy(target, key, make) {
	Object.defineProperty(target, key, {
		configurable: true,
		enumerable: true,
		get() {
			const value = make();
			Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
			return value;
		},
		set(value) {
			Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
		},
	});
}

module.exports = { toHeaders, legacyUri, decodeBody, responseObject, contentTypeOf };
