import { describe, expect, it } from 'vitest';
import { describeRule, formatMetadata, parseMetadata } from './rules';

describe('assignment rules', () => {
	it('reads metadata conditions as key = value lines', () => {
		expect(parseMetadata('plan = enterprise\n\nseats=50\nbeta = true\ncode = "42"')).toEqual({
			value: { plan: 'enterprise', seats: 50, beta: true, code: '42' },
			error: null
		});
		expect(parseMetadata('plan enterprise').error).toBe('Line 1: write key = value.');
		expect(parseMetadata(formatMetadata({ code: '42', beta: false, os: 'Linux' })).value).toEqual({ code: '42', beta: false, os: 'Linux' });
	});

	it('says what a rule does', () => {
		const names = { team: (id: string) => (id === 't1' ? 'Billing' : null), agent: () => 'Aaron' };
		expect(
			describeRule(
				{
					conditions: { types: ['bug'], priorities: [], labels: ['vip'], metadata: { plan: 'pro' }, submitter_domains: ['acme.com'] },
					actions: { team_id: 't1', round_robin: true, assignee_id: null, add_labels: [], priority: 'high' }
				},
				names
			)
		).toEqual({ when: 'type is Bug, labelled vip, plan is pro, from acme.com', then: 'team Billing, assign by round robin, priority High' });
		expect(describeRule({ conditions: {}, actions: { assignee_id: 'u1', round_robin: false } }, names).when).toBe('every ticket');
	});
});
