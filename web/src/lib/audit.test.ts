import { describe, expect, it } from 'vitest';
import { auditQuery, changedFields } from './audit';

describe('changedFields', () => {
	it('lists only the fields that changed, by name', () => {
		expect(changedFields({ name: 'Tier 1', role: 'user', size: 3 }, { name: 'Tier 1', role: 'agent', size: 4 })).toEqual([
			{ field: 'role', before: 'user', after: 'agent' },
			{ field: 'size', before: '3', after: '4' }
		]);
	});

	it('shows a creation as every field added and a deletion as every field removed', () => {
		expect(changedFields(null, { name: 'billing' })).toEqual([{ field: 'name', before: null, after: 'billing' }]);
		expect(changedFields({ name: 'billing' }, null)).toEqual([{ field: 'name', before: 'billing', after: null }]);
	});

	it('writes lists and objects as JSON, so nested changes are still seen', () => {
		expect(changedFields({ events: ['ticket.created'] }, { events: ['ticket.created', 'ticket.closed'] })).toEqual([
			{ field: 'events', before: '["ticket.created"]', after: '["ticket.created","ticket.closed"]' }
		]);
	});

	it('finds nothing when nothing changed', () => {
		expect(changedFields({ a: 1 }, { a: 1 })).toEqual([]);
	});
});

describe('auditQuery', () => {
	it('leaves out the empty filters', () => {
		expect(auditQuery({ action: 'webhook.', q: '', actor: null, format: 'csv' })).toBe('action=webhook.&format=csv');
	});
});
