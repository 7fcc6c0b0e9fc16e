#!/usr/bin/env node
// Builds the addon with cargo (release) and puts it where lib/binding.js
// looks. `--if-missing` skips the build when the addon is already there, so
// `npm test` after `npm run build` does not build twice.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const target = path.join(root, 'balena_request_native.node');

if (process.argv.includes('--if-missing') && fs.existsSync(target)) {
	// Used by consumers that ship a prebuilt addon.
	process.exit(0);
}

execFileSync('cargo', ['build', '--release', '--lib'], { cwd: root, stdio: 'inherit' });

const libName = {
	darwin: 'libbalena_request_native.dylib',
	win32: 'balena_request_native.dll',
}[process.platform] || 'libbalena_request_native.so';
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
// Copy to a temporary name first: a running process may have the old file mapped.
fs.copyFileSync(path.join(targetDir, 'release', libName), target + '.tmp');
fs.renameSync(target + '.tmp', target);
console.error(`built ${path.relative(process.cwd(), target)}`);
