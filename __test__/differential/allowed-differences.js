'use strict';
// The one list of what this package does differently from balena-request
// 14.2.3 on purpose. The differential tests consult it; README's
// "Differences you could notice" section says the same, with the same reasons.
// Each entry: an id the tests refer to, and why the difference is deliberate.

module.exports = {
	headerNameCase: {
		what: 'request header names go on the wire in lowercase, and in another order',
		why: 'hyper writes HTTP/1.1 names in lowercase (HTTP/2 requires it); names are case-insensitive and the order of different names carries no meaning (RFC 9110 5.1, 5.3)',
	},
	multipartBoundary: {
		what: 'multipart bodies use another boundary string (so another Content-Length)',
		why: 'the boundary is random in both; the parts, their headers and their bytes are the same',
	},
	// Network errors (network-errors.spec.js). `normalize`, where present,
	// maps the JSON of what a caller observed (both clients) to a form in
	// which the difference no longer shows, so the rest is still compared.
	tlsUntrustedChainShape: {
		what: 'a certificate that does not lead to a trusted root is always UNABLE_TO_VERIFY_LEAF_SIGNATURE ("unable to verify the first certificate"); Node says DEPTH_ZERO_SELF_SIGNED_CERT for a self-signed leaf and SELF_SIGNED_CERT_IN_CHAIN when the server also sends its root',
		why: 'rustls reports all of these as UnknownIssuer, without the chain; a self-signed CA certificate used as the server\'s own (what `openssl req -x509` makes) is told apart and is DEPTH_ZERO_SELF_SIGNED_CERT as in Node',
		normalize: (json) =>
			json
				.replace(/self-signed certificate in certificate chain|self-signed certificate|unable to verify the first certificate/g, '<untrusted>')
				.replace(/SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/g, '<UNTRUSTED>'),
	},
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
	sendBodyFailureRequestOptions: {
		what: 'a send() that fails while reading the body (`TypeError(\'terminated\')`) carries `err.requestOptions`; upstream\'s has none',
		why: 'kept as it was before: upstream only sets it when fetch() itself rejects, which is an accident of its code; having it does no harm',
	},
};
