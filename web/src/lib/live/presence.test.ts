import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CSRF_HEADER, rememberCsrfToken } from '$lib/api/client';
import { createApiClient } from '$lib/api/client';
import type { PresenceEntry, PresenceState } from '$lib/api/types';
import { describePresence, RENEW_MS, TicketPresence } from './presence.svelte';

const TICKET = '00000000-0000-7000-8000-000000000007';
const OTHER_TICKET = '00000000-0000-7000-8000-000000000008';
const ANA = { id: '00000000-0000-7000-8000-00000000000a', name: 'Ana Lima', role: 'agent' as const };
const BO = { id: '00000000-0000-7000-8000-00000000000b', name: 'Bo Chen', role: 'admin' as const };
const CY = { id: '00000000-0000-7000-8000-00000000000c', name: 'Cy Young', role: 'agent' as const };
const DEE = { id: '00000000-0000-7000-8000-00000000000d', name: 'Dee Dee', role: 'agent' as const };

const here = (user: PresenceEntry['user'], state: PresenceState = 'viewing'): PresenceEntry => ({ user, state, since: '2026-01-01T10:00:00Z' });

interface Seen {
	method: string;
	path: string;
	body: unknown;
	keepalive: boolean;
	csrf: string | null;
}

/** A server that answers presence requests with who else is there (`others`, changeable), and records what it got. */
function server() {
	const seen: Seen[] = [];
	let others: PresenceEntry[] = [];
	// Answers held back until the test lets them go (to answer out of order).
	let holding = false;
	const held: (() => void)[] = [];
	const fetch = async (request: Request) => {
		// Written down in the order sent (reading the body takes a while).
		const entry: Seen = { method: request.method, path: new URL(request.url).pathname, body: null, keepalive: request.keepalive, csrf: request.headers.get(CSRF_HEADER) };
		seen.push(entry);
		const text = await request.text();
		entry.body = text ? JSON.parse(text) : null;
		const answer = () =>
			request.method === 'DELETE' ? new Response(null, { status: 204 }) : new Response(JSON.stringify({ others }), { status: 200, headers: { 'Content-Type': 'application/json' } });
		if (!holding) return answer();
		const snapshot = answer();
		return new Promise<Response>((resolve) => held.push(() => resolve(snapshot)));
	};
	return {
		client: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }),
		seen,
		requests: () => seen.map((s) => `${s.method} ${s.body ? (s.body as { state: string }).state : ''}`.trim()),
		setOthers: (list: PresenceEntry[]) => (others = list),
		hold: () => (holding = true),
		release: (index: number) => held[index]()
	};
}

let visibility: DocumentVisibilityState = 'visible';
function setVisibility(state: DocumentVisibilityState) {
	visibility = state;
	document.dispatchEvent(new Event('visibilitychange'));
}

const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
	vi.useFakeTimers();
	rememberCsrfToken('csrf-of-the-session');
	visibility = 'visible';
	Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
});
afterEach(() => {
	vi.useRealTimers();
	rememberCsrfToken(null);
});

describe('TicketPresence', () => {
	it('says this person is viewing, shows who else is there, and renews every 20 s', async () => {
		const s = server();
		s.setOthers([here(ANA)]);
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		await settle();
		expect(s.seen[0]).toMatchObject({ method: 'PUT', path: `/api/v1/tickets/${TICKET}/presence`, body: { state: 'viewing' }, csrf: 'csrf-of-the-session' });
		expect(presence.others.map((o) => o.user.name)).toEqual(['Ana Lima']);
		s.setOthers([]);
		await vi.advanceTimersByTimeAsync(RENEW_MS - 1);
		expect(s.seen).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(s.requests()).toEqual(['PUT viewing', 'PUT viewing']);
		expect(presence.others).toEqual([]);
		presence.leave();
	});

	it('says at once when the person starts or stops replying', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		presence.setReplying(true);
		presence.setReplying(true);
		await vi.advanceTimersByTimeAsync(RENEW_MS);
		presence.setReplying(false);
		await settle();
		expect(s.requests()).toEqual(['PUT viewing', 'PUT replying', 'PUT replying', 'PUT viewing']);
		presence.leave();
	});

	it('says replying from the start when the reply box had a draft already', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.setReplying(true);
		presence.enter(TICKET);
		await settle();
		expect(s.requests()).toEqual(['PUT replying']);
		presence.leave();
	});

	it('lets the presence lapse while the page is hidden, and renews it when it shows again', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		setVisibility('hidden');
		presence.setReplying(true);
		await vi.advanceTimersByTimeAsync(RENEW_MS * 3);
		expect(s.requests()).toEqual(['PUT viewing']);
		setVisibility('visible');
		await settle();
		expect(s.requests()).toEqual(['PUT viewing', 'PUT replying']);
		presence.leave();
	});

	it('reads again who else is there when asked', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		await settle();
		s.setOthers([here(ANA, 'replying')]);
		await presence.refresh();
		expect(s.seen.at(-1)).toMatchObject({ method: 'GET', path: `/api/v1/tickets/${TICKET}/presence` });
		expect(presence.others).toEqual([here(ANA, 'replying')]);
		presence.leave();
	});

	it('never lets an older answer replace a newer one', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		s.hold();
		s.setOthers([here(ANA)]);
		presence.enter(TICKET);
		await settle();
		s.setOthers([]);
		void presence.refresh();
		await settle();
		s.release(1);
		await settle();
		s.release(0);
		await settle();
		expect(presence.others).toEqual([]);
		presence.leave();
	});

	it('leaves at once on leaving the ticket, with a request that outlives the page, and stops renewing', async () => {
		const s = server();
		s.setOthers([here(ANA)]);
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		await settle();
		presence.leave();
		await vi.advanceTimersByTimeAsync(RENEW_MS * 2);
		expect(s.seen.map((r) => [r.method, r.keepalive])).toEqual([
			['PUT', false],
			['DELETE', true]
		]);
		expect(presence.others).toEqual([]);
		presence.leave();
		expect(s.seen).toHaveLength(2);
	});

	it('lets the presence lapse by itself when the page goes because the person signed out', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		await settle();
		rememberCsrfToken(null);
		presence.leave();
		await settle();
		expect(s.requests()).toEqual(['PUT viewing']);
	});

	it('drops what answers for a ticket already left', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		s.hold();
		s.setOthers([here(ANA)]);
		presence.enter(TICKET);
		await settle();
		presence.enter(OTHER_TICKET);
		await settle();
		s.release(0);
		await settle();
		expect(presence.others).toEqual([]);
		expect(s.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
			`PUT /api/v1/tickets/${TICKET}/presence`,
			`DELETE /api/v1/tickets/${TICKET}/presence`,
			`PUT /api/v1/tickets/${OTHER_TICKET}/presence`
		]);
		presence.leave();
	});

	it('leaves when the tab closes, and comes back if the page is shown again', async () => {
		const s = server();
		const presence = new TicketPresence({ client: s.client });
		presence.enter(TICKET);
		setVisibility('hidden');
		window.dispatchEvent(new Event('pagehide'));
		await settle();
		expect(s.seen.map((r) => [r.method, r.keepalive])).toEqual([
			['PUT', false],
			['DELETE', true]
		]);
		setVisibility('visible');
		await settle();
		expect(s.requests()).toEqual(['PUT viewing', 'DELETE', 'PUT viewing']);
		presence.leave();
	});
});

describe('describePresence', () => {
	it('says nothing when nobody else is there', () => {
		expect(describePresence([])).toBe('');
	});

	it('names who views and who replies, replying first', () => {
		expect(describePresence([here(ANA)])).toBe('Ana Lima is viewing');
		expect(describePresence([here(ANA, 'replying')])).toBe('Ana Lima is replying');
		expect(describePresence([here(BO), here(ANA, 'replying')])).toBe('Ana Lima is replying; Bo Chen is viewing');
	});

	it('words the same people the same way whatever order they come in', () => {
		expect(describePresence([here(CY), here(ANA), here(BO)])).toBe('Ana Lima, Bo Chen and Cy Young are viewing');
		expect(describePresence([here(BO), here(CY), here(ANA)])).toBe('Ana Lima, Bo Chen and Cy Young are viewing');
	});

	it('counts the rest of a crowd', () => {
		expect(describePresence([here(DEE), here(CY), here(BO), here(ANA)])).toBe('Ana Lima, Bo Chen and 2 others are viewing');
	});

	it('names a person once, replying if they reply in one of their tabs', () => {
		expect(describePresence([here(ANA), here(ANA, 'replying'), here(ANA)])).toBe('Ana Lima is replying');
	});
});
