// Compiled with tsc (not run): the public types match balena-request's use.
import getRequestFactory = require('..');
import type { BalenaRequest, BalenaRequestOptions, BalenaRequestResponse, BalenaRequestStreamResult, Interceptor } from '..';
import * as utils from '../utils';

const request: BalenaRequest = getRequestFactory.getRequest({ retries: 1 });
const viaFactory: BalenaRequest = getRequestFactory({ debug: false });
const hook: Interceptor = { request: async (o) => o };
request.interceptors.push(hook);
const options: BalenaRequestOptions = { url: '/x', baseUrl: 'http://localhost', method: 'GET' };
const sent: Promise<BalenaRequestResponse<{ a: number }>> = request.send<{ a: number }>(options);
const streamed: Promise<BalenaRequestStreamResult> = request.stream(options);
const refreshed: Promise<string> = request.refreshToken({ baseUrl: 'http://localhost' });
const isError: boolean = new getRequestFactory.BalenaRequestError('x', 400, options) instanceof Error;
const interval: number = utils.TOKEN_REFRESH_INTERVAL;
const redacted: BalenaRequestOptions = utils.redactOptions(options);
const recorded = streamed.then(async (stream) => {
	stream.on('value', (value) => void value);
	const ids: number[] = [];
	for await (const record of stream.records!<{ id: number }>()) ids.push(record.id);
	return ids;
});
void [viaFactory, sent, streamed, refreshed, isError, interval, redacted, recorded];
