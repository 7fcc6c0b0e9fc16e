'use strict';
// balena-request-native: the JS face. A drop-in for `balena-request`: the
// same factory, the same errors, the same request/response shapes, with the
// request pipeline and the HTTP engine running natively (see src/).
const {
	BalenaRequestError,
	BalenaExpiredToken,
	BalenaInvalidParameterError,
} = require('balena-errors');
const { Engine } = require('./lib/binding');
const { Dispatcher } = require('./lib/dispatch');
const { CALL_INIT } = require('./lib/boundary');
const utils = require('./utils');
const { Call } = require('./lib/call');
const { createHost, hasPhaseHooks } = require('./lib/host');
const { wireForCall } = require('./lib/wire');
const { forward: forwardRequest } = require('./lib/forward');
const { validateOptions, validateFactoryOptions } = require('./lib/validate');
const { policies, NATIVE, isNativePolicy } = require('./lib/policies');
const { Pipeline, INTERCEPTORS } = require('./lib/pipeline');

function prepareDefaults(options, retries) {
	const prepared = {
		method: 'GET',
		json: true,
		strictSSL: true,
		headers: {},
		sendToken: true,
		refreshToken: true,
		retries,
		...options,
	};
	// Our own copy: the Authorization header is added to it, not to the caller's.
	const headers = prepared.headers;
	prepared.headers =
		typeof Headers !== 'undefined' && headers instanceof Headers
			? Object.fromEntries(headers.entries())
			: { ...headers };
	if (prepared.uri) {
		prepared.url = prepared.uri;
		delete prepared.uri;
	}
	return prepared;
}

/**
 * Creates a request instance: `{ send, stream, interceptors, refreshToken,
 * forward, pipeline, clone }`.
 */
function getRequest(factoryOptions = {}) {
	validateFactoryOptions(factoryOptions);
	return createRequest(factoryOptions, undefined, undefined);
}

/**
 * @param parent the request this one is a clone of (its connection pool is
 *   shared), or undefined
 * @param parentPipeline its pipeline, copied
 */
function createRequest(factoryOptions, parent, parentPipeline) {
	const { auth, debug = false, retries = 0, interceptors = [] } = factoryOptions;
	const calls = new Map();
	let nextId = 1;
	const debugRequest = debug ? (options, response) => utils.debugRequest(options, response) : () => {};

	const self = { send, stream, interceptors, refreshToken, forward, clone };
	const engine = new Dispatcher(
		Engine,
		createHost({
			auth,
			calls,
			interceptors: () => self.interceptors,
			refreshToken,
			reply: (token, answer) => engine.reply(token, answer),
		}),
		parent,
	);
	// The policies after the interceptors go to the engine, in order,
	// whenever they change (JS ones by their index in `inner`); JS ones
	// before the interceptors wrap the call here (`outer`). Each call runs
	// with the lists current when it starts.
	let outer = [];
	let inner = [];
	const usePolicies = (ordered) => {
		const stage = ordered.indexOf(INTERCEPTORS);
		outer = ordered.slice(0, stage);
		inner = ordered.slice(stage + 1);
		engine.setPolicies(
			inner.map((p) => [p.name, isNativePolicy(p) ? p[NATIVE].options : undefined]),
			inner.map((p) => (isNativePolicy(p) ? p[NATIVE].logger : undefined)),
		);
	};
	self.pipeline = parentPipeline === undefined ? new Pipeline(usePolicies) : parentPipeline.clone(usePolicies);
	if (parentPipeline !== undefined) {
		usePolicies(self.pipeline.getOrderedPolicies());
	}

	/**
	 * An independent request instance: its own pipeline and interceptors
	 * array (copies of this one's), the same auth and connection pool.
	 */
	function clone() {
		return createRequest(
			{ auth, debug, retries, interceptors: [...(Array.isArray(self.interceptors) ? self.interceptors : [])] },
			engine,
			self.pipeline,
		);
	}

	/** A call through the JS policies outside the interceptors, if any. */
	function run(callerOptions, isStream) {
		if (outer.length === 0) {
			return runCall(callerOptions, isStream);
		}
		const policies = outer;
		const through = (i, options) =>
			i < policies.length
				? Promise.resolve().then(() => policies[i].sendRequest(options, (next) => through(i + 1, next)))
				: runCall(options, isStream);
		return through(0, callerOptions);
	}

	async function runCall(callerOptions, isStream) {
		validateOptions(callerOptions);
		const options = prepareDefaults(callerOptions, retries);
		const id = nextId;
		nextId = nextId >= 0xfffffff0 ? 1 : nextId + 1;
		const call = new Call(id, isStream, callerOptions, options, debugRequest);
		calls.set(id, call);
		let succeeded = false;
		try {
			const requestHooks = hasPhaseHooks(self.interceptors, 'request', 'requestError');
			// A request hook may add a response interceptor, which upstream's
			// response phase (snapshotted when the response arrives) runs: with
			// request hooks, the response phase always asks JS.
			const responseHooks = requestHooks || hasPhaseHooks(self.interceptors, 'response', 'responseError');
			// No hook will change the options: build the request now, and
			// cross into native code once.
			let wire = requestHooks ? undefined : wireForCall(call, options);
			if (typeof wire?.then === 'function') {
				wire = await wire;
			}
			const url = options.url;
			const init = new Array(CALL_INIT.length);
			init[CALL_INIT.stream] = isStream;
			init[CALL_INIT.url] = url == null ? undefined : String(url);
			init[CALL_INIT.baseUrl] = options.baseUrl ? String(options.baseUrl) : undefined;
			init[CALL_INIT.apiKey] = typeof options.apiKey === 'string' && options.apiKey.length > 0 ? options.apiKey : undefined;
			init[CALL_INIT.sendToken] = Boolean(options.sendToken);
			init[CALL_INIT.refreshToken] = Boolean(options.refreshToken);
			init[CALL_INIT.hasAuth] = auth != null;
			init[CALL_INIT.responseFormat] = callerOptions.responseFormat == null ? undefined : String(callerOptions.responseFormat);
			init[CALL_INIT.hasRequestHooks] = requestHooks;
			init[CALL_INIT.hasResponseHooks] = responseHooks;
			init[CALL_INIT.wire] = wire;
			// The JS policies of the list the engine gives this call (a
			// pipeline change first hands over the calls started before it).
			call.jsSteps = inner;
			const settling = engine.start(id, init);
			// Armed once the engine knows the call, so that even an already
			// aborted signal cancels it (and the failure meets the hooks).
			call.arm(engine, Number(options.timeout) || 0, options.signal);
			const settled = await settling;
			call.disarm();
			try {
				const result = call.settle(settled);
				succeeded = true;
				return result;
			} catch (err) {
				// A streamed body whose source failed aborted the request:
				// the caller gets the source's own error.
				throw call.upload?.error() ?? err;
			}
		} finally {
			call.disarm();
			call.upload?.discard(!succeeded);
			call.downloadProgress?.stop(succeeded);
			calls.delete(id);
		}
	}

	/** Performs an HTTP request; resolves with the response. */
	function send(options) {
		if (options == null) {
			options = {};
		}
		// Like balena-request: the caller's options get the default timeout.
		if (typeof options === 'object' && options.timeout == null) {
			options.timeout = 59000;
		}
		return run(options, false);
	}

	/** Streams a response body: resolves with a Readable (`progress` events, `.mime`). */
	function stream(options) {
		return run(options == null ? {} : options, true);
	}

	/**
	 * Proxies an incoming `http.IncomingMessage` to `baseUrl` + `url` and
	 * streams the reply into the `http.ServerResponse` (lib/forward.js).
	 */
	function forward(req, res, options) {
		return forwardRequest(self, req, res, options);
	}

	/** Refreshes the token with `/user/v1/refresh-token`; resolves with the new key. */
	async function refreshToken(refreshOptions) {
		if (refreshOptions == null || typeof refreshOptions !== 'object') {
			throw new TypeError(`The refreshToken options must be an object, got ${refreshOptions === null ? 'null' : typeof refreshOptions}`);
		}
		const { baseUrl } = refreshOptions;
		if (baseUrl != null && typeof baseUrl !== 'string') {
			throw new TypeError(`The baseUrl option must be a string, got ${typeof baseUrl}`);
		}
		if (auth == null) {
			throw new Error('Auth module not provided in initializer');
		}
		let response;
		try {
			response = await send({ url: '/user/v1/refresh-token', baseUrl, refreshToken: false });
		} catch (err) {
			if (err.code === 'BalenaRequestError' && err.statusCode === 401 && (await auth.isExpired())) {
				const expiredKey = await auth.getKey();
				await auth.removeKey();
				throw new BalenaExpiredToken(expiredKey);
			}
			throw err;
		}
		const refreshedKey = response.body;
		await auth.setKey(refreshedKey);
		return refreshedKey;
	}

	return self;
}

// The old factory form `require('balena-request')(options)`, and the named exports.
const factory = (options) => getRequest(options);
factory.getRequest = getRequest;
factory.BalenaRequestError = BalenaRequestError;
factory.BalenaExpiredToken = BalenaExpiredToken;
factory.BalenaInvalidParameterError = BalenaInvalidParameterError;
factory.policies = policies;
module.exports = factory;
