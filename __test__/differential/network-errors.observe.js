'use strict';
// What a caller observes when a request fails: for send(), the rejection;
// for stream(), the rejection of stream() itself ("start") or the error the
// stream emits while its body is read ("body"). Used in-process by
// network-errors.spec.js and, for scenarios that need process-wide settings,
// by network-errors.child.js.
const { bothClients, describeError } = require('../helpers/upstream');

// Fields beyond describeError's that Node's system and TLS errors carry.
const EXTRA_FIELDS = ['hostname', 'host', 'reason', 'library'];

function describe(err) {
	const described = describeError(err);
	if (err !== null && typeof err === 'object') {
		for (const key of EXTRA_FIELDS) {
			if (err[key] !== undefined) {
				described[key] = err[key];
			}
		}
		// What JSON.stringify(err) and Object.keys show, in order;
		// requestOptions is send()'s own matter (see the spec).
		described.keys = Object.keys(err).filter((key) => key !== 'requestOptions');
		if (described.cause && err.cause !== null && typeof err.cause === 'object') {
			described.cause = describe(err.cause);
		}
	}
	return described;
}

const withTimeout = (promise, ms, what) => {
	let timer;
	return Promise.race([
		promise,
		new Promise((resolve) => {
			timer = setTimeout(() => resolve({ hang: `${what} neither ended nor failed within ${ms} ms` }), ms);
		}),
	]).finally(() => clearTimeout(timer));
};

async function drain(stream) {
	for await (const chunk of stream) {
		void chunk;
	}
}

/** One call through one client: `{ phase, error }` or `{ phase: 'ok' }`. */
async function observe(request, mode, url, options = () => ({}), hangAfterMs = 5000) {
	const call = async () => {
		if (mode === 'send') {
			try {
				await request.send({ url, ...options() });
				return { phase: 'ok' };
			} catch (err) {
				return { phase: 'request', error: describe(err) };
			}
		}
		let stream;
		try {
			stream = await request.stream({ url, ...options() });
		} catch (err) {
			return { phase: 'start', error: describe(err) };
		}
		try {
			await drain(stream);
			return { phase: 'ok' };
		} catch (err) {
			return { phase: 'body', error: describe(err) };
		}
	};
	return withTimeout(call(), hangAfterMs, `${mode}()`);
}

/**
 * The same call through upstream and this package, send() and stream():
 * `{ upstream: { send, stream }, native: { send, stream } }`. `options` is a
 * function giving fresh options (an AbortSignal is per call).
 */
async function observeBoth(url, options = () => ({}), modes = ['send', 'stream']) {
	const result = {};
	for (const [name, request] of bothClients()) {
		result[name] = {};
		for (const mode of modes) {
			result[name][mode] = await observe(request, mode, url, options);
		}
	}
	return result;
}

module.exports = { observe, observeBoth, describe };
