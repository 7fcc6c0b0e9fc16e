// Types of balena-request-native: the same as balena-request 14.2's.
import type BalenaAuth from 'balena-auth';
import type * as Stream from 'stream';
import type * as urlLib from 'url';
import {
	BalenaRequestError,
	BalenaExpiredToken,
	BalenaInvalidParameterError,
} from 'balena-errors';

interface BalenaRequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
	baseUrl?: string;
	uri?: string;
	url: string;
	apiKey?: string;
	sendToken?: boolean;
	refreshToken?: boolean;
	retries?: number;
	body?: any;
	json?: boolean;
	strictSSL?: boolean;
	responseFormat?: 'none' | 'blob' | 'json' | 'text';
	headers?: Record<string, string>;
	signal?: any;
	timeout?: number;
	qs?: any;
	gzip?: boolean;
	followRedirect?: boolean;
	/**
	 * send() only: the largest decoded body accepted, in bytes (default
	 * 512 MiB); a larger one fails with code ERR_BALENA_RESPONSE_TOO_LARGE.
	 * Not in balena-request.
	 */
	maxResponseSize?: number;
	/**
	 * Called while a body is sent, at most every ~100 ms and once at the
	 * end; `total` is undefined when the length is unknown. Not in
	 * balena-request. See `BalenaRequestBodySource` for streamed bodies.
	 */
	onUploadProgress?: (progress: BalenaRequestTransferProgress) => void;
	/** send() only: the same while the response body arrives. Not in balena-request. */
	onDownloadProgress?: (progress: BalenaRequestTransferProgress) => void;
	/**
	 * stream() only: when the connection fails mid-body and the response
	 * offered byte ranges with a strong ETag or a Last-Modified, ask for the
	 * rest (`Range`, `If-Range`) and carry on the same stream. On by default
	 * (`{ maxAttempts: 5 }`: consecutive attempts that bring no new byte);
	 * `false` turns it off. Not in balena-request.
	 */
	resume?: boolean | { maxAttempts?: number };
	/**
	 * stream() only: milliseconds a body may deliver nothing before it counts
	 * as a failed connection (resumed if it can be, an error otherwise).
	 * Off by default. Not in balena-request.
	 */
	idleTimeout?: number;
}

interface BalenaRequestTransferProgress {
	loadedBytes: number;
	total?: number;
}

/**
 * A streamed request body (`body` of send() and stream()): sent as it is
 * read, with backpressure. A function is called for the stream, and again
 * whenever the body must be re-sent (a 307/308 redirect); a plain stream
 * that would have to be re-sent fails the call instead.
 */
type BalenaRequestBodyChunks =
	| Stream.Readable
	| ReadableStream<Uint8Array>
	| AsyncIterable<Uint8Array | string>;
type BalenaRequestBodySource =
	| BalenaRequestBodyChunks
	| (() => BalenaRequestBodyChunks | Promise<BalenaRequestBodyChunks>);

/** `request.forward(req, res, options)`; each defaults to the incoming request's. */
interface BalenaRequestForwardOptions {
	url?: string;
	baseUrl?: string;
	method?: string;
	headers?: Record<string, string | string[] | undefined>;
	body?: BalenaRequestBodySource | string | Uint8Array;
}

interface BalenaRequestResponse<T = any> extends Omit<Response, 'body'> {
	statusCode: number;
	body: T;
	duration: number;
	request: {
		headers: BalenaRequestOptions['headers'];
		uri: urlLib.UrlWithStringQuery;
	};
}

interface BalenaRequestStreamProgressEvent {
	total: number;
	received: number;
	eta: number;
	percentage: number;
}

interface BalenaRequestPassThroughStream extends Stream.PassThrough {
	response: BalenaRequestResponse;
	mime?: string | null;
}

interface BalenaRequestStreamResult extends Stream.Readable {
	mime: string;
	/**
	 * The parsed records of a record stream (Content-Type application/json-seq,
	 * application/x-ndjson, application/jsonl or application/x-jsonlines), with
	 * backpressure: the body is pulled as fast as the loop consumes. Throws a
	 * TypeError for any other content type. Every stream has it; it is optional
	 * here only so that balena-request's own stream type stays assignable.
	 */
	records?<T = any>(): AsyncIterableIterator<T>;
	on(event: 'progress', listener: (event: BalenaRequestStreamProgressEvent | undefined) => void): this;
	/** One parsed record of a record stream (see `records`); starts the flow like `data`. */
	on(event: 'value', listener: (value: any) => void): this;
	on(event: 'close', listener: () => void): this;
	on(event: 'data', listener: (chunk: any) => void): this;
	on(event: 'end', listener: () => void): this;
	on(event: 'error', listener: (err: Error) => void): this;
	on(event: 'pause', listener: () => void): this;
	on(event: 'readable', listener: () => void): this;
	on(event: 'resume', listener: () => void): this;
	on(event: string | symbol, listener: (...args: any[]) => void): this;
}

interface WebResourceFile extends Blob {
	name: string;
}

interface Interceptor {
	request?(response: any): Promise<any>;
	response?(response: any): Promise<any>;
	requestError?(error: Error): Promise<any>;
	responseError?(error: Error): Promise<any>;
}

interface RequestFactoryOptions {
	auth?: BalenaAuth;
	debug?: boolean;
	retries?: number;
	/** @deprecated */
	isBrowser?: boolean;
	interceptors?: Interceptor[];
}

// Properties holding functions (not methods), as upstream's inferred
// `ReturnType<typeof getRequest>` has: under strictFunctionTypes a property is
// checked contravariantly and a method bivariantly, so this keeps assignments
// between the two types checking alike.
interface BalenaRequest {
	send: <T = any>(options: BalenaRequestOptions) => Promise<BalenaRequestResponse<T>>;
	stream: (options: BalenaRequestOptions) => Promise<BalenaRequestStreamResult>;
	interceptors: Interceptor[];
	refreshToken: (options: Pick<BalenaRequestOptions, 'baseUrl'>) => Promise<string>;
	/**
	 * Proxies an incoming Node request to `baseUrl` + `url` (default: its
	 * own URL) and streams the reply, untouched, into `res`. Resolves when
	 * the reply is complete. Not in balena-request (optional here so that
	 * balena-request's type still fits this one).
	 */
	forward?: (
		req: import('http').IncomingMessage,
		res: import('http').ServerResponse,
		options?: BalenaRequestForwardOptions,
	) => Promise<void>;
	/** Azure's Pipeline over this request's policies. Not in balena-request. */
	pipeline?: Pipeline;
	/** An independent instance: its own pipeline and interceptors, the same auth and connections. Not in balena-request. */
	clone?: () => BalenaRequest;
}

/** Where a policy goes in `request.pipeline` (Azure core-rest-pipeline's). */
type PipelinePhase = 'Serialize' | 'Deserialize' | 'Retry' | 'Sign';

interface AddPolicyOptions {
	phase?: PipelinePhase;
	afterPhase?: PipelinePhase;
	beforePolicies?: string[];
	afterPolicies?: string[];
}

/** A policy one of `policies`' factories made; it runs natively. */
interface NativePolicy {
	readonly name: string;
}

/** A policy written in JS: `request` is the options object. */
interface JsPolicy {
	name: string;
	sendRequest(
		request: BalenaRequestOptions,
		next: (request: BalenaRequestOptions) => Promise<BalenaRequestResponse>,
	): Promise<BalenaRequestResponse>;
}

type Policy = NativePolicy | JsPolicy;

interface Pipeline {
	addPolicy(policy: Policy, options?: AddPolicyOptions): void;
	removePolicy(options: { name?: string; phase?: PipelinePhase }): Policy[];
	/** Outermost first; the built-in `interceptors` stage included. */
	getOrderedPolicies(): Policy[];
}

interface RetryPolicyOptions {
	maxRetries?: number;
	retryDelayInMs?: number;
	maxRetryDelayInMs?: number;
	jitter?: boolean;
	methods?: string[];
	statusCodes?: number[];
	errorCodes?: string[];
	retryAfter?: boolean;
	maxRetryAfterInMs?: number;
}

interface LogRecord {
	type: 'request' | 'response' | 'error';
	method: string;
	url: string;
	status?: number;
	durationMs?: number;
	headers?: Record<string, string>;
	code?: string;
	message?: string;
}

interface PolicyFactories {
	defaultRequest(defaults: Pick<BalenaRequestOptions, 'method' | 'url' | 'baseUrl' | 'headers'>): NativePolicy;
	pathPrefix(options: { prefix: string }): NativePolicy;
	basicAuth(options: { username: string; password?: string }): NativePolicy;
	csrf(options: { name?: string; token?: string }): NativePolicy;
	errorCode(options?: { code?: number }): NativePolicy;
	retry(options?: RetryPolicyOptions): NativePolicy;
	timeout(options: { timeout: number; transient?: boolean }): NativePolicy;
	location(options?: { code?: number }): NativePolicy;
	mime(options?: { mime?: string; accept?: string }): NativePolicy;
	log(options?: {
		logger?: (record: LogRecord) => void;
		allowedHeaderNames?: string[];
		allowedQueryParameters?: string[];
	}): NativePolicy;
	requestId(options?: { headerName?: string }): NativePolicy;
	userAgent(options?: { userAgentPrefix?: string }): NativePolicy;
	concurrency(options: { max: number; perHost?: boolean }): NativePolicy;
}

/** Ready-made policies that run natively (`request.pipeline.addPolicy`). */
declare const policies: PolicyFactories;

declare function getRequest(options: RequestFactoryOptions): BalenaRequest;

declare function factory(options: RequestFactoryOptions): BalenaRequest;
declare namespace factory {
	export {
		getRequest,
		policies,
		BalenaRequest,
		Pipeline,
		Policy,
		JsPolicy,
		NativePolicy,
		AddPolicyOptions,
		PolicyFactories,
		BalenaRequestError,
		BalenaExpiredToken,
		BalenaInvalidParameterError,
		BalenaRequestOptions,
		BalenaRequestResponse,
		BalenaRequestStreamResult,
		BalenaRequestStreamProgressEvent,
		BalenaRequestPassThroughStream,
		Interceptor,
		RequestFactoryOptions,
		WebResourceFile,
	};
}

export = factory;
