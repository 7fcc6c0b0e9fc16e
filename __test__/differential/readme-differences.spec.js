'use strict';
// README's list of deliberate differences and the list the differential
// tests allow are the same list: every allowed difference is in README, in
// the same words.
const fs = require('fs');
const path = require('path');
const allowed = require('./allowed-differences');

const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
// Markdown may wrap a sentence over lines; compare with runs of whitespace as one space.
const flat = (text) => text.replace(/\s+/g, ' ');

describe('README and the allowed differences', () => {
	it.each(Object.entries(allowed))('README states %s, with its reason', (id, { what, why }) => {
		expect(flat(readme)).toContain(flat(what));
		expect(flat(readme)).toContain(flat(why));
	});

	it('is the list scripts/readme-differences.js writes', () => {
		const { status, stderr } = require('child_process').spawnSync(
			process.execPath,
			[path.join(__dirname, '..', '..', 'scripts', 'readme-differences.js'), '--check'],
			{ encoding: 'utf8' },
		);
		expect(stderr).toBe('');
		expect(status).toBe(0);
	});

	it('points at nothing outside the repository', () => {
		expect(readme).not.toMatch(/\]\(\.\.\//);
		expect(readme).not.toMatch(/`\.\.\/shared/);
	});
});
