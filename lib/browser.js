'use strict';
// What bundlers building for a browser get (the `browser` export condition):
// this package is a Node.js native addon and cannot run there, and failing
// here with directions beats a bundler error about a `.node` file.
throw new Error(
	'balena-request-native runs on Node.js only (it is a native addon) and has no browser build; ' +
		'balena-request itself serves the browser. Apply the "balena-request": "npm:balena-request-native@^1" ' +
		'override only where you build for Node.js, or make your browser bundle resolve "balena-request" to the ' +
		'original package (install it under another name, e.g. "balena-request-browser": "npm:balena-request@^14", ' +
		'and alias it in the bundler).',
);
