'use strict';
// The JS end of the pipeline's threadsafe function:
// `host(callId, op, args, token)`. It runs what only JS can run (the `auth`
// object, the user's interceptors) and answers with plain data through
// `engine.reply(token, answer)`. It never throws back into Rust: an error
// goes into the call's slot and the answer says `ok: false`.
const { BalenaExpiredToken } = require('balena-errors');
const utils = require('../utils');
const { wireForCall } = require('./wire');

const OK = { ok: true };
const NOT_OK = { ok: false };

/**
 * @param ctx `{ auth, calls, interceptors(), refreshToken, reply(token, answer) }`
 *   of one factory instance
 */
function createHost(ctx) {
	const interceptorAt = (index) => {
		const list = ctx.interceptors();
		return (Array.isArray(list) && list[index]) || {};
	};

	async function requestHook(call, { index, failure, patch, last }) {
		if (failure) {
			call.fail(call.failureError(failure));
		}
		call.applyPatch(patch);
		const interceptor = interceptorAt(index);
		await call.then(interceptor.request, interceptor.requestError);
		if (!last || call.failed) {
			return { ok: !call.failed };
		}
		call.requestOptions = call.value;
		return { ok: true, wire: await wireForCall(call, call.value) };
	}

	async function responseHook(call, { index, settled }) {
		if (settled) {
			call.disarm();
			try {
				call.value = call.settle(settled);
				call.failed = false;
			} catch (err) {
				call.fail(err);
			}
		}
		const interceptor = interceptorAt(index);
		await call.then(interceptor.response, interceptor.responseError);
		return { ok: !call.failed };
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

module.exports = { createHost };
