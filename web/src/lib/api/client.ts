import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export const CSRF_COOKIE = 'ticketdesk_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Read one cookie's value from a `document.cookie` string. */
export function readCookie(cookieString: string, name: string): string | null {
	for (const part of cookieString.split(';')) {
		const eq = part.indexOf('=');
		if (eq === -1) continue;
		if (part.slice(0, eq).trim() === name) {
			const raw = part.slice(eq + 1).trim();
			try {
				return decodeURIComponent(raw);
			} catch {
				return raw;
			}
		}
	}
	return null;
}

/** The CSRF token to echo: the readable cookie wins, else the one from the last /me answer. */
let fallbackCsrfToken: string | null = null;
export function rememberCsrfToken(token: string | null | undefined): void {
	fallbackCsrfToken = token ?? null;
}

export function currentCsrfToken(): string | null {
	const fromCookie = typeof document === 'undefined' ? null : readCookie(document.cookie, CSRF_COOKIE);
	return fromCookie ?? fallbackCsrfToken;
}

/** Whether a request with this method changes state and so needs the CSRF header. */
export function isUnsafeMethod(method: string): boolean {
	return !SAFE_METHODS.has(method.toUpperCase());
}

/** Adds X-CSRF-Token to unsafe requests (the session cookie alone is not enough). */
export const csrfMiddleware: Middleware = {
	onRequest({ request }) {
		if (isUnsafeMethod(request.method)) {
			const token = currentCsrfToken();
			if (token && !request.headers.has(CSRF_HEADER)) request.headers.set(CSRF_HEADER, token);
		}
		return request;
	}
};

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();
/** Called when any API call answers 401, so the app can send the person to sign in. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
	unauthorizedListeners.add(listener);
	return () => unauthorizedListeners.delete(listener);
}

const unauthorizedMiddleware: Middleware = {
	onResponse({ response, request }) {
		const url = new URL(request.url, 'http://x');
		if (response.status === 401 && !url.pathname.endsWith('/auth/login')) {
			for (const listener of unauthorizedListeners) listener();
		}
		return response;
	}
};

/** Build a typed API client; `fetch` is injectable for tests. `P` describes the endpoints (the
 * generated `paths`, or a hand-written description of endpoints not in openapi.json yet). */
export function createApiClient<P extends {} = paths>(options: { baseUrl?: string; fetch?: typeof fetch } = {}): Client<P> {
	const client = createClient<P>({
		baseUrl: options.baseUrl ?? '',
		credentials: 'include',
		fetch: options.fetch
	});
	client.use(csrfMiddleware, unauthorizedMiddleware);
	return client;
}

export type ApiClient = Client<paths>;

/** Where the API is: the page's own origin. */
export const API_BASE_URL = typeof window === 'undefined' ? 'http://localhost' : window.location.origin;

export const api = createApiClient({ baseUrl: API_BASE_URL });
