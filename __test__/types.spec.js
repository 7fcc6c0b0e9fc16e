'use strict';
// index.d.ts and utils.d.ts: checked with the TypeScript compiler (tsc and
// its API, no emit) against balena-request 14.2.3's declarations and against
// balena-sdk 23's own .d.ts files, which import types from balena-request.
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const consumerDir = path.join(__dirname, 'fixtures', 'ts-consumer');
const tsc = require.resolve('typescript/bin/tsc');

// Runs tsc; resolves with its diagnostics, one entry per error (a message's
// indented continuation lines stay with it), and the raw output.
function runTsc(args, cwd) {
	return new Promise((resolve) => {
		execFile(process.execPath, [tsc, '--pretty', 'false', ...args], { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
			const output = `${stdout}${stderr}`;
			const diagnostics = [];
			for (const line of output.split('\n')) {
				const match = /^(.+)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
				if (match) {
					const [, file, row, column, code, message] = match;
					diagnostics.push({ file, line: Number(row), column: Number(column), code, message });
				} else if (line.trim() !== '' && diagnostics.length > 0) {
					diagnostics[diagnostics.length - 1].message += `\n${line}`;
				} else if (line.trim() !== '') {
					diagnostics.push({ file: '', line: 0, column: 0, code: '', message: line });
				}
			}
			resolve({ diagnostics, output, exitCode: err ? err.code : 0 });
		});
	});
}

it('types-check.ts compiles against index.d.ts and utils.d.ts', async () => {
	const file = path.join(__dirname, 'types-check.ts');
	const { output } = await runTsc(['--noEmit', '--strict', '--esModuleInterop', '--types', 'node', file], root);
	expect(output).toBe('');
}, 60000);

describe('declared names', () => {
	// The names each declaration file exports, and which of them are values.
	let declared;
	beforeAll(() => {
		const files = {
			upstream: require.resolve('balena-request/build/request.d.ts'),
			index: path.join(root, 'index.d.ts'),
			utils: path.join(root, 'utils.d.ts'),
		};
		const program = ts.createProgram(Object.values(files), {
			strict: true,
			noEmit: true,
			esModuleInterop: true,
			types: ['node'],
			module: ts.ModuleKind.CommonJS,
			moduleResolution: ts.ModuleResolutionKind.Node10,
		});
		const checker = program.getTypeChecker();
		declared = {};
		for (const [key, file] of Object.entries(files)) {
			const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
			const isValue = (symbol) => {
				const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
				return (target.flags & ts.SymbolFlags.Value) !== 0;
			};
			declared[key] = {
				all: exports.map((s) => s.name).sort(),
				values: exports.filter(isValue).map((s) => s.name).sort(),
			};
		}
	}, 60000);

	it('index.d.ts exports every name balena-request 14.2.3 declares (BalenaRequest among them)', () => {
		expect(declared.upstream.all).toContain('BalenaRequest');
		expect(declared.upstream.all.filter((name) => !declared.index.all.includes(name))).toEqual([]);
	});

	it("index.d.ts declares exactly the values index.js exports (the default export's properties)", () => {
		expect(declared.index.values).toEqual(Object.keys(require('..')).sort());
	});

	it("utils.d.ts declares exactly utils.js's exports", () => {
		expect(declared.utils.values).toEqual(declared.utils.all);
		expect(declared.utils.all).toEqual(Object.keys(require('../utils')).sort());
	});
});

describe('a balena-sdk 23 project with balena-request-native as its balena-request (strict, no skipLibCheck)', () => {
	let result;
	beforeAll(async () => {
		result = await runTsc(['-p', 'tsconfig.json'], consumerDir);
	}, 60000);

	it('type-checks the SDK user and the parity checks against upstream', () => {
		const elsewhere = result.diagnostics.filter((d) => d.file !== 'sdk-request-not-any.ts');
		expect(elsewhere).toEqual([]);
	});

	it('types sdk.request: assigning sdk.request.send to a number fails, at that line only', () => {
		const file = 'sdk-request-not-any.ts';
		const lines = fs.readFileSync(path.join(consumerDir, file), 'utf8').split('\n');
		const row = lines.findIndex((line) => line.includes('// expected error')) + 1;
		expect(row).toBeGreaterThan(0);
		expect(result.diagnostics.filter((d) => d.file === file)).toEqual([
			{
				file,
				line: row,
				column: lines[row - 1].indexOf('send') + 1,
				code: 'TS2322',
				message: "Type '<T = any>(options: BalenaRequestOptions) => Promise<BalenaRequestResponse<T>>' is not assignable to type 'number'.",
			},
		]);
		expect(result.exitCode).not.toBe(0);
	});
});

it('an ES module project (nodenext) imports the package by name, default and named, and its utils subpaths', async () => {
	const { diagnostics } = await runTsc(['-p', 'tsconfig.esm.json'], consumerDir);
	expect(diagnostics).toEqual([]);
}, 60000);
