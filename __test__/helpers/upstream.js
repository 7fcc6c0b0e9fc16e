'use strict';
// The real balena-request 14.2.3, side by side with this package, for the
// differential tests. Jest maps the name `balena-request` to this package
// (so that balena-sdk runs on it), so upstream is loaded by its file path.
const path = require('path');

const upstreamDir = path.dirname(require.resolve('balena-request/package.json'));
const upstream = require(path.join(upstreamDir, 'build', 'request.js'));
const native = require('../..');

/** Both clients made with the same factory options: `[[name, request], ...]`. */
function bothClients(factoryOptions = {}) {
	return [
		['upstream', upstream.getRequest({ ...factoryOptions })],
		['native', native.getRequest({ ...factoryOptions })],
	];
}

/**
 * What a caller can observe of an error, as plain data: its class, name,
 * message, the fields code branches on, and its cause, recursively.
 */
function describeError(err, depth = 0) {
	if (err === null || typeof err !== 'object') {
		return { value: err };
	}
	const described = {
		class: err.constructor?.name,
		name: err.name,
		message: err.message,
	};
	for (const key of ['code', 'errno', 'syscall', 'type', 'statusCode', 'address', 'port']) {
		if (err[key] !== undefined) {
			described[key] = err[key];
		}
	}
	if (err.cause !== undefined && depth < 3) {
		described.cause = describeError(err.cause, depth + 1);
	}
	return described;
}

module.exports = { upstream, native, bothClients, describeError };
