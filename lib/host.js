'use strict';
// The JS end of the pipeline's threadsafe function:
// `host(callId, op, args, token)`. It runs what only JS can run (the `auth`
// object, the user's interceptors) and answers with plain data through
// `engine.reply(token, answer)`. It never throws back into Rust: an error
// goes into the call's slot and the answer says `ok: false`.
const { BalenaExpiredToken } = require('balena-errors');
const utils = require('../utils');
const { wireForCall } = require('./wire');
const { PolicyStep, requestFor } = require('./policy-step');

const OK = { ok: true };
const NOT_OK = { ok: false };

/**
 * The hooks one phase runs, read once from the live array when the phase
 * starts, as balena-request's `for (const { request, requestError } of
 * interceptors)` does: the functions themselves, so that a hook removing its
 * interceptor, or the array being replaced, changes nothing for the phase
 * under way.
 */
function phaseHooks(list, valueKey, errorKey) {
	const hooks = [];
	if (!Array.isArray(list)) {
		return hooks;
	}
	for (const interceptor of list) {
		if (interceptor == null) {
			continue;
		}
		const onValue = interceptor[valueKey];
		const onError = interceptor[errorKey];
		if (onValue != null || onError != null) {
			hooks.push({ onValue, onError });
		}
	}
	return hooks;
}

/** Whether a phase has hooks now (the call starts without crossing if not). */
const hasPhaseHooks = (list, valueKey, errorKey) =>
	Array.isArray(list) && list.some((i) => i != null && (i[valueKey] != null || i[errorKey] != null));

/**
 * @param ctx `{ auth, calls, interceptors(), refreshToken, reply(token, answer) }`
 *   of one factory instance
 */
function createHost(ctx) {
	// Each reply says in `flag` whether another hook of the phase follows.
	async function requestHook(call, { position, failure, patch }) {
		if (failure) {
			call.fail(call.failureError(failure));
		}
		call.applyPatch(patch);
		if (position === 0) {
			call.requestHooks = phaseHooks(ctx.interceptors(), 'request', 'requestError');
		}
		const hooks = call.requestHooks;
		const hook = hooks[position];
		if (hook !== undefined) {
			await call.then(hook.onValue, hook.onError);
		}
		if (position + 1 < hooks.length) {
			return { ok: !call.failed, flag: true };
		}
		if (call.failed) {
			return NOT_OK;
		}
		call.requestOptions = call.value;
		return { ok: true, wire: await wireForCall(call, call.value) };
	}

	async function responseHook(call, { position, settled }) {
		if (settled) {
			call.disarm();
			try {
				call.value = call.settle(settled);
				call.failed = false;
			} catch (err) {
				call.fail(err);
			}
			call.responseHooks = phaseHooks(ctx.interceptors(), 'response', 'responseError').reverse();
		}
		const hooks = call.responseHooks;
		const hook = hooks[position];
		if (hook !== undefined) {
			await call.then(hook.onValue, hook.onError);
		}
		return { ok: !call.failed, flag: position + 1 < hooks.length };
	}

	async function answer(id, op, args) {
		const call = ctx.calls.get(id);
		if (call === undefined) {
			return NOT_OK;
		}
		try {
			switch (op) {
				case 'authorize': {
					if (args.checkRefresh && (await utils.shouldRefreshKey(ctx.auth))) {
						return { ok: true, flag: true };
					}
					const header = await utils.getAuthorizationHeader(ctx.auth);
					return header == null ? OK : { ok: true, text: String(header) };
				}
				case 'refreshToken':
					await ctx.refreshToken({ baseUrl: args.baseUrl });
					return OK;
				case 'isExpired':
					return { ok: true, flag: Boolean(await ctx.auth.isExpired()) };
				case 'expiredToken':
					call.fail(new BalenaExpiredToken(await ctx.auth.getKey()));
					return NOT_OK;
				case 'requestHook':
					return await requestHook(call, args);
				case 'responseHook':
					return await responseHook(call, args);
				case 'policy': {
					// A JS policy of the pipeline, started or going on.
					let step;
					if (args.request != null) {
						step = new PolicyStep(call, call.jsSteps[args.position], requestFor(call, args.request));
						call.policySteps ??= new Map();
						call.policySteps.set(args.position, step);
					} else {
						step = call.policySteps?.get(args.position);
						step.resolveNext(args.settled);
					}
					return await step.answer();
				}
				default:
					throw new Error(`balena-request-native: unknown host operation ${op}`);
			}
		} catch (err) {
			call.fail(err);
			return NOT_OK;
		}
	}

	return function host(id, op, args, token) {
		answer(id, op, args).then(
			(reply) => ctx.reply(token, reply),
			// answer() catches everything; this is for a reply that fails to convert.
			() => ctx.reply(token, NOT_OK),
		);
	};
}

module.exports = { createHost, hasPhaseHooks };
