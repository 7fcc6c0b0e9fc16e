'use strict';
// Timeouts that hold: stream() honours `timeout` until the response head, as
// upstream does, and cancels the connection attempt under it; a download
// that outlives the timeout once its head has arrived is never cut.
const net = require('net');
const { startRawServer } = require('./helpers/raw-server');
const { startServer } = require('./helpers/server');
const { bothClients } = require('./helpers/upstream');

/** A TCP server that accepts and then says nothing (a stalled TLS handshake). */
async function startSilentServer() {
	const sockets = new Set();
	const closed = [];
	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('error', () => {});
		// Read (and drop) the ClientHello: a socket never read never sees its end.
		socket.resume();
		socket.on('close', () => {
			sockets.delete(socket);
			closed.push(Date.now());
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: server.address().port,
		closed,
		open: () => sockets.size,
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}

const waitFor = async (predicate, ms = 2000) => {
	const until = Date.now() + ms;
	while (!predicate() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
	return predicate();
};

describe('stream({ timeout })', () => {
	it('a stalled TLS handshake fails with "network timeout" after the timeout, as upstream, and the attempt is cancelled', async () => {
		const silent = await startSilentServer();
		try {
			for (const [name, request] of bothClients().reverse()) {
				const started = Date.now();
				const err = await request.stream({ url: `https://127.0.0.1:${silent.port}/image`, timeout: 300 }).catch((e) => e);
				const took = Date.now() - started;
				expect([name, err.constructor.name, err.message]).toEqual([name, 'Error', 'network timeout']);
				expect(took).toBeGreaterThanOrEqual(290);
				expect(took).toBeLessThan(3000);
				if (name === 'native') {
					// Ours closed its connection when the timer fired (upstream
					// leaves its own attempt open).
					expect(await waitFor(() => silent.closed.length === 1, 500)).toBe(true);
				}
			}
		} finally {
			await silent.close();
		}
	});

	it('send(): a stalled TLS handshake fails after its timeout too, and the attempt is cancelled', async () => {
		const silent = await startSilentServer();
		try {
			const request = bothClients()[1][1];
			const started = Date.now();
			const err = await request.send({ url: `https://127.0.0.1:${silent.port}/v7/device`, timeout: 300 }).catch((e) => e);
			expect(err.message).toBe('network timeout');
			expect(Date.now() - started).toBeLessThan(3000);
			expect(await waitFor(() => silent.closed.length === 1, 500)).toBe(true);
		} finally {
			await silent.close();
		}
	});

	it('a server that never answers the request: the timeout holds and the connection is closed', async () => {
		let opened = 0;
		const mute = await startRawServer(() => {
			opened++;
		});
		try {
			const request = bothClients()[1][1];
			const err = await request.stream({ url: `${mute.url}/x`, timeout: 200 }).catch((e) => e);
			expect(err.message).toBe('network timeout');
			expect(opened).toBe(1);
			expect(await waitFor(() => mute.open() === 0)).toBe(true);
		} finally {
			await mute.close();
		}
	});

	it('does not cut a download whose head arrived in time', async () => {
		const server = await startServer({
			'/slow': (req, res) => {
				res.writeHead(200, { 'Content-Length': 4 });
				res.write('ab');
				setTimeout(() => res.end('cd'), 500);
			},
		});
		try {
			for (const [name, request] of bothClients()) {
				const stream = await request.stream({ baseUrl: server.url, url: '/slow', timeout: 200 });
				const chunks = [];
				for await (const chunk of stream) chunks.push(chunk);
				expect([name, Buffer.concat(chunks).toString()]).toEqual([name, 'abcd']);
			}
		} finally {
			await server.close();
		}
	});

	it('no timeout given: stream() waits (no default), send() has 59 s', async () => {
		const mute = await startRawServer(() => {});
		try {
			const request = bothClients()[1][1];
			const options = { url: `${mute.url}/x` };
			const pending = request.stream(options);
			const outcome = await Promise.race([pending.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 400))]);
			expect(outcome).toBe('waiting');
			expect(options.timeout).toBeUndefined();
			const sendOptions = { url: `${mute.url}/y`, timeout: undefined };
			const sent = request.send(sendOptions).catch(() => {});
			expect(sendOptions.timeout).toBe(59000);
			await mute.close();
			await Promise.all([pending.catch(() => {}), sent]);
		} finally {
			await mute.close().catch(() => {});
		}
	});
});
