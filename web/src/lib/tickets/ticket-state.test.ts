import { beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from '$lib/api/client';
import type { TicketDetail } from '$lib/api/types';
import { toast } from '$lib/stores/toast.svelte';
import { describeChanges, TicketState } from './ticket-state.svelte';

const GRACE = { id: '00000000-0000-7000-8000-00000000000a', name: 'Grace Hopper', role: 'agent' as const, email: null };
const MARGARET = { id: '00000000-0000-7000-8000-00000000000b', name: 'Margaret Hamilton', role: 'agent' as const, email: null };

function ticket(overrides: Partial<TicketDetail> = {}): TicketDetail {
	return {
		id: '00000000-0000-7000-8000-000000000001',
		number: 7,
		user_id: '00000000-0000-7000-8000-000000000002',
		type: 'bug',
		priority: 'medium',
		status: 'open',
		title: 'Export to CSV times out',
		description: 'Exports over 10k rows never finish.',
		assigned_to_user_id: null,
		team_id: null,
		github_issue_number: null,
		tags: [],
		metadata: {},
		version: 1,
		created_at: '2025-01-01T10:00:00Z',
		updated_at: '2025-01-01T10:00:00Z',
		resolved_at: null,
		closed_at: null,
		customer_replied_at: null,
		sla_state: null,
		sla_due_at: null,
		submitter: { id: '00000000-0000-7000-8000-000000000002', name: 'Alan Turing', role: 'user', email: null },
		assigned_to: null,
		team: null,
		comments: [],
		attachments: [],
		transitions: ['in_progress', 'closed'],
		following: true,
		...overrides
	};
}

interface Seen {
	method: string;
	path: string;
	ifMatch: string | null;
	body: unknown;
}

/** A server that answers each request with the next prepared response, and records what it got. */
function server(...answers: Response[]) {
	const seen: Seen[] = [];
	const fetch = async (request: Request) => {
		const url = new URL(request.url);
		const text = await request.text();
		seen.push({ method: request.method, path: url.pathname, ifMatch: request.headers.get('If-Match'), body: text ? JSON.parse(text) : null });
		const answer = answers.shift();
		if (!answer) throw new Error(`unexpected ${request.method} ${url.pathname}`);
		return answer;
	};
	return { api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }), seen };
}

const found = (t: TicketDetail) => new Response(JSON.stringify(t), { status: 200, headers: { 'Content-Type': 'application/json', ETag: `"${t.version}"` } });
const problem = (status: number, code: string, detail: string) =>
	new Response(JSON.stringify({ type: 'about:blank', title: 'Refused', status, detail, code }), { status, headers: { 'Content-Type': 'application/problem+json' } });
const stale = () => problem(412, 'stale_version', 'The ticket changed since you read it; reload and try again.');

beforeEach(() => {
	toast.items = [];
});

describe('TicketState writes', () => {
	it('sends the ETag it read as If-Match, and the new one on the next write', async () => {
		const { api, seen } = server(found(ticket()), found(ticket({ version: 2, priority: 'high' })), found(ticket({ version: 3, priority: 'high', status: 'in_progress' })));
		const state = new TicketState({ api });
		await state.open('7');
		expect(await state.update({ priority: 'high' })).toBe(true);
		expect(await state.update({ status: 'in_progress' })).toBe(true);
		expect(seen.map((s) => [s.method, s.ifMatch])).toEqual([
			['GET', null],
			['PUT', '"1"'],
			['PUT', '"2"']
		]);
		expect(state.ticket?.status).toBe('in_progress');
		expect(toast.items.map((t) => t.message)).toEqual(['Saved', 'Saved']);
	});

	it('reloads a ticket someone else changed and says what changed, for every kind of write', async () => {
		const changed = ticket({ version: 2, status: 'resolved', assigned_to: MARGARET, assigned_to_user_id: MARGARET.id });
		const writes: [string, (s: TicketState) => Promise<boolean>, string][] = [
			['PUT /api/v1/tickets/', (s) => s.update({ priority: 'low' }), 'change the priority'],
			['PUT /api/v1/tickets/', (s) => s.update({ tags: ['billing'] }), 'change the labels'],
			['PUT /api/v1/tickets/', (s) => s.update({ status: 'in_progress' }), 'change the status'],
			['PUT /api/v1/tickets/', (s) => s.assign(GRACE.id), 'change the assignee'],
			['DELETE /api/v1/tickets/', (s) => s.close('Ticket closed'), 'close the ticket']
		];
		for (const [request, write, action] of writes) {
			toast.items = [];
			const { api, seen } = server(found(ticket()), stale(), found(changed));
			const state = new TicketState({ api });
			await state.open('7');
			expect(await write(state)).toBe(false);
			expect(`${seen[1].method} ${seen[1].path}`).toContain(request);
			expect(seen[1].ifMatch).toBe('"1"');
			expect(seen[2]).toMatchObject({ method: 'GET', path: `/api/v1/tickets/7` });
			expect(state.ticket).toMatchObject({ version: 2, status: 'resolved' });
			expect(state.busy).toBe(false);
			expect(toast.items).toHaveLength(1);
			expect(toast.items[0]).toMatchObject({
				kind: 'error',
				message: 'Someone else changed this ticket',
				description: `Meanwhile the status became Resolved and it was assigned to Margaret Hamilton, so we did not ${action}. The page shows the latest version; check it and try again.`
			});
		}
	});

	it('after a stale write, the next one carries the version it reloaded', async () => {
		const { api, seen } = server(found(ticket()), stale(), found(ticket({ version: 2, status: 'waiting' })), found(ticket({ version: 3, status: 'waiting', priority: 'low' })));
		const state = new TicketState({ api });
		await state.open('7');
		await state.update({ priority: 'low' });
		expect(await state.update({ priority: 'low' })).toBe(true);
		expect(seen.at(-1)?.ifMatch).toBe('"2"');
	});

	it("shows the server's reason for any other refusal, without reloading", async () => {
		const { api, seen } = server(found(ticket()), problem(409, 'invalid_transition', 'A ticket cannot go from open to resolved.'));
		const state = new TicketState({ api });
		await state.open('7');
		expect(await state.update({ status: 'resolved' })).toBe(false);
		expect(seen).toHaveLength(2);
		expect(state.ticket?.status).toBe('open');
		expect(toast.items[0]).toMatchObject({ kind: 'error', message: 'Could not change the status', description: 'A ticket cannot go from open to resolved.' });
	});

	it('names a reopen as such', async () => {
		const { api } = server(found(ticket({ status: 'resolved' })), stale(), found(ticket({ version: 2, status: 'closed' })));
		const state = new TicketState({ api });
		await state.open('7');
		await state.update({ status: 'open' }, 'Ticket reopened');
		expect(toast.items[0].description).toContain('the status became Closed, so we did not reopen the ticket.');
	});

	it('tells every listener about each new version', async () => {
		const versions: number[] = [];
		const { api } = server(found(ticket()), stale(), found(ticket({ version: 2, status: 'waiting' })), found(ticket({ version: 3, status: 'waiting', priority: 'high' })));
		const state = new TicketState({ api, onchange: (t) => versions.push(t.version) });
		await state.open('7');
		await state.update({ priority: 'high' });
		await state.update({ priority: 'high' });
		expect(versions).toEqual([1, 2, 3]);
	});
});

describe('TicketState after the user moved on to another ticket', () => {
	const EIGHT = ticket({ id: '00000000-0000-7000-8000-000000000008', number: 8, title: 'Dark mode for the dashboard' });

	/** A server whose answers wait until the test gives them, in whatever order it likes. */
	function pendingServer() {
		const requests: { method: string; path: string; answer: (r: Response) => void }[] = [];
		const fetch = (request: Request) =>
			new Promise<Response>((resolve) => requests.push({ method: request.method, path: new URL(request.url).pathname, answer: resolve }));
		return { api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }), requests };
	}
	const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

	it('keeps showing the new ticket when the write for the old one answers late', async () => {
		const { api, requests } = pendingServer();
		const versions: number[] = [];
		const state = new TicketState({ api, onchange: (t) => versions.push(t.number) });
		const opened = state.open('7');
		await settle();
		requests[0].answer(found(ticket()));
		await opened;
		const write = state.update({ priority: 'high' });
		await settle();
		const second = state.open('8');
		expect(state.busy).toBe(false);
		await settle();
		requests[2].answer(found(EIGHT));
		await second;
		requests[1].answer(found(ticket({ version: 2, priority: 'high' })));
		expect(await write).toBe(true);
		expect(state.ticket).toMatchObject({ number: 8, priority: 'medium' });
		expect(state.busy).toBe(false);
		expect(versions).toEqual([7, 8]);
		expect(toast.items.map((t) => t.message)).toEqual(['#7: Saved']);
	});

	it('shows the answer of a write on a ticket the user left and opened again', async () => {
		const { api, requests } = pendingServer();
		const state = new TicketState({ api });
		const opened = state.open('7');
		await settle();
		requests[0].answer(found(ticket()));
		await opened;
		const write = state.update({ priority: 'high' });
		await settle();
		const eight = state.open('8');
		await settle();
		requests[2].answer(found(EIGHT));
		await eight;
		// Back on #7, read before the write was saved.
		const seven = state.open('7');
		await settle();
		requests[3].answer(found(ticket()));
		await seven;
		requests[1].answer(found(ticket({ version: 2, priority: 'high' })));
		expect(await write).toBe(true);
		expect(state.ticket).toMatchObject({ number: 7, version: 2, priority: 'high' });
		expect(state.busy).toBe(false);
		expect(toast.items.map((t) => t.message)).toEqual(['Saved']);
	});

	it('does not show the old ticket while the new one is still on its way', async () => {
		const { api, requests } = pendingServer();
		const state = new TicketState({ api });
		const opened = state.open('7');
		await settle();
		requests[0].answer(found(ticket()));
		await opened;
		const write = state.update({ priority: 'high' });
		await settle();
		void state.open('8');
		requests[1].answer(found(ticket({ version: 2, priority: 'high' })));
		await write;
		expect(state.ticket).toBeNull();
		expect(state.loading).toBe(true);
	});

	it('neither reloads nor describes the new ticket when the old one was changed by someone else', async () => {
		const { api, requests } = pendingServer();
		const state = new TicketState({ api });
		const opened = state.open('7');
		await settle();
		requests[0].answer(found(ticket()));
		await opened;
		const write = state.update({ status: 'in_progress' });
		await settle();
		const second = state.open('8');
		await settle();
		requests[2].answer(found(EIGHT));
		await second;
		requests[1].answer(stale());
		expect(await write).toBe(false);
		await settle();
		expect(requests.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET']);
		expect(state.ticket?.number).toBe(8);
		expect(toast.items).toHaveLength(1);
		expect(toast.items[0]).toMatchObject({
			kind: 'error',
			message: '#7: Someone else changed this ticket',
			description: 'We did not change the status. Open #7 again to see the latest version.'
		});
	});
});

describe('TicketState reads', () => {
	it('shows the ticket asked for last, whatever order the answers come in', async () => {
		let answerFirst: (r: Response) => void = () => undefined;
		const fetch = (request: Request) =>
			request.url.endsWith('/7') ? new Promise<Response>((resolve) => (answerFirst = resolve)) : Promise.resolve(found(ticket({ number: 8, title: 'Dark mode for the dashboard' })));
		const state = new TicketState({ api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }) });
		const first = state.open('7');
		await state.open('8');
		answerFirst(found(ticket()));
		await first;
		expect(state.ticket?.number).toBe(8);
		expect(state.loading).toBe(false);
	});

	it('says a missing ticket is missing', async () => {
		const { api } = server(problem(404, 'not_found', 'No such ticket.'));
		const state = new TicketState({ api });
		await state.open('99');
		expect(state.error).toEqual({ message: 'No such ticket.', status: 404 });
	});
});

describe('describeChanges', () => {
	it('names each field that differs, in words', () => {
		const before = ticket({ tags: ['billing'], assigned_to: GRACE });
		const after = ticket({ status: 'waiting', priority: 'critical', type: 'feature', tags: [], assigned_to: null, title: 'CSV export times out on big reports', description: 'Edited.' });
		expect(describeChanges(before, after)).toEqual([
			'the status became Waiting',
			'the priority became Critical',
			'the type became Feature request',
			'it was unassigned',
			'its labels were removed',
			'the title became “CSV export times out on big reports”',
			'the description was edited'
		]);
		expect(describeChanges(before, before)).toEqual([]);
	});
});
