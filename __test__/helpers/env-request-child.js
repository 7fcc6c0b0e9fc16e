'use strict';
// Run as a child process by tls-trust.spec.js and proxy.spec.js, so that
// environment read once per process (NODE_EXTRA_CA_CERTS, the proxy
// variables) is the one each case sets:
//   node env-request-child.js '{"clients":["native","upstream"],"url":"..."}'
// `url` may contain `{client}`, replaced by the client's name, so that the
// server can tell the two apart. Prints one JSON line: for each client,
// `{ ok, statusCode, body }` or `{ ok: false, error }` (describeError's shape).
const { upstream, native, describeError } = require('./upstream');

const { clients, url, mode = 'send' } = JSON.parse(process.argv[2]);
const factories = { upstream, native };

async function run(name) {
	const request = factories[name].getRequest({});
	try {
		const options = { url: url.replace('{client}', name) };
		if (mode === 'stream') {
			const stream = await request.stream(options);
			const chunks = [];
			for await (const chunk of stream) chunks.push(chunk);
			return { ok: true, statusCode: stream.response.statusCode, body: Buffer.concat(chunks).toString() };
		}
		const response = await request.send(options);
		return { ok: true, statusCode: response.statusCode, body: response.body };
	} catch (err) {
		return { ok: false, error: describeError(err) };
	}
}

(async () => {
	const results = {};
	for (const name of clients) {
		results[name] = await run(name);
	}
	process.stdout.write(`${JSON.stringify(results)}\n`);
})();
