'use strict';
// The one list of what this package does differently from balena-request
// 14.2.3 on purpose. The differential tests consult it; README's
// "Differences you could notice" section says the same, with the same reasons.
// Each entry: an id the tests refer to, and why the difference is deliberate.

module.exports = {
	debugRedacted: {
		what: '`debug: true` prints the same shape as balena-request, with the bearer token, cookies and the apikey redacted',
		why: 'debug output ends up in bug reports and CI logs; a token in them is a leaked credential',
	},
	timeoutCoversHooks: {
		what: "`timeout` also covers getting the token and the request interceptors, so a hook that never settles fails with `network timeout` instead of hanging",
		why: 'the timer is armed when the call starts; upstream arms it only around fetch, so a stuck hook hangs the call for ever',
	},
	callerHeadersNotMutated: {
		what: "the caller's `headers` object is not changed (balena-request adds `Authorization` to it)",
		why: 'a headers object shared between calls (a constant, a default) would otherwise carry one call\'s token into the next; `response.request.headers` still shows what was sent',
	},
	crossOriginRedirectStream: {
		what: 'a `stream()` redirected to another port of the same host carries no `Authorization` and no `Cookie`',
		why: "upstream's `stream()` (node-fetch) compares host names only, so a token could reach another service on the same machine; its `send()` (fetch) already drops them on any redirect to another origin, as we do for both",
	},
	utilsGetRequestAsync: {
		what: "`utils.getRequestAsync` (upstream's internal fetch adapter) is not exported",
		why: 'it is the fetch-based engine this package replaces; balena-sdk does not use it',
	},
	headerNameCase: {
		what: 'request header names go on the wire in lowercase, and in another order',
		why: 'hyper writes HTTP/1.1 names in lowercase (HTTP/2 requires it); names are case-insensitive and the order of different names carries no meaning (RFC 9110 5.1, 5.3)',
	},
	hookReturnedNothing: {
		what: 'a request interceptor that returns nothing (`undefined` or `null`) fails the call with a TypeError that says so',
		why: "upstream fails with the same class, as `Cannot read properties of undefined (reading 'url')`, which does not point at the hook",
		normalize: (json) => json.replace(/request options must be an object, got (undefined|null) \(did a request interceptor return nothing\?\)|Cannot read properties of (undefined|null) \(reading 'url'\)/g, '<nothing returned>'),
	},
	maxResponseSize: {
		what: '`send()` refuses a decoded body larger than `maxResponseSize` (an option, 512 MiB by default) with an error whose code is `ERR_BALENA_RESPONSE_TOO_LARGE`',
		why: 'a few MB of gzip can inflate to many GB (a decompression bomb); upstream takes it all into memory and a small machine is killed. Large bodies are what `stream()` is for, and it has no such limit: backpressure bounds its memory',
	},
	nullInterceptorSkipped: {
		what: 'a `null` or `undefined` entry in `request.interceptors` is skipped',
		why: 'upstream destructures each entry, and the TypeError escapes as an uncaught exception that ends the process; skipping an empty slot can only turn a crash into the call the user meant',
	},
	multipartBoundary: {
		what: 'multipart bodies use another boundary string (so another Content-Length)',
		why: 'the boundary is random in both; the parts, their headers and their bytes are the same (upstream also adds an empty line after the closing boundary, which multipart parsers ignore)',
	},
	gzipProgressCountsWireBytes: {
		what: '`stream()` of a gzip body announced with Content-Length only: `received` counts the bytes as they arrive, so it ends equal to `total`',
		why: 'that Content-Length is the compressed length (RFC 9110 8.6); upstream counts decoded bytes against it, so its percentage passes 100 mid-download and its last `received` exceeds `total`. Both end at 100%',
	},
	honoursProxyVariables: {
		what: 'HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY (and lower-case names) are honoured; balena-request ignores them and always connects directly',
		why: 'balena users behind corporate proxies have asked for this for years; the rules are curl\'s, NO_PROXY=* turns it off, and a failing proxy is named in the error (__test__/proxy.spec.js)',
	},
	staleConnectionResent: {
		what: 'a GET, HEAD, OPTIONS, PUT, DELETE or TRACE whose reused keep-alive connection the server closes as the request arrives is sent once more on a new connection; balena-request fails it (`fetch failed`, `socket hang up`)',
		why: "that is the race of the server's idle timeout with our reuse of the connection: the request never reached the application, so an idempotent one may be sent again (RFC 9110 9.2.2), as curl does. Never a POST or PATCH, never on a connection opened for the request, never after the response head (__test__/faults-keepalive.spec.js)",
	},
	http2OverTls: {
		what: 'over https, HTTP/2 is used when the server offers it (ALPN h2); balena-request always speaks HTTP/1.1',
		why: 'one multiplexed connection per host instead of a pool; responses, headers and bodies are the same to the caller (__test__/tls-trust.spec.js)',
	},
	trustedRoots: {
		what: 'trusted roots are the operating system\'s store plus NODE_EXTRA_CA_CERTS, not the Mozilla list built into Node',
		why: 'rustls has no copy of Node\'s list; the system store is what the machine\'s administrator controls (corporate roots). A self-signed CA certificate used as the server\'s own certificate is accepted, as in Node, when NODE_EXTRA_CA_CERTS holds that very certificate',
	},
	// Network errors (network-errors.spec.js). `normalize`, where present,
	// maps the JSON of what a caller observed (both clients) to a form in
	// which the difference no longer shows, so the rest is still compared.
	tlsAltnameCert: {
		what: 'the ERR_TLS_CERT_ALTNAME_INVALID error (send()\'s cause) has `code`, `reason` and `host` but no `cert` (the peer certificate object)',
		why: 'the engine does not expose the peer certificate on a failed handshake; message, reason and host are the same',
		normalize: (json) => json.replace(/"code","reason","host","cert"/g, '"code","reason","host"'),
	},
	opensslErrorText: {
		what: 'OpenSSL protocol errors (https to a plain-http port: ERR_SSL_WRONG_VERSION_NUMBER, EPROTO for stream()) read `error:0A00010B:SSL routines::wrong version number`, without OpenSSL\'s thread id, function name and source location',
		why: 'that text comes from OpenSSL inside Node and varies by process and Node version; code, library and reason are the same',
		normalize: (json) =>
			json
				.replace(/[0-9A-F]+:error:/g, 'error:')
				.replace(/:SSL routines:[a-z0-9_]+:/g, ':SSL routines::')
				.replace(/:\.\.\/deps\/openssl[^"]*?:\d+:\\n/g, ''),
	},
	streamCleanCloseWithLength: {
		what: 'a stream() body that the server ends cleanly before its Content-Length fails with `Error(\'Premature close\')` (code ERR_STREAM_PREMATURE_CLOSE, as node-fetch says for a cut chunked body); upstream\'s stream neither ends nor fails',
		why: 'a download that never settles is a bug (node-fetch 2 does not watch for it); this is the error upstream gives for the same cut in a chunked body',
	},
	socketErrorDetails: {
		what: 'send()\'s SocketError cause (connection closed early) has the same `socket` keys, but only the peer\'s address and port (for an IP-literal URL); local address, port and byte counts are undefined',
		why: 'the engine\'s connection pool does not report them on failure',
	},
	streamResumes: {
		what: 'a stream() whose connection fails mid-body, from a server that offers byte ranges with a strong ETag or a Last-Modified, asks for the rest (`Range`, `If-Range`) and completes; upstream fails or hangs (`resume: false` restores that)',
		why: 'a multi-gigabyte OS download that dies late and starts over is the most common complaint; the continuation is checked (206, exact start, same total, encoding and validator) so the bytes are the same as an uncut download',
	},
	sendBodyFailureRequestOptions: {
		what: 'a send() that fails while reading the body (`TypeError(\'terminated\')`) carries `err.requestOptions`; upstream\'s has none',
		why: 'kept as it was before: upstream only sets it when fetch() itself rejects, which is an accident of its code; having it does no harm',
	},
	streamedBodies: {
		what: 'a Readable, web ReadableStream, async iterable or function `body` is streamed by send() and stream() whatever `json` says; upstream sends such an object JSON-encoded when `json` is true (the default), and its send() rejects one with `json: false` (fetch wants `duplex`)',
		why: 'the JSON of a stream object\'s internals is never what a caller meant; streamed uploads are a feature of this package (README, "Streamed request bodies")',
	},
};
