'use strict';
// A policy written in JS (`{ name, sendRequest(request, next) }`) while the
// native chain runs it (src/pipeline/js_policy.rs). The engine asks the
// host to start it; each host answer is the next thing the policy did:
// either it called `next(request)` (the answer carries that request as it
// goes on the wire, and the result comes back with the next host call), or
// `sendRequest` settled (its response or error goes into the call's slot,
// the answer carries the response's status and headers for the native
// policies outside it). Calls of `next` are served one at a time.
const { toWire } = require('./wire');
const { isStreamBody } = require('./upload');

/** `[name, value, ...]` of a response's headers, whatever their shape. */
function flatHeaders(headers) {
	const flat = [];
	if (headers == null || typeof headers !== 'object') {
		return flat;
	}
	const entries = typeof headers.entries === 'function' && !Array.isArray(headers) ? headers.entries() : Object.entries(headers);
	for (const [name, value] of entries) {
		if (value != null) {
			flat.push(String(name), String(value));
		}
	}
	return flat;
}

/** The options object a JS policy gets: the call's options as they go out. */
function requestFor(call, view) {
	const headers = {};
	for (let i = 0; i + 1 < view.headers.length; i += 2) {
		headers[view.headers[i]] = view.headers[i + 1];
	}
	const options = { ...call.requestOptions, method: view.method, url: view.url, headers };
	if (view.baseUrl == null) {
		delete options.baseUrl;
	} else {
		options.baseUrl = view.baseUrl;
	}
	return options;
}

class PolicyStep {
	constructor(call, policy, request) {
		this.call = call;
		this.events = [];
		this.wake = undefined;
		this.pending = undefined;
		const next = (nextRequest) =>
			new Promise((resolve, reject) => this.push({ request: nextRequest, resolve, reject }));
		Promise.resolve()
			.then(() => policy.sendRequest(request, next))
			.then(
				(value) => this.push({ done: true, ok: true, value }),
				(error) => this.push({ done: true, ok: false, error }),
			);
	}

	push(event) {
		this.events.push(event);
		const wake = this.wake;
		this.wake = undefined;
		wake?.();
	}

	async event() {
		while (this.events.length === 0) {
			await new Promise((resolve) => {
				this.wake = resolve;
			});
		}
		return this.events.shift();
	}

	/** The host's answer: what the policy did next. */
	async answer() {
		const call = this.call;
		for (;;) {
			const event = await this.event();
			if (event.done) {
				if (!event.ok) {
					call.fail(event.error);
					return { ok: false, flag: false };
				}
				call.value = event.value;
				call.failed = false;
				call.error = undefined;
				const status = Number(event.value?.statusCode ?? event.value?.status);
				return {
					ok: true,
					flag: false,
					status: Number.isInteger(status) && status >= 0 ? status : undefined,
					headers: flatHeaders(event.value?.headers),
				};
			}
			// A streamed body was read once already; the engine keeps it.
			const request = isStreamBody(event.request?.body) ? { ...event.request, body: undefined } : event.request;
			let wire;
			try {
				wire = await toWire(request, call.stream, undefined);
			} catch (err) {
				event.reject(err);
				continue;
			}
			this.pending = event;
			return { ok: true, flag: true, wire };
		}
	}

	/** The result of the `next(request)` asked for last (a SettledJs). */
	resolveNext(settled) {
		const event = this.pending;
		this.pending = undefined;
		if (event === undefined) {
			return;
		}
		try {
			event.resolve(this.call.settle(settled));
		} catch (err) {
			event.reject(err);
		}
	}
}

module.exports = { PolicyStep, requestFor };
