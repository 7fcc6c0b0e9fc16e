'use strict';
// One send() or stream() call as JavaScript sees it while the native pipeline
// runs it. The call's slot (`value` or `error`, as `failed` says) holds what
// only JS can hold: the options a hook returned, the response a hook
// replaced, the error a hook threw. The pipeline asks the host (`host.js`) to
// act on the slot; this file turns the pipeline's plain results into the
// objects and errors the caller sees.
const {
	BalenaRequestError,
	BalenaInvalidParameterError,
} = require('balena-errors');
const { toHeaders, decodeBody, responseObject, contentTypeOf } = require('./response');
const { DownloadStream } = require('./readable');
const { sendNetworkError, streamRequestError, streamAborted } = require('./errors');
const { PASS_THROUGH } = require('./wire');
const { PATCH, RESPONSE, SETTLED } = require('./boundary');

const abortError = (signal) =>
	signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

/** The response array (ResponseJs) as an object with the same names. */
function rawResponse(r) {
	return {
		status: r[RESPONSE.status],
		headers: r[RESPONSE.headers],
		requestUrl: r[RESPONSE.requestUrl],
		url: r[RESPONSE.url],
		duration: r[RESPONSE.duration],
		format: r[RESPONSE.format],
		text: r[RESPONSE.text],
		data: r[RESPONSE.data],
		errorText: r[RESPONSE.errorText],
		errorUsesBody: r[RESPONSE.errorUsesBody],
		download: r[RESPONSE.download],
		errorFrom: r[RESPONSE.errorFrom],
		retryAfterMs: r[RESPONSE.retryAfterMs],
		decode: r[RESPONSE.decode],
	};
}

class Call {
	constructor(id, stream, callerOptions, options, debugRequest) {
		this.id = id;
		this.stream = stream;
		this.callerOptions = callerOptions;
		/** A `forward()` call (lib/forward.js): the reply comes back as it came. */
		this.passThrough = callerOptions != null && callerOptions[PASS_THROUGH] === true;
		/** The prepared options; preparation's patch is applied to it once. */
		this.options = options;
		/** The options after the request hooks: what a network error carries. */
		this.requestOptions = options;
		this.debugRequest = debugRequest;
		this.value = options;
		this.error = undefined;
		this.failed = false;
		this.patched = false;
		this.cancelReason = undefined;
		/** Whether the cancellation was the `timeout` (not the signal). */
		this.timedOut = false;
		/** The hooks of each phase, snapshotted by lib/host.js when it starts. */
		this.requestHooks = [];
		this.responseHooks = [];
		/** The pipeline's policies when the call started (JS ones by index). */
		this.jsSteps = [];
		/** JS policies under way, by their index (lib/policy-step.js); made when one starts. */
		this.policySteps = undefined;
		this.disarm = () => {};
	}

	fail(error) {
		this.failed = true;
		this.error = error;
	}

	/** `promise.then(onValue, onError)` on the slot. */
	async then(onValue, onError) {
		const handler = this.failed ? onError : onValue;
		if (typeof handler !== 'function') {
			return;
		}
		try {
			this.value = await handler(this.failed ? this.error : this.value);
			this.failed = false;
			this.error = undefined;
		} catch (err) {
			this.fail(err);
		}
	}

	/** `patch` is a PatchJs array (src/js/boundary.rs). */
	applyPatch(patch) {
		if (this.patched || patch == null) {
			return;
		}
		this.patched = true;
		const url = patch[PATCH.url];
		const dropBaseUrl = patch[PATCH.dropBaseUrl];
		const authorization = patch[PATCH.authorization];
		const options = this.options;
		if (url != null) {
			options.url = url;
		}
		if (dropBaseUrl) {
			delete options.baseUrl;
		}
		if (authorization != null) {
			options.headers.Authorization = authorization;
		}
	}

	/**
	 * Cancels the request side on timeout and on the AbortSignal. Like
	 * upstream, `timeout` runs until the response head (send() defaults it
	 * to 59 s; stream() has none unless given): disarmed once the call
	 * settles, so a long download is never cut by it.
	 */
	arm(engine, timeout, signal) {
		const cancel = (reason) => {
			if (this.cancelReason === undefined) {
				this.cancelReason = reason;
				engine.cancel(this.id);
			}
		};
		let clear = () => {};
		if (timeout) {
			// The global timer functions as they are now (fake timers in tests).
			const set = globalThis.setTimeout;
			const clearTimer = globalThis.clearTimeout;
			const timer = set(() => {
				this.timedOut = this.cancelReason === undefined;
				cancel(new Error('network timeout'));
			}, timeout);
			clear = () => clearTimer(timer);
		}
		let unlisten = () => {};
		if (signal != null && typeof signal.addEventListener === 'function') {
			const onAbort = () => cancel(abortError(signal));
			if (signal.aborted) {
				onAbort();
			} else {
				signal.addEventListener('abort', onAbort, { once: true });
				unlisten = () => signal.removeEventListener('abort', onAbort);
			}
		}
		this.disarm = () => {
			clear();
			unlisten();
			this.disarm = () => {};
		};
	}

	/** The JS error for a native failure. */
	failureError(failure) {
		let error;
		switch (failure.kind) {
			case 'cancelled':
				// The timer's `network timeout` in both; an AbortSignal is
				// node-fetch's own AbortError for stream(), the signal's reason
				// for send() (fetch).
				error =
					this.stream && !this.timedOut
						? streamAborted()
						: (this.cancelReason ?? new DOMException('This operation was aborted', 'AbortError'));
				break;
			case 'network':
				if (failure.net != null) {
					error = this.stream ? streamRequestError(failure.net) : sendNetworkError(failure.net);
					break;
				}
				error = new Error(failure.message);
				break;
			case 'invalidResponseFormat':
				error = new BalenaInvalidParameterError('responseFormat', failure.message);
				break;
			case 'invalidUrl':
				error = new TypeError(failure.message);
				error.code = 'ERR_INVALID_URL';
				break;
			case 'invalidRequest':
				error = new TypeError(failure.message);
				break;
			case 'policyTimeout':
				// A `timeout` policy: rest.js's timeout, as an error with a code.
				error = new Error(failure.message);
				error.code = 'ETIMEDOUT';
				break;
			case 'responseTooLarge':
				// The message names the option (maxResponseSize) and the limit.
				error = new Error(failure.message);
				error.code = 'ERR_BALENA_RESPONSE_TOO_LARGE';
				break;
			default:
				error = new Error(failure.message);
		}
		if (failure.withOptions && !this.stream && error !== null && typeof error === 'object') {
			error.requestOptions = this.requestOptions;
		}
		return error;
	}

	/**
	 * How the call (or its request side) settled, as the caller sees it.
	 * `settled` is a SettledJs array (src/js/boundary.rs); its kind: 0
	 * response, 1 failure, 2 value in the slot, 3 error in the slot.
	 */
	settle(settled) {
		this.applyPatch(settled[SETTLED.patch]);
		const failure = settled[SETTLED.failure];
		switch (settled[SETTLED.kind]) {
			case 0: {
				const raw = rawResponse(settled[SETTLED.response]);
				return this.stream ? this.streamResult(raw) : this.sendResult(raw);
			}
			case 1:
				throw this.failureError(failure);
			case 2:
				return this.value;
			default:
				throw this.error;
		}
	}

	sendResult(raw) {
		const response = responseObject(raw, this.requestOptions.headers);
		const body = decodeBody(raw, contentTypeOf(raw.headers));
		response.body = body;
		if (raw.status >= raw.errorFrom) {
			this.debugRequest(this.callerOptions, response);
			const message = raw.errorUsesBody ? body : raw.errorText;
			const error = new BalenaRequestError(message, raw.status, this.callerOptions, response.headers);
			if (raw.retryAfterMs != null) {
				// A retry policy gave up: the server asked for a longer wait.
				error.retryAfterMs = raw.retryAfterMs;
			}
			throw error;
		}
		return response;
	}

	streamResult(raw) {
		const headers = toHeaders(raw.headers);
		const response = responseObject(raw, this.requestOptions.headers, headers);
		// forward() passes every status on as it came.
		if (raw.status >= raw.errorFrom && !this.passThrough) {
			this.debugRequest(this.callerOptions, response);
			const error = new BalenaRequestError(raw.errorText, raw.status);
			if (raw.retryAfterMs != null) {
				error.retryAfterMs = raw.retryAfterMs;
			}
			throw error;
		}
		const mime = headers.get('Content-Type');
		const stream = new DownloadStream(raw.download, {
			contentType: mime,
			maxRecordBytes: this.requestOptions.maxRecordBytes,
		});
		stream.response = response;
		stream.mime = mime;
		const signal = this.options.signal;
		if (signal != null && typeof signal.addEventListener === 'function') {
			const onAbort = () => stream.destroy(streamAborted());
			signal.addEventListener('abort', onAbort, { once: true });
			stream.once('close', () => signal.removeEventListener('abort', onAbort));
		}
		return stream;
	}
}

module.exports = { Call };
