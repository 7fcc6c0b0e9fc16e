'use strict';
// The JS half of the engine's batched boundary (src/js/engine.rs,
// src/js/completions.rs). Calls started in the same tick cross to the
// engine together, after the tick's other work (process.nextTick runs once
// the microtasks that start more calls are done); finished calls come back
// in batches, many per wake-up of this thread under load. Each call is a
// plain JS promise: no N-API promise or threadsafe function per call.
const { SETTLED } = require('./boundary');

class Dispatcher {
	/**
	 * @param Engine the addon's Engine class
	 * @param host the host function for the pipeline's questions (lib/host.js)
	 * @param pool another Dispatcher whose connections this one shares
	 */
	constructor(Engine, host, pool) {
		/** Calls under way: id -> resolve(settled). */
		this.waiting = new Map();
		/** `[id, init, id, init, ...]` not handed over yet. */
		this.starts = [];
		/** Ids of calls in `starts` cancelled before they were handed over. */
		this.cancelled = [];
		this.flush = () => this.handOver();
		// The engine's questions come in batches too: `[callId, op, args, token, ...]`.
		const asked = (batch) => {
			for (let i = 0; i < batch.length; i += 4) {
				host(batch[i], batch[i + 1], batch[i + 2], batch[i + 3]);
			}
		};
		this.engine = new Engine(asked, (batch) => this.settled(batch), pool?.engine);
	}

	/** Starts a call; resolves with its SettledJs array. */
	start(id, init) {
		return new Promise((resolve) => {
			if (this.waiting.size === 0) {
				// Calls are under way: keep the event loop alive.
				this.engine.hold(true);
			}
			this.waiting.set(id, resolve);
			if (this.starts.length === 0) {
				process.nextTick(this.flush);
			}
			this.starts.push(id, init);
		});
	}

	handOver() {
		const starts = this.starts;
		if (starts.length === 0) {
			return;
		}
		const cancelled = this.cancelled;
		this.starts = [];
		this.cancelled = [];
		try {
			this.engine.startBatch(starts, cancelled);
		} catch (err) {
			// Only a malformed batch (a bug of ours) gets here: settle its
			// calls with the error rather than leave them waiting.
			const failure = { kind: 'host', message: String(err?.message ?? err), withOptions: false };
			const settled = new Array(SETTLED.length);
			settled[SETTLED.kind] = 1;
			settled[SETTLED.failure] = failure;
			const batch = [];
			for (let i = 0; i < starts.length; i += 2) {
				batch.push(starts[i], settled);
			}
			this.settled(batch);
		}
	}

	/** `[id, settled, id, settled, ...]` from the engine. Never throws. */
	settled(batch) {
		for (let i = 0; i < batch.length; i += 2) {
			const resolve = this.waiting.get(batch[i]);
			if (resolve !== undefined) {
				this.waiting.delete(batch[i]);
				resolve(batch[i + 1]);
			}
		}
		if (this.waiting.size === 0) {
			this.engine.hold(false);
		}
	}

	/**
	 * Cancels a call's request side. A call not handed over yet is handed
	 * over cancelled: the engine settles it without sending anything (and
	 * runs its response hooks, as for any cancelled call).
	 */
	cancel(id) {
		if (this.starts.length > 0 && this.starts.includes(id)) {
			this.cancelled.push(id);
			this.handOver();
			return;
		}
		this.engine.cancel(id);
	}

	/**
	 * The pipeline's policies (`[name, optionsJson]`, no options for a JS
	 * one) and their loggers. Calls started before go over with the list
	 * they started with.
	 */
	setPolicies(policies, loggers) {
		this.handOver();
		this.engine.setPolicies(policies, loggers);
	}

	reply(token, answer) {
		this.engine.reply(token, answer);
	}
}

module.exports = { Dispatcher };
