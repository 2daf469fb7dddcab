import { describe, expect, it } from 'vitest';
import { createApiClient } from '$lib/api/client';
import type { User } from '$lib/api/types';
import { Agents } from './agents.svelte';

const staff = (name: string, role: 'agent' | 'admin', is_active = true): User => ({
	id: `id-${name}`,
	name,
	email: `${name.toLowerCase()}@example.com`,
	role,
	is_active,
	is_away: false,
	created_at: '2025-01-01T10:00:00Z',
	invitation_pending: false
});

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A server that answers `GET /users?role=…&cursor=…` from `pages`, keyed "role cursor". */
function server(pages: Record<string, Response[]>) {
	const asked: string[] = [];
	const fetch = async (request: Request) => {
		const url = new URL(request.url);
		const key = `${url.searchParams.get('role')} ${url.searchParams.get('cursor') ?? ''}`.trim();
		asked.push(key);
		const answer = pages[key]?.shift();
		if (!answer) throw new Error(`unexpected ${key}`);
		return answer;
	};
	return { api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }), asked };
}

describe('agents', () => {
	it('offers every active agent and admin, beyond the first page, by name', async () => {
		const { api, asked } = server({
			agent: [json(200, { items: [staff('Grace', 'agent'), staff('Ken', 'agent', false)], next_cursor: 'k' })],
			'agent k': [json(200, { items: [staff('Margaret', 'agent')], next_cursor: null })],
			admin: [json(200, { items: [staff('Ada', 'admin')], next_cursor: null })]
		});
		const agents = new Agents({ api });
		await agents.load();
		expect(agents.items.map((u) => u.name)).toEqual(['Ada', 'Grace', 'Margaret']);
		expect(asked.sort()).toEqual(['admin', 'agent', 'agent k']);
		await agents.load();
		expect(asked).toHaveLength(3);
	});

	it('reads the staff again when forced while a read is on its way, and shows the later answer', async () => {
		let answerFirst: (response: Response) => void = () => undefined;
		const first = new Promise<Response>((resolve) => (answerFirst = resolve));
		const asked: string[] = [];
		const answers: Record<string, (Response | Promise<Response>)[]> = {
			agent: [first, json(200, { items: [staff('Grace', 'agent'), staff('Linus', 'agent')], next_cursor: null })],
			admin: [json(200, { items: [staff('Ada', 'admin')], next_cursor: null }), json(200, { items: [staff('Ada', 'admin')], next_cursor: null })]
		};
		const fetch = async (request: Request) => {
			const role = new URL(request.url).searchParams.get('role') ?? '';
			asked.push(role);
			return answers[role].shift() as Response | Promise<Response>;
		};
		const agents = new Agents({ api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }) });
		const loading = agents.load();
		// Linus was made an agent after the first read started.
		const forced = agents.load(true);
		expect(agents.load()).toBe(forced);
		answerFirst(json(200, { items: [staff('Grace', 'agent')], next_cursor: null }));
		await loading;
		await forced;
		expect(asked).toHaveLength(4);
		expect(agents.items.map((u) => u.name)).toEqual(['Ada', 'Grace', 'Linus']);
	});

	it('reads the staff again on the next load when a page could not be read', async () => {
		const { api, asked } = server({
			agent: [json(503, { title: 'Unavailable', status: 503, detail: 'Try again.' }), json(200, { items: [staff('Grace', 'agent')], next_cursor: null })],
			admin: [json(200, { items: [staff('Ada', 'admin')], next_cursor: null }), json(200, { items: [staff('Ada', 'admin')], next_cursor: null })]
		});
		const agents = new Agents({ api });
		await agents.load();
		expect(agents.loaded).toBe(false);
		await agents.load();
		expect(agents.loaded).toBe(true);
		expect(agents.items.map((u) => u.name)).toEqual(['Ada', 'Grace']);
		expect(asked).toHaveLength(4);
	});
});
