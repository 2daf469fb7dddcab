import { describe, expect, it } from 'vitest';
import { describeEvent, isCommentEvent } from './events';

describe('timeline wording', () => {
	it('describes the server’s event kinds', () => {
		expect(describeEvent({ kind: 'status_changed', data: { from: 'open', to: 'in_progress' } })).toBe('changed the status from Open to In progress');
		expect(describeEvent({ kind: 'status_changed', data: { from: 'resolved', to: 'open' } })).toBe('reopened this ticket');
		expect(describeEvent({ kind: 'status_changed', data: { from: 'resolved', to: 'closed' } })).toBe('closed this ticket');
		expect(describeEvent({ kind: 'rated', data: { rating: 'good', previous: null } })).toBe('rated good');
		expect(describeEvent({ kind: 'rated', data: { rating: 'bad', previous: 'good' } })).toBe('changed the rating from good to bad');
		expect(describeEvent({ kind: 'priority_changed', data: { from: 'low', to: 'critical' } })).toBe('changed the priority from Low to Critical');
		expect(describeEvent({ kind: 'tags_changed', data: { added: ['billing'], removed: [] } })).toBe('added billing label');
		expect(describeEvent({ kind: 'assigned', data: { from: null, to: 'u1' } }, (id) => (id === 'u1' ? 'Ada' : null))).toBe('assigned this to Ada');
		expect(describeEvent({ kind: 'assigned', data: { from: 'u1', to: null } })).toBe('unassigned this ticket');
		expect(describeEvent({ kind: 'assigned', data: { from: null, to: { id: 'u2', name: 'Grace' } } })).toBe('assigned this to Grace');
		expect(describeEvent({ kind: 'attachment_added', data: { filename: 'log.txt' } })).toBe('attached log.txt');
		expect(describeEvent({ kind: 'attachment_deleted', data: { filename: 'log.txt' } })).toBe('removed log.txt');
		expect(describeEvent({ kind: 'github_link_requested', data: { issue_number: 42 } })).toBe('linked GitHub issue #42');
		expect(describeEvent({ kind: 'github_link_requested', data: { create: true } })).toBe('asked for a new GitHub issue');
		expect(describeEvent({ kind: 'github_issue_renamed', data: { from: 'Crash', to: 'Crash on save' } })).toBe('renamed the GitHub issue from “Crash” to “Crash on save”');
		expect(describeEvent({ kind: 'status_changed', data: { from: 'resolved', to: 'closed', after_days: 7 } })).toBe('closed this ticket automatically after 7 days without a reply');
		expect(describeEvent({ kind: 'escalated', data: { priority: 'critical', after_hours: 4 } })).toBe('alerted admins: no reply from staff within 4 hours');
		expect(describeEvent({ kind: 'created', data: { title: 'Crash' } })).toBe('created this ticket');
		expect(describeEvent({ kind: 'created', data: { on_behalf_of: { id: 'u3', name: 'Walk-in' } } })).toBe('opened this ticket on behalf of Walk-in');
		expect(describeEvent({ kind: 'custom_field_changed', data: { field: 'severity', label: 'Severity', from: null, to: 'major' } })).toBe('set Severity to “major”');
		expect(describeEvent({ kind: 'custom_field_changed', data: { field: 'os', label: 'Platforms', from: ['linux'], to: ['linux', 'mac'] } })).toBe(
			'changed Platforms from “linux” to “linux, mac”'
		);
		expect(describeEvent({ kind: 'custom_field_changed', data: { field: 'regression', label: 'Regression', from: true, to: null } })).toBe('cleared Regression');
		expect(describeEvent({ kind: 'sla_breached', data: { target: 'first_response', policy: 'Gold' } })).toBe('missed the SLA first response target of “Gold”');
		expect(describeEvent({ kind: 'team_changed', data: { from: null, to: { id: 't1', name: 'Billing' } } })).toBe('routed this to the Billing team');
		expect(describeEvent({ kind: 'team_changed', data: { from: { id: 't1', name: 'Billing' }, to: null } })).toBe('took this off its team');
		expect(describeEvent({ kind: 'rule_applied', data: { rule: { id: 'r1', name: 'Invoices to billing' } } })).toBe('applied the assignment rule “Invoices to billing”');
		expect(describeEvent({ kind: 'something_new', data: {} })).toBe('something new');
	});

	it('leaves comment events to the conversation', () => {
		expect(isCommentEvent({ kind: 'commented' })).toBe(true);
		expect(isCommentEvent({ kind: 'status_changed' })).toBe(false);
	});
});
