'use strict';
// The helpers balena-request exposes from its `build/utils`. The engine looks
// `shouldRefreshKey` and `getAuthorizationHeader` up on this module object at
// every call, so stubbing them (sinon) changes what the engine does.

Object.defineProperty(exports, '__esModule', { value: true });

/** One day in milliseconds: a JWT older than this is refreshed. */
exports.TOKEN_REFRESH_INTERVAL = 24 * 60 * 60 * 1000;

function jwtTokenType() {
	try {
		return require('balena-auth').TokenType.JWT;
	} catch {
		return 0; // balena-auth's TokenType.JWT
	}
}

exports.shouldRefreshKey = async function shouldRefreshKey(auth) {
	const hasKey = await auth.hasKey();
	if (!hasKey) {
		return false;
	}
	const type = await auth.getType();
	if (type !== jwtTokenType()) {
		return false;
	}
	const age = (await auth.getAge()) ?? 0;
	return age >= exports.TOKEN_REFRESH_INTERVAL;
};

exports.getAuthorizationHeader = async function getAuthorizationHeader(auth) {
	if (auth == null) {
		return;
	}
	const hasKey = await auth.hasKey();
	if (!hasKey) {
		return;
	}
	const key = await auth.getKey();
	return `Bearer ${key}`;
};

exports.getErrorMessageFromResponse = function getErrorMessageFromResponse(response) {
	const body = response.body;
	if (!body) {
		return 'The request was unsuccessful';
	}
	const errorText = body.error?.text;
	if (errorText != null) {
		return errorText;
	}
	if (typeof body === 'object') {
		const prop = ['message', 'error'].find((p) => typeof body[p] === 'string');
		if (prop != null) {
			return body[prop];
		}
	}
	return body;
};

exports.isErrorCode = function isErrorCode(statusCode) {
	return statusCode >= 400;
};

exports.isResponseCompressed = function isResponseCompressed(response) {
	return response.headers.get('Content-Encoding') === 'gzip';
};

exports.getResponseLength = function getResponseLength(response) {
	return {
		uncompressed: parseInt(response.headers.get('Content-Length'), 10) || undefined,
		// X-Transfer-Length is the compressed size; image servers send it.
		compressed: parseInt(response.headers.get('X-Transfer-Length'), 10) || undefined,
	};
};

const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie)$/i;

// Upstream prints the options as they are, bearer token and apikey included;
// we print the same shape with those values redacted.
function redact(options) {
	const copy = { ...options };
	if (typeof copy.apiKey === 'string' && copy.apiKey) {
		copy.apiKey = '<redacted>';
	}
	for (const key of ['url', 'uri']) {
		if (typeof copy[key] === 'string') {
			copy[key] = copy[key].replace(/([?&]apikey=)[^&#]*/gi, '$1<redacted>');
		}
	}
	if (copy.headers && typeof copy.headers === 'object') {
		copy.headers = { ...copy.headers };
		for (const name of Object.keys(copy.headers)) {
			if (SECRET_HEADERS.test(name)) {
				copy.headers[name] = '<redacted>';
			}
		}
	}
	return copy;
}
exports.redactOptions = redact;

exports.debugRequest = function debugRequest(options, response) {
	console.error({
		statusCode: response.statusCode,
		duration: response.duration,
		...redact(options),
	});
};

exports.getBody = async function getBody(response, responseFormat) {
	if (responseFormat === 'none') {
		return null;
	}
	const contentType = response.headers.get('Content-Type');
	if (responseFormat === 'blob' || (responseFormat == null && contentType?.includes('binary/octet-stream'))) {
		if (typeof response.blob === 'function') {
			return response.blob();
		}
		if (typeof response.buffer === 'function') {
			return response.buffer();
		}
		throw new Error('This `fetch` implementation does not support decoding binary streams.');
	}
	if (responseFormat === 'json' || (responseFormat == null && contentType?.includes('application/json'))) {
		return response.json();
	}
	if (responseFormat == null || responseFormat === 'text') {
		return response.text();
	}
	const { BalenaInvalidParameterError } = require('balena-errors');
	throw new BalenaInvalidParameterError('responseFormat', responseFormat);
};

exports.getStreamContents = async function getStreamContents(stream) {
	const chunks = [];
	stream.on('data', (chunk) => chunks.push(chunk));
	await new Promise((resolve, reject) => {
		stream.on('error', reject);
		stream.on('close', resolve);
		stream.on('end', resolve);
		stream.on('done', resolve);
	});
	return chunks.join();
};
