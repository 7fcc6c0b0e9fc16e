#!/usr/bin/env node
// The `version` lifecycle step of `npm version <new>`, after `napi version`
// gave npm/<platform>/package.json the new version: the main package names
// each platform package in optionalDependencies at that same version
// (lib/binding.js refuses any other).
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
	if (name.startsWith(`${pkg.name}-`)) pkg.optionalDependencies[name] = pkg.version;
}
fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
