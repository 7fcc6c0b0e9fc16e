'use strict';
// index.d.ts and utils.d.ts type a balena-request user's code (tsc, no emit).
const { execFileSync } = require('child_process');
const path = require('path');

it('types-check.ts compiles against index.d.ts and utils.d.ts', () => {
	const tsc = require.resolve('typescript/bin/tsc');
	const file = path.join(__dirname, 'types-check.ts');
	let output = '';
	try {
		execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--types', 'node', file], { encoding: 'utf8' });
	} catch (err) {
		output = `${err.stdout}${err.stderr}`;
	}
	expect(output).toBe('');
}, 60000);
