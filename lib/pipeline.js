'use strict';
// `request.pipeline`: Azure core-rest-pipeline's Pipeline over this
// request's policies. Policies are ordered by phase (Serialize, none,
// Deserialize, Retry, Sign) and by their before/after constraints, the
// outermost first; the order itself is computed natively
// (src/pipeline/policies/order.rs) each time the pipeline changes, so a
// duplicate name, a cycle or a bad phase throws from addPolicy and the
// pipeline stays as it was.
//
// The built-in stage `interceptors` (the request's `interceptors` array)
// is in the list, first in the Serialize phase: where balena-request runs
// its interceptors, around everything else. Policies after it run in the
// native chain on the request as it goes on the wire; JS policies before
// it wrap the whole call in JS (their `next` runs the interceptors and the
// rest); a native policy ordered before it is refused.
const { orderPolicies } = require('./binding');
const { isNativePolicy } = require('./policies');

const PHASES = ['Serialize', 'Deserialize', 'Retry', 'Sign'];

/** The built-in stage that runs `request.interceptors`. */
const INTERCEPTORS = Object.freeze({ name: 'interceptors', builtIn: true });

const isJsPolicy = (policy) => policy != null && typeof policy === 'object' && typeof policy.sendRequest === 'function';

function checkPolicy(policy) {
	if (policy == null || typeof policy !== 'object') {
		throw new TypeError(`addPolicy: a policy must be an object, got ${policy === null ? 'null' : typeof policy}`);
	}
	if (typeof policy.name !== 'string' || policy.name.length === 0) {
		throw new TypeError('addPolicy: a policy needs a non-empty string `name`');
	}
	if (!isNativePolicy(policy) && !isJsPolicy(policy)) {
		throw new TypeError(
			`addPolicy: policy "${policy.name}" is neither one of \`policies\` nor has a sendRequest(request, next) function`,
		);
	}
}

function checkOptions(options) {
	if (options == null) {
		return {};
	}
	if (typeof options !== 'object') {
		throw new TypeError(`addPolicy: options must be an object, got ${typeof options}`);
	}
	for (const key of ['phase', 'afterPhase']) {
		if (options[key] != null && !PHASES.includes(options[key])) {
			throw new TypeError(`addPolicy: ${key} must be one of ${PHASES.join(', ')}, got ${JSON.stringify(options[key])}`);
		}
	}
	for (const key of ['beforePolicies', 'afterPolicies']) {
		const names = options[key];
		if (names != null && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) {
			throw new TypeError(`addPolicy: ${key} must be an array of policy names`);
		}
	}
	return options;
}

class Pipeline {
	/**
	 * @param onChange called with the ordered policies (outermost first)
	 *   whenever they change
	 */
	constructor(onChange, entries = [{ policy: INTERCEPTORS, options: { phase: 'Serialize' } }]) {
		this.onChange = onChange;
		this.entries = entries;
		this.ordered = this.order(entries);
	}

	order(entries) {
		const indices = orderPolicies(
			entries.map(({ policy, options }) => [
				policy.name,
				options.phase,
				options.afterPhase,
				options.beforePolicies ?? [],
				options.afterPolicies ?? [],
			]),
		);
		const ordered = indices.map((i) => entries[i].policy);
		const stage = ordered.indexOf(INTERCEPTORS);
		const outside = ordered.slice(0, stage).find(isNativePolicy);
		if (outside !== undefined) {
			throw new Error(
				`addPolicy: the native policy "${outside.name}" would run outside "interceptors"; native policies act on the request as sent, so they go after it`,
			);
		}
		return ordered;
	}

	/** Azure's addPolicy: `{ phase, afterPhase, beforePolicies, afterPolicies }`. */
	addPolicy(policy, options) {
		checkPolicy(policy);
		const checked = checkOptions(options);
		if (checked.phase != null && checked.afterPhase != null) {
			throw new Error('Policies inside a phase cannot specify afterPhase.');
		}
		const entries = [...this.entries, { policy, options: { ...checked } }];
		this.ordered = this.order(entries);
		this.entries = entries;
		this.onChange(this.ordered);
	}

	/** Removes the policies with this `name` or in this `phase`; returns them. */
	removePolicy({ name, phase } = {}) {
		const removed = [];
		const entries = this.entries.filter(({ policy, options }) => {
			const match = policy !== INTERCEPTORS && ((name != null && policy.name === name) || (phase != null && options.phase === phase));
			if (match) {
				removed.push(policy);
			}
			return !match;
		});
		if (removed.length > 0) {
			this.ordered = this.order(entries);
			this.entries = entries;
			this.onChange(this.ordered);
		}
		return removed;
	}

	/** The policies, outermost first, the built-in `interceptors` included. */
	getOrderedPolicies() {
		return [...this.ordered];
	}

	/** A pipeline with the same policies, for `request.clone()`. */
	clone(onChange) {
		return new Pipeline(onChange, this.entries.map(({ policy, options }) => ({ policy, options: { ...options } })));
	}
}

module.exports = { Pipeline, INTERCEPTORS, isJsPolicy };
