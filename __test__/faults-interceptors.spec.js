'use strict';
// The interceptors array changed while a call runs: each phase runs the hooks
// that were in the array when the phase started (balena-request's snapshot),
// whatever the hooks then do to the array. Checked side by side with upstream.
const { startServer, json } = require('./helpers/server');
const { bothClients, native, describeError } = require('./helpers/upstream');
const allowed = require('./differential/allowed-differences');

let server;
beforeAll(async () => {
	server = await startServer({ '/ok': json(200, { ok: true }) });
});
afterAll(() => server.close());

/**
 * Runs `scenario(request, log)` through both clients, where `log` records
 * which hooks ran; returns what each logged and how each call ended.
 */
async function both(scenario) {
	const seen = {};
	for (const [name, request] of bothClients()) {
		const log = [];
		let outcome;
		try {
			const response = await scenario(request, log);
			outcome = response && typeof response === 'object' ? { status: response.statusCode } : { value: response };
		} catch (err) {
			outcome = { error: err.message };
		}
		seen[name] = { log, outcome };
	}
	return seen;
}

const send = (request) => request.send({ baseUrl: server.url, url: '/ok' });

describe('the interceptors array changed during a call', () => {
	it('a one-shot request hook that removes itself does not make the next one be skipped', async () => {
		const seen = await both((request, log) => {
			const oneShot = {
				request(options) {
					log.push('one-shot');
					request.interceptors.splice(request.interceptors.indexOf(oneShot), 1);
					return options;
				},
			};
			request.interceptors.push(oneShot, { request: (o) => (log.push('second'), o) });
			return send(request);
		});
		expect(seen.native.log).toEqual(['one-shot', 'second']);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('a one-shot response hook that removes itself', async () => {
		const seen = await both((request, log) => {
			const oneShot = {
				response(response) {
					log.push('one-shot');
					request.interceptors.splice(request.interceptors.indexOf(oneShot), 1);
					return response;
				},
			};
			request.interceptors.push({ response: (r) => (log.push('first'), r) }, oneShot);
			return send(request);
		});
		expect(seen.native.log).toEqual(['one-shot', 'first']);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('emptying the array in a request hook: that phase goes on; the response phase reads the new array', async () => {
		const seen = await both((request, log) => {
			request.interceptors.push(
				{
					request(options) {
						log.push('empties');
						request.interceptors = [{ response: (r) => (log.push('new response hook'), r) }];
						return options;
					},
					response: (r) => (log.push('old response hook'), r),
				},
				{ request: (o) => (log.push('second request hook'), o) },
			);
			return send(request);
		});
		expect(seen.native.log).toEqual(['empties', 'second request hook', 'new response hook']);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('replacing an entry and its hook functions mid-phase', async () => {
		const seen = await both((request, log) => {
			const second = { request: (o) => (log.push('second as it was'), o) };
			request.interceptors.push(
				{
					request(options) {
						log.push('first');
						second.request = (o) => (log.push('second replaced'), o);
						request.interceptors[1] = { request: (o) => (log.push('a new entry'), o) };
						return options;
					},
				},
				second,
			);
			return send(request);
		});
		expect(seen.native.log).toEqual(['first', 'second as it was']);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('a request hook that adds a response interceptor to an array that had none', async () => {
		const seen = await both((request, log) => {
			request.interceptors.push({
				request(options) {
					log.push('request');
					request.interceptors.push({ response: (r) => (log.push('added response hook'), r) });
					return options;
				},
			});
			return send(request);
		});
		expect(seen.native.log).toEqual(['request', 'added response hook']);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('a hook that pushes another interceptor during the response phase', async () => {
		const seen = await both((request, log) => {
			request.interceptors.push({
				response(response) {
					log.push('pushes');
					request.interceptors.push({ response: (r) => (log.push('pushed'), r) });
					return response;
				},
			});
			return send(request).then(async (first) => {
				await send(request);
				return first;
			});
		});
		expect(seen.native.log).toEqual(['pushes', 'pushed', 'pushes']);
		expect(seen.native).toEqual(seen.upstream);
	});

	const returned = {
		undefined: () => undefined,
		null: () => null,
		'a number': () => 42,
		'a string': () => 'str',
		'an array': () => [],
		'a function': () => () => {},
		'a Symbol': () => Symbol('s'),
		'an empty object': () => ({}),
		'a Promise rejecting with a string': () => Promise.reject('boom'),
		'a Promise of nothing': () => Promise.resolve(),
	};

	it.each(Object.keys(returned))('a request hook returning %s: the same outcome as upstream', async (label) => {
		const seen = {};
		for (const [name, request] of bothClients()) {
			request.interceptors.push({ request: returned[label] });
			seen[name] = await send(request).then(
				(response) => ({ status: response.statusCode }),
				(err) => describeError(err),
			);
		}
		const normalize = (value) => JSON.parse(allowed.hookReturnedNothing.normalize(JSON.stringify(value)));
		expect(normalize(seen.native)).toEqual(normalize(seen.upstream));
	});

	it.each(Object.keys(returned))('a response hook returning %s: the same outcome as upstream', async (label) => {
		const seen = {};
		for (const [name, request] of bothClients()) {
			request.interceptors.push({ response: returned[label] });
			seen[name] = await send(request).then(
				(value) => ({ resolved: typeof value, same: String(value) === String(returned[label]()) }),
				(err) => describeError(err),
			);
		}
		expect(seen.native).toEqual(seen.upstream);
	});

	it('null and undefined entries are skipped (upstream fails with a TypeError)', async () => {
		expect(allowed.nullInterceptorSkipped).toBeDefined();
		const request = native.getRequest({});
		const log = [];
		request.interceptors.push(null, undefined, { request: (o) => (log.push('ran'), o) });
		const response = await send(request);
		expect(response.statusCode).toBe(200);
		expect(log).toEqual(['ran']);
		// Not run through upstream: its TypeError escapes as an uncaught
		// exception and ends the process.
	});
});
