'use strict';
// A real HTTP server on 127.0.0.1 that records every request it gets
// (method, raw path and query bytes, headers, body) and answers with the
// route handler given for its path, or 200 "ok".
const http = require('http');

async function startServer(routes = {}) {
	const requests = [];
	const sockets = new Set();
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', async () => {
			const record = {
				method: req.method,
				url: req.url,
				path: req.url.split('?')[0],
				headers: req.headers,
				rawHeaders: req.rawHeaders,
				body: Buffer.concat(chunks),
			};
			requests.push(record);
			const handler = routes[record.path] ?? routes['*'];
			try {
				if (handler) {
					await handler(req, res, record);
				} else {
					res.end('ok');
				}
			} catch (err) {
				res.statusCode = 599;
				res.end(String(err));
			}
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${server.address().port}`;
	return {
		url,
		server,
		requests,
		routes,
		last: () => requests[requests.length - 1],
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) {
					socket.destroy();
				}
				server.close(() => resolve());
			}),
	};
}

const json = (status, value, headers = {}) => (req, res) => {
	res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
	res.end(JSON.stringify(value));
};

const text = (status, value, headers = {}) => (req, res) => {
	res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
	res.end(value);
};

module.exports = { startServer, json, text };
