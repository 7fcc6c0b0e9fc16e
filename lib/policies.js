'use strict';
// `require('balena-request-native').policies`: factories of the policies
// that run in the native pipeline (src/pipeline/policies/, one file each).
// A factory checks its options at once (the native code parses them, so a
// wrong option throws here, not at the first request) and returns a
// policy object whose `name` is the factory's name. Adding it to a
// request's `pipeline` costs no trip into JavaScript per request (a `log`
// policy with a `logger` function calls it, without waiting).
const { checkPolicy } = require('./binding');

/** Where a native policy keeps what the engine needs to build it. */
const NATIVE = Symbol('balena-request-native.nativePolicy');

/**
 * Options as the native side reads them: JSON, without functions (a
 * `logger` is kept apart).
 */
function optionsJson(name, options) {
	if (options != null && (typeof options !== 'object' || Array.isArray(options))) {
		throw new TypeError(`${name}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
	}
	return JSON.stringify(options ?? {}, (key, value) => (typeof value === 'function' ? undefined : value));
}

function nativePolicy(name, options, logger) {
	const json = optionsJson(name, options);
	checkPolicy([name, json]);
	return Object.freeze({ name, [NATIVE]: Object.freeze({ options: json, logger }) });
}

function logPolicy(options = {}) {
	const logger = options?.logger;
	if (logger != null && typeof logger !== 'function') {
		throw new TypeError(`log: logger must be a function, got ${typeof logger}`);
	}
	// The native side hands each record over as JSON text.
	const write = logger == null ? undefined : (text) => {
		try {
			logger(JSON.parse(text));
		} catch {
			// A logger that throws must not end the process or the request.
		}
	};
	return nativePolicy('log', options, write);
}

const policies = Object.freeze({
	defaultRequest: (defaults) => nativePolicy('defaultRequest', defaults),
	pathPrefix: (options) => nativePolicy('pathPrefix', options),
	basicAuth: (options) => nativePolicy('basicAuth', options),
	csrf: (options) => nativePolicy('csrf', options),
	errorCode: (options) => nativePolicy('errorCode', options),
	retry: (options) => nativePolicy('retry', options),
	timeout: (options) => nativePolicy('timeout', options),
	location: (options) => nativePolicy('location', options),
	mime: (options) => nativePolicy('mime', options),
	log: logPolicy,
	requestId: (options) => nativePolicy('requestId', options),
	userAgent: (options) => nativePolicy('userAgent', options),
	concurrency: (options) => nativePolicy('concurrency', options),
});

const isNativePolicy = (policy) => policy != null && typeof policy === 'object' && policy[NATIVE] !== undefined;

module.exports = { policies, NATIVE, isNativePolicy };
