import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiClient, CSRF_HEADER, isUnsafeMethod, readCookie, rememberCsrfToken } from './client';

function clearCookies() {
	for (const c of document.cookie.split(';')) {
		const name = c.split('=')[0]?.trim();
		if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
	}
}

afterEach(() => {
	clearCookies();
	rememberCsrfToken(null);
});

function recordingFetch() {
	const requests: Request[] = [];
	const fetchFn = vi.fn(async (input: Request | string | URL) => {
		requests.push(input as Request);
		return new Response(JSON.stringify({ id: 'x', email: 'a@b', name: 'A', role: 'user', csrf_token: null }), {
			status: 200,
			headers: { 'Content-Type': 'application/json' }
		});
	});
	return { requests, fetch: fetchFn as unknown as typeof fetch };
}

describe('readCookie', () => {
	it('finds one cookie among many and decodes it', () => {
		expect(readCookie('a=1; ticketdesk_csrf=abc%3D; b=2', 'ticketdesk_csrf')).toBe('abc=');
		expect(readCookie('xticketdesk_csrf=no', 'ticketdesk_csrf')).toBeNull();
		expect(readCookie('', 'ticketdesk_csrf')).toBeNull();
	});
});

describe('CSRF header', () => {
	it('knows safe methods', () => {
		expect(isUnsafeMethod('GET')).toBe(false);
		expect(isUnsafeMethod('head')).toBe(false);
		for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(isUnsafeMethod(m)).toBe(true);
	});

	it('sends the cookie value on unsafe requests only, with credentials', async () => {
		document.cookie = 'ticketdesk_csrf=tok123; path=/';
		const { requests, fetch } = recordingFetch();
		const client = createApiClient({ baseUrl: 'http://localhost', fetch });
		await client.GET('/api/v1/me');
		await client.POST('/api/v1/auth/logout');
		await client.PUT('/api/v1/tickets/{id}', { params: { path: { id: '7' } }, body: { status: 'open' } });
		expect(requests[0].headers.get(CSRF_HEADER)).toBeNull();
		expect(requests[1].headers.get(CSRF_HEADER)).toBe('tok123');
		expect(requests[2].headers.get(CSRF_HEADER)).toBe('tok123');
		expect(requests[2].url).toBe('http://localhost/api/v1/tickets/7');
		expect(requests.every((r) => r.credentials === 'include')).toBe(true);
	});

	it('falls back to the token from /me when the cookie is unreadable', async () => {
		rememberCsrfToken('from-me');
		const { requests, fetch } = recordingFetch();
		await createApiClient({ baseUrl: 'http://localhost', fetch }).POST('/api/v1/auth/logout');
		expect(requests[0].headers.get(CSRF_HEADER)).toBe('from-me');
	});

	it('sends nothing when there is no token', async () => {
		const { requests, fetch } = recordingFetch();
		await createApiClient({ baseUrl: 'http://localhost', fetch }).POST('/api/v1/auth/logout');
		expect(requests[0].headers.has(CSRF_HEADER)).toBe(false);
	});
});
