#!/usr/bin/env node
// Builds the addon (cargo, release profile: stripped) and writes it to
// `<binaryName>.<platform>.node` in the package's root, the "local build"
// lib/binding.js loads first. This one file is what the tests, the demo and
// `npm run package` use: a CI run builds the addon once.
//
//   node scripts/build.js                     for this system
//   node scripts/build.js --target <name>     a platform name (linux-arm64-gnu)
//                                             or its Rust triple, for CI runners
//   node scripts/build.js --if-missing        skip when the file is already there
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { TARGETS, platformName } = require('../lib/platform');
const { cargoFor, GLIBC } = require('./cargo');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');

function targetArg(argv) {
	const i = argv.indexOf('--target');
	if (i === -1) return platformName();
	const wanted = argv[i + 1];
	if (Object.hasOwn(TARGETS, wanted)) return wanted;
	const byTriple = Object.keys(TARGETS).find((name) => TARGETS[name] === wanted);
	if (byTriple) return byTriple;
	throw new Error(`--target ${wanted}: not one of ${Object.entries(TARGETS).map((e) => e.join(' / ')).join(', ')}`);
}

/** Builds for `platform` unless `ifMissing` and the file exists; returns its path. */
function build(platform = platformName(), { ifMissing = false } = {}) {
	const output = path.join(root, `${pkg.napi.binaryName}.${platform}.node`);
	if (ifMissing && fs.existsSync(output)) return output;

	const cargo = cargoFor('build', platform);
	if (cargo.triple?.includes('-linux-gnu') && !cargo.zig) {
		console.error(
			`build: cargo-zigbuild not found, so this addon links against this machine's glibc and may not load ` +
				`on older systems. For a portable build (glibc ${GLIBC}+): pip install ziglang cargo-zigbuild`,
		);
	}
	execFileSync(cargo.command, cargo.args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...cargo.env } });

	const system = !cargo.triple ? process.platform : cargo.triple.includes('-apple-') ? 'darwin' : cargo.triple.includes('-windows-') ? 'win32' : 'linux';
	const crate = 'balena_request_native';
	const libName = { darwin: `lib${crate}.dylib`, win32: `${crate}.dll` }[system] ?? `lib${crate}.so`;
	const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
	// Copy to a temporary name first: a running process may have the old file mapped.
	fs.copyFileSync(path.join(targetDir, cargo.outDir, libName), `${output}.tmp`);
	fs.renameSync(`${output}.tmp`, output);
	console.error(`built ${path.relative(process.cwd(), output)}${cargo.zig && cargo.args.includes(`${cargo.triple}.${GLIBC}`) ? ` (cargo-zigbuild, glibc ${GLIBC}+)` : ''}`);
	return output;
}

if (require.main === module) {
	build(targetArg(process.argv), { ifMissing: process.argv.includes('--if-missing') });
}

module.exports = { build, targetArg };
