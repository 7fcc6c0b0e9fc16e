'use strict';
// Fetches the Node 18 and 22 binaries esm-node-versions.spec.js runs the ESM
// test on: `node __test__/esm-fetch-node.js`. They come from the npm registry
// (the `node-<platform>-<arch>` packages, the binaries the `node` npm package
// installs), so no other host is needed; only `bin/node` is kept, under
// node_modules/.cache (about 90 MB and 125 MB). Not a devDependency: every
// install would pay for ~215 MB that only this test uses.
// BRN_NODE18 / BRN_NODE22 may name binaries found elsewhere instead.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const MAJORS = [18, 22];
const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'balena-request-native');

/** The `node` binary of that major version, or undefined when it is absent. */
function nodeBinary(major) {
	const candidates = [process.env[`BRN_NODE${major}`], path.join(cacheDir, `node${major}`, 'bin', 'node')];
	return candidates.find((file) => file && fs.existsSync(file));
}

function fetchNode(major) {
	const pkg = `node-${process.platform}-${process.arch}@${major}`;
	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-node-'));
	try {
		const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
		// `npm pack <name>@<major>` takes the newest release of that major.
		const [packed] = JSON.parse(execFileSync(npm, ['pack', pkg, '--json', '--pack-destination', work], { encoding: 'utf8' }));
		execFileSync('tar', ['-xzf', path.join(work, packed.filename), '-C', work, 'package/bin/node']);
		const target = path.join(cacheDir, `node${major}`, 'bin');
		fs.mkdirSync(target, { recursive: true });
		fs.copyFileSync(path.join(work, 'package', 'bin', 'node'), path.join(target, 'node'));
		fs.chmodSync(path.join(target, 'node'), 0o755);
		return `${packed.name}@${packed.version}`;
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
}

if (require.main === module) {
	for (const major of MAJORS) {
		const started = Date.now();
		const fetched = fetchNode(major);
		const version = execFileSync(nodeBinary(major), ['--version'], { encoding: 'utf8' }).trim();
		console.log(`${fetched} -> ${nodeBinary(major)} (${version}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	}
}

module.exports = { MAJORS, nodeBinary };
