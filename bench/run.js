#!/usr/bin/env node
'use strict';
// The benchmark: `npm run bench` (add `-- --quick` for a short run, or
// `-- --only send-small,stream-gzip` for some scenarios). Starts the Rust
// server pinned to core 0, runs every client in its own Node process pinned
// to core 1, repeats each run, and prints medians with the ratios to
// balena-request and to undici, then issue 12's targets (targets.js).
// `BENCH_JSON=<file>` also writes the medians and the targets as JSON.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { TLS_CLIENTS, clientEnv, servedProtocol, rowLabel } = require('./tls');
const { evaluateTargets, formatTargets } = require('./targets');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;
const repeats = quick ? 1 : 3;
const root = path.join(__dirname, '..');
const CLIENTS = ['native', 'balena-request', 'undici', 'fetch'];

const hasTaskset = (() => {
	try {
		execFileSync('taskset', ['-c', '0', 'true']);
		return require('os').cpus().length > 1;
	} catch {
		return false;
	}
})();
const pinned = (core, cmd, cmdArgs) => (hasTaskset ? ['taskset', ['-c', String(core), cmd, ...cmdArgs]] : [cmd, cmdArgs]);

// Every send scenario, quick mode included: at least 2,000 warm-up requests,
// then a measured window of at least 2 s (a short run mostly measures JIT
// warm-up, which flatters a native client).
const SEND_WINDOW = { warmup: quick ? 2000 : 5000, seconds: quick ? 2 : 3 };
// The inflate ceiling's decode loop runs this long (medians like the rest).
const CEILING_SECONDS = 2;
const CEILING = 'inflate-ceiling';
const CEILING_LABEL = 'inflate ceiling (our decoder, one core)';

const SCENARIOS = [
	...[1, 16, 64].map((c) => ({ name: `send-small c${c}`, id: 'send-small', kind: 'send-small', params: { ...SEND_WINDOW, concurrency: c }, metrics: ['rps', 'p50', 'p99', 'cpuPerReq'] })),
	{ name: 'send-post c16', id: 'send-post', kind: 'send-post', params: { ...SEND_WINDOW, concurrency: 16, post: true }, metrics: ['rps', 'cpuPerReq'] },
	{ name: 'send-policies c64', id: 'send-policies', kind: 'send-policies', clients: ['native', 'native-policies'], params: { ...SEND_WINDOW, concurrency: 64, quietStderr: true }, metrics: ['rps', 'cpuPerReq'] },
	{ name: 'send-hooks c64', id: 'send-hooks', kind: 'send-hooks', clients: ['native', 'balena-request'], params: { ...SEND_WINDOW, concurrency: 64 }, metrics: ['rps', 'cpuPerReq'] },
	// send-small c64 over HTTPS (see tls.js); each row names the protocol its client got.
	{ name: 'send-small-tls c64', id: 'send-small-tls', kind: 'send-small', tls: true, clients: TLS_CLIENTS, params: { ...SEND_WINDOW, concurrency: 64, checkProtocol: true }, metrics: ['rps', 'p50', 'p99', 'cpuPerReq'] },
	{ name: 'stream-plain discard', id: 'stream-plain', kind: 'stream', params: { mib: quick ? 256 : 1024, sink: 'discard' }, metrics: ['MBs', 'peakRssMB', 'cpuSeconds'] },
	{ name: 'stream-plain file', id: 'stream-plain', kind: 'stream', params: { mib: quick ? 256 : 1024, sink: 'file' }, metrics: ['MBs', 'peakRssMB', 'cpuSeconds'] },
	// `ceiling`: also runs our decoder alone on the same body (ceiling.js);
	// issue 12 wants the OS-image download at 0.9x of it or more.
	{ name: 'stream-gzip (OS image)', id: 'stream-gzip', kind: 'stream', ceiling: true, ceilingTarget: 0.9, params: { mib: quick ? 256 : 1024, gzip: 'image', sink: 'discard' }, metrics: ['MBs', 'cpuSeconds', 'loopP99ms'] },
	{ name: 'stream-gzip-dense', id: 'stream-gzip-dense', kind: 'stream', ceiling: true, params: { mib: quick ? 256 : 1024, gzip: 'dense', sink: 'discard' }, metrics: ['MBs', 'cpuSeconds', 'loopP99ms'] },
	{ name: 'slow-consumer 50MB/s', id: 'slow-consumer', kind: 'stream', params: { mib: quick ? 64 : 512, sink: 'discard', rateMBs: 50 }, metrics: ['rssGrowthMB'] },
	{ name: 'event-loop (gzip-dense)', id: 'event-loop', kind: 'stream', params: { mib: quick ? 128 : 512, gzip: 'dense', sink: 'discard' }, metrics: ['loopP99ms'] },
].filter((s) => !only || only.includes(s.id));

function startServer() {
	// bench/server is a cargo workspace of its own (the npm package does not ship it).
	execFileSync('cargo', ['build', '--release', '-q', '--manifest-path', path.join(root, 'bench', 'server', 'Cargo.toml'), '--target-dir', path.join(root, 'target')], { cwd: root, stdio: 'inherit' });
	// The server builds its OS-image-like body from node's own executable.
	const [cmd, cmdArgs] = pinned(0, path.join(root, 'target', 'release', 'bench-server'), [process.execPath]);
	const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
	return new Promise((resolve, reject) => {
		let text = '';
		child.stdout.on('data', (data) => {
			text += data;
			if (!text.includes('\n')) return;
			// `listening <port> tls <port> ca <CA PEM file>`
			const ready = /^listening (\d+) tls (\d+) ca (.+)$/m.exec(text);
			if (!ready) return reject(new Error(text));
			resolve({ child, base: `http://127.0.0.1:${ready[1]}`, tlsBase: `https://127.0.0.1:${ready[2]}`, caPath: ready[3] });
		});
		child.once('error', reject);
		child.once('exit', (code) => reject(new Error(`bench-server exited (${code}) before it was ready`)));
	});
}

function runClient(client, kind, params, env = process.env) {
	const [cmd, cmdArgs] = pinned(1, process.execPath, [path.join(__dirname, 'client.js'), client, kind === 'stream' ? 'stream' : kind, JSON.stringify(params)]);
	// `quietStderr`: the log policy's records go to stderr, here /dev/null.
	const stderr = params.quietStderr ? 'ignore' : 'inherit';
	const out = execFileSync(cmd, cmdArgs, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', stderr], timeout: 600000 });
	return JSON.parse(out.trim().split('\n').pop());
}

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)];
};
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
// For these, lower is better: the ratio shows how many times better we are.
const LOWER_IS_BETTER = new Set(['p50', 'p99', 'cpuPerReq', 'cpuSeconds', 'rssGrowthMB', 'peakRssMB', 'loopP99ms']);

/** Prints one scenario's table: a row per client, then the ceiling row if it ran. */
function printScenario(scenario, clients, med, labels) {
	const ceiling = med[CEILING];
	const width = Math.max(16, ...Object.values(labels).map((l) => l.length + 2), ceiling ? CEILING_LABEL.length + 2 : 0);
	console.log(`== ${scenario.name}`);
	console.log(['client'.padEnd(width), ...scenario.metrics.map((m) => m.padStart(11)), '  vs balena-request', '  vs undici'].join(''));
	for (const client of clients) {
		const ratio = (other) => {
			if (!med[other] || client === other) return '';
			const m = scenario.metrics[0];
			const r = LOWER_IS_BETTER.has(m) ? med[other][m] / med[client][m] : med[client][m] / med[other][m];
			return `${r.toFixed(2)}x`;
		};
		console.log([labels[client].padEnd(width), ...scenario.metrics.map((m) => fmt(med[client][m]).padStart(11)), ratio('balena-request').padStart(20), ratio('undici').padStart(11)].join(''));
	}
	if (ceiling) {
		// Only MB/s applies: no network, no event loop, one core by construction.
		console.log([CEILING_LABEL.padEnd(width), ...scenario.metrics.map((m) => (m in ceiling ? fmt(ceiling[m]) : '-').padStart(11))].join(''));
		const shares = clients.map((client) => `${client} ${(med[client].MBs / ceiling.MBs).toFixed(2)}x`);
		const target = scenario.ceilingTarget ? ` (target for native: >= ${scenario.ceilingTarget.toFixed(2)}x)` : '';
		console.log(`${scenario.id} / ceiling: ${shares.join(', ')}${target}`);
	}
	console.log('');
}

(async () => {
	const { child, base, tlsBase, caPath } = await startServer();
	const results = {};
	try {
		console.log(`balena-request-native benchmark (${quick ? 'quick, 1 run' : `medians of ${repeats} runs`}; server on core 0, each client alone on core 1${hasTaskset ? '' : ' -- taskset unavailable, not pinned'})\n`);
		for (const scenario of SCENARIOS) {
			const clients = scenario.clients ?? CLIENTS;
			const runs = Object.fromEntries(clients.map((c) => [c, []]));
			const params = scenario.tls ? { base: tlsBase, ca: caPath, ...scenario.params } : { base, ...scenario.params };
			const env = scenario.tls ? clientEnv(caPath) : process.env;
			const ceilingRuns = [];
			for (let r = 0; r < repeats; r++) {
				// Interleave clients so that drift of the machine hits all alike.
				for (const client of clients) runs[client].push(runClient(client, scenario.kind, params, env));
				if (scenario.ceiling) ceilingRuns.push(runClient(CEILING, 'inflate', { base, gzip: scenario.params.gzip, seconds: CEILING_SECONDS }));
			}
			const med = {};
			const labels = {};
			for (const client of clients) {
				med[client] = Object.fromEntries(scenario.metrics.map((m) => [m, median(runs[client].map((x) => x[m]))]));
				const protocol = servedProtocol(runs[client]);
				if (protocol) med[client].protocol = protocol;
				labels[client] = rowLabel(client, protocol);
			}
			if (scenario.ceiling) med[CEILING] = { MBs: median(ceilingRuns.map((x) => x.MBs)) };
			results[scenario.name] = med;
			printScenario(scenario, clients, med, labels);
		}
	} finally {
		child.kill();
		fs.rmSync(caPath, { force: true });
	}
	console.log('ratios compare the first metric of each row (higher is better for rps and MBs, lower for latency, CPU, memory, loop delay)\n');
	const targets = evaluateTargets(results);
	console.log(`== issue 12's targets${quick ? ' (quick run: indicative only)' : ''}`);
	console.log(formatTargets(targets));
	if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ ...results, targets }, null, 2));
})().catch((err) => {
	console.error(err);
	process.exit(1);
});
