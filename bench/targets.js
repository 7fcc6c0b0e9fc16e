'use strict';
// Issue 12's targets, checked against one benchmark run: each with the
// measured medians, what is required and whether it is met. A target whose
// scenarios did not run (`--only`) says `not run`.
//
// `results` is run.js's: scenario name -> client -> metric -> median, plus
// `protocol` for the HTTPS rows.

const x = (v) => `${v.toFixed(2)}x`;
const n = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const withProtocol = (row, client) => (row.protocol ? `${client} ${row.protocol}` : client);

/** `native`'s `metric` over `other`'s in the same scenario, at least `min`. */
const ratioTarget = (target, scenario, metric, other, min, unit) => ({
	target,
	scenarios: [scenario],
	evaluate: (r) => {
		const ours = r[scenario].native;
		const theirs = r[scenario][other];
		const ratio = ours[metric] / theirs[metric];
		return {
			measured: `${x(ratio)} (${withProtocol(ours, 'native')} ${n(ours[metric])} vs ${withProtocol(theirs, other)} ${n(theirs[metric])} ${unit})`,
			required: `>= ${x(min)}`,
			met: ratio >= min,
		};
	},
});

/** `native`'s `metric` no more than `other`'s in the same scenario (lower is better). */
const notAboveTarget = (target, scenario, metric, other, unit) => ({
	target,
	scenarios: [scenario],
	evaluate: (r) => {
		const ours = r[scenario].native[metric];
		const theirs = r[scenario][other][metric];
		return { measured: `${n(ours)} ${unit}`, required: `<= ${n(theirs)} ${unit} (${other})`, met: ours <= theirs };
	},
});

/** `native`'s `metric` in `scenario` no more than a fixed `max`. */
const limitTarget = (target, scenario, metric, max, unit) => ({
	target,
	scenarios: [scenario],
	evaluate: (r) => {
		const ours = r[scenario].native[metric];
		return { measured: `${n(ours)} ${unit}`, required: `<= ${max} ${unit}`, met: ours <= max };
	},
});

const TARGETS = [
	ratioTarget('send-small c64 req/s, native / undici', 'send-small c64', 'rps', 'undici', 1.0, 'req/s'),
	notAboveTarget('send-small c64 client CPU per request', 'send-small c64', 'cpuPerReq', 'undici', 'µs'),
	notAboveTarget('send-small c1 p50 latency', 'send-small c1', 'p50', 'undici', 'ms'),
	ratioTarget('send-post c16 req/s, native / undici', 'send-post c16', 'rps', 'undici', 1.0, 'req/s'),
	{
		target: 'send-hooks c64 / send-small c64 req/s (native)',
		scenarios: ['send-hooks c64', 'send-small c64'],
		evaluate: (r) => {
			const hooks = r['send-hooks c64'].native.rps;
			const plain = r['send-small c64'].native.rps;
			return { measured: `${x(hooks / plain)} (${n(hooks)} vs ${n(plain)} req/s)`, required: '>= 0.75x (at most 25% below)', met: hooks / plain >= 0.75 };
		},
	},
	{
		target: 'send-small c64 with retry and log / without (native)',
		scenarios: ['send-policies c64'],
		evaluate: (r) => {
			const withPolicies = r['send-policies c64']['native-policies'].rps;
			const plain = r['send-policies c64'].native.rps;
			return {
				measured: `${x(withPolicies / plain)} (${n(withPolicies)} vs ${n(plain)} req/s)`,
				required: '>= 0.90x (at most 10% below)',
				met: withPolicies / plain >= 0.9,
			};
		},
	},
	ratioTarget('send-small-tls c64 req/s, native / undici (HTTP/1.1)', 'send-small-tls c64', 'rps', 'undici', 1.0, 'req/s'),
	ratioTarget('stream-gzip MB/s, native / inflate ceiling', 'stream-gzip (OS image)', 'MBs', 'inflate-ceiling', 0.9, 'MB/s'),
	ratioTarget('stream-gzip MB/s, native / balena-request', 'stream-gzip (OS image)', 'MBs', 'balena-request', 2.0, 'MB/s'),
	ratioTarget('stream-plain discard MB/s, native / balena-request', 'stream-plain discard', 'MBs', 'balena-request', 1.5, 'MB/s'),
	ratioTarget('stream-plain file MB/s, native / balena-request', 'stream-plain file', 'MBs', 'balena-request', 1.5, 'MB/s'),
	limitTarget('event-loop p99 during a gzip download (native)', 'event-loop (gzip-dense)', 'loopP99ms', 1, 'ms'),
	limitTarget('slow-consumer RSS growth (native)', 'slow-consumer 50MB/s', 'rssGrowthMB', 32, 'MB'),
];

/** Every target, evaluated where its scenarios ran. */
function evaluateTargets(results) {
	return TARGETS.map(({ target, scenarios, evaluate }) => {
		if (!scenarios.every((name) => results[name])) return { target, measured: '', required: '', status: 'not run' };
		const { measured, required, met } = evaluate(results);
		return { target, measured, required, status: met ? 'met' : 'NOT met' };
	});
}

function formatTargets(rows) {
	const width = (key, title) => Math.max(title.length, ...rows.map((row) => row[key].length));
	const columns = [
		['target', 'target'],
		['measured (medians)', 'measured'],
		['required', 'required'],
		['status', 'status'],
	].map(([title, key]) => ({ title, key, width: width(key, title) }));
	const line = (cells) => cells.map((cell, i) => cell.padEnd(columns[i].width)).join('  ').trimEnd();
	return [line(columns.map((c) => c.title)), ...rows.map((row) => line(columns.map((c) => row[c.key])))].join('\n');
}

module.exports = { evaluateTargets, formatTargets };
