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
	nullInterceptorSkipped: {
		what: 'a `null` or `undefined` entry in `request.interceptors` is skipped',
		why: 'upstream destructures each entry, and the TypeError escapes as an uncaught exception that ends the process; skipping an empty slot can only turn a crash into the call the user meant',
	},
	multipartBoundary: {
		what: 'multipart bodies use another boundary string (so another Content-Length)',
		why: 'the boundary is random in both; the parts, their headers and their bytes are the same (upstream also adds an empty line after the closing boundary, which multipart parsers ignore)',
	},
	gzipProgressCountsWireBytes: {
		what: 'stream() of a gzip body announced with Content-Length only: `received` counts the bytes as they arrive, so it ends equal to `total`',
		why: 'that Content-Length is the compressed length (RFC 9110 8.6); upstream counts decoded bytes against it, so its percentage passes 100 mid-download and its last `received` exceeds `total`. Both end at 100%',
	},
};
