#!/usr/bin/env node
// `cargo test --release --lib` with the same command, target and environment
// as scripts/build.js, so the tests reuse the dependencies the addon build
// compiled instead of compiling them all again.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');
const { cargoFor } = require('./cargo');

const cargo = cargoFor('test');
try {
	execFileSync(cargo.command, [...cargo.args, '--quiet'], {
		cwd: path.join(__dirname, '..'),
		stdio: 'inherit',
		env: { ...process.env, ...cargo.env },
	});
} catch (err) {
	process.exit(err.status ?? 1);
}
