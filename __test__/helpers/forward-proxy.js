'use strict';
// A real forward proxy on 127.0.0.1 for the proxy tests: `CONNECT host:port`
// tunnels for https targets, absolute-form requests (`GET http://host/...`)
// for http targets. It records what it was asked, and only ever connects to
// loopback addresses.
const http = require('http');
const net = require('net');

const isLoopback = (host) => /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]';

/**
 * `auth`: "user:pass" the proxy requires (407 otherwise).
 * `connectStatus`: answer every CONNECT with this status instead of a tunnel.
 * `reset`: destroy every client connection as soon as a request arrives.
 */
async function startForwardProxy({ auth = null, connectStatus = null, reset = false } = {}) {
	const seen = [];
	const expected = auth && `Basic ${Buffer.from(auth).toString('base64')}`;
	const sockets = new Set();
	const server = http.createServer((req, res) => {
		seen.push({ kind: 'forward', line: `${req.method} ${req.url}`, auth: req.headers['proxy-authorization'] });
		if (reset) {
			req.socket.destroy();
			return;
		}
		if (expected && req.headers['proxy-authorization'] !== expected) {
			res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' });
			res.end();
			return;
		}
		const target = new URL(req.url);
		if (!isLoopback(target.hostname)) {
			res.writeHead(502);
			res.end('the test proxy only reaches loopback');
			return;
		}
		const headers = { ...req.headers };
		delete headers['proxy-authorization'];
		delete headers['proxy-connection'];
		const outgoing = http.request(
			{ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers },
			(answer) => {
				res.writeHead(answer.statusCode, answer.headers);
				answer.pipe(res);
			},
		);
		outgoing.on('error', () => {
			res.writeHead(502);
			res.end();
		});
		req.pipe(outgoing);
	});
	server.on('connect', (req, client, head) => {
		seen.push({ kind: 'connect', line: `${req.method} ${req.url}`, auth: req.headers['proxy-authorization'] });
		client.on('error', () => {});
		if (reset) {
			client.destroy();
			return;
		}
		if (connectStatus) {
			client.end(`HTTP/1.1 ${connectStatus} Refused by test proxy\r\n\r\n`);
			return;
		}
		if (expected && req.headers['proxy-authorization'] !== expected) {
			client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
			return;
		}
		const colon = req.url.lastIndexOf(':');
		const host = req.url.slice(0, colon);
		if (!isLoopback(host)) {
			client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
			return;
		}
		const target = net.connect(Number(req.url.slice(colon + 1)), host.replace(/^\[|\]$/g, ''), () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			target.write(head);
			target.pipe(client);
			client.pipe(target);
		});
		target.on('error', () => client.destroy());
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		seen,
		close() {
			for (const socket of sockets) socket.destroy();
			return new Promise((resolve) => server.close(resolve));
		},
	};
}

module.exports = { startForwardProxy };
