#!/usr/bin/env node
// Writes README's list of deliberate differences from the one list the
// differential tests allow (__test__/differential/allowed-differences.js),
// between the `differences` markers. `--check` only reports whether README
// is up to date (exit 1 if not).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const readmePath = path.join(root, 'README.md');
const allowed = require(path.join(root, '__test__', 'differential', 'allowed-differences.js'));

const START = '<!-- differences:start (scripts/readme-differences.js writes this list) -->';
const END = '<!-- differences:end -->';

function renderList() {
	const items = Object.values(allowed).map(({ what, why }) => `- ${what}. *Why:* ${why}.`);
	return `${START}\n${items.join('\n')}\n${END}`;
}

function updated(readme) {
	const start = readme.indexOf(START);
	const end = readme.indexOf(END);
	if (start < 0 || end < start) {
		throw new Error(`README.md has no ${START} ... ${END} section`);
	}
	return readme.slice(0, start) + renderList() + readme.slice(end + END.length);
}

const readme = fs.readFileSync(readmePath, 'utf8');
const next = updated(readme);
if (process.argv.includes('--check')) {
	if (next !== readme) {
		console.error('README.md differs from allowed-differences.js: run node scripts/readme-differences.js');
		process.exit(1);
	}
} else if (next !== readme) {
	fs.writeFileSync(readmePath, next);
}
