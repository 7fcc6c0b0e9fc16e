'use strict';
// Type checks of the options a caller passes: a wrong type is a TypeError
// that names the option, before anything is sent. Types balena-request
// accepts by coercion elsewhere (a number `timeout` as a string, say) are
// not listed here.

const STRING_OPTIONS = ['url', 'uri', 'baseUrl', 'method', 'apiKey', 'responseFormat'];
const BOOLEAN_LIKE = ['json', 'sendToken', 'refreshToken', 'gzip', 'followRedirect', 'strictSSL'];

const describe = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

function fail(name, expected, value) {
	throw new TypeError(`The ${name} option must be ${expected}, got ${describe(value)}`);
}

function validateOptions(options) {
	if (options === null || typeof options !== 'object') {
		fail('request', 'an object', options);
	}
	for (const name of STRING_OPTIONS) {
		const value = options[name];
		if (value != null && typeof value !== 'string') {
			fail(name, 'a string', value);
		}
	}
	for (const name of BOOLEAN_LIKE) {
		const value = options[name];
		if (value != null && typeof value === 'object') {
			fail(name, 'a boolean', value);
		}
	}
	for (const name of ['timeout', 'retries', 'maxResponseSize']) {
		const value = options[name];
		if (value != null && typeof value !== 'number' && (typeof value !== 'string' || Number.isNaN(Number(value)))) {
			fail(name, 'a number', value);
		}
	}
	for (const name of ['headers', 'qs']) {
		const value = options[name];
		if (value != null && typeof value !== 'object') {
			fail(name, 'an object', value);
		}
	}
	// stream()'s resuming: `false`, `true` or `{ maxAttempts }`.
	const resume = options.resume;
	if (resume != null && typeof resume !== 'boolean') {
		if (typeof resume !== 'object' || Array.isArray(resume)) {
			fail('resume', 'a boolean or { maxAttempts }', resume);
		}
		const attempts = resume.maxAttempts;
		if (attempts != null && (typeof attempts !== 'number' || !(attempts >= 0))) {
			fail('resume.maxAttempts', 'a number of 0 or more', attempts);
		}
	}
	const idleTimeout = options.idleTimeout;
	if (idleTimeout != null && (typeof idleTimeout !== 'number' || !(idleTimeout >= 0))) {
		fail('idleTimeout', 'a number of milliseconds', idleTimeout);
	}
	const maxRecordBytes = options.maxRecordBytes;
	if (maxRecordBytes != null && !(typeof maxRecordBytes === 'number' && maxRecordBytes > 0)) {
		fail('maxRecordBytes', 'a positive number', maxRecordBytes);
	}
	const signal = options.signal;
	if (signal != null && (typeof signal !== 'object' || typeof signal.addEventListener !== 'function')) {
		fail('signal', 'an AbortSignal', signal);
	}
}

function validateFactoryOptions({ auth, retries, interceptors }) {
	if (auth != null && (typeof auth !== 'object' || typeof auth.hasKey !== 'function')) {
		fail('auth', 'a balena-auth instance', auth);
	}
	if (retries != null && typeof retries !== 'number') {
		fail('retries', 'a number', retries);
	}
	if (interceptors != null && !Array.isArray(interceptors)) {
		fail('interceptors', 'an array', interceptors);
	}
}

module.exports = { validateOptions, validateFactoryOptions };
