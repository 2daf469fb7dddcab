import { describe, expect, it } from 'vitest';
import { slaText, span } from './sla';

const NOW = Date.parse('2026-03-02T10:00:00Z');

describe('span', () => {
	it('words minutes, hours and days', () => {
		expect(span(12 * 60000)).toBe('12m');
		expect(span((2 * 60 + 5) * 60000)).toBe('2h 05m');
		expect(span((27 * 60 + 30) * 60000)).toBe('1d 3h');
	});
});

describe('slaText', () => {
	it('is nothing without a policy', () => {
		expect(slaText({ sla_state: null, sla_due_at: null, status: 'open' }, NOW)).toBeNull();
	});
	it('counts down to the due time', () => {
		expect(slaText({ sla_state: 'at_risk', sla_due_at: '2026-03-02T10:45:00Z', status: 'open' }, NOW)).toEqual({ text: '45m left', tone: 'at_risk' });
	});
	it('counts up once overdue', () => {
		expect(slaText({ sla_state: 'breached', sla_due_at: '2026-03-02T08:30:00Z', status: 'in_progress' }, NOW)).toEqual({ text: 'Overdue 1h 30m', tone: 'breached' });
	});
	it('says paused while waiting, met when nothing is left', () => {
		expect(slaText({ sla_state: 'ok', sla_due_at: null, status: 'waiting' }, NOW)).toEqual({ text: 'Paused', tone: 'idle' });
		expect(slaText({ sla_state: 'ok', sla_due_at: null, status: 'resolved' }, NOW)).toEqual({ text: 'Met', tone: 'idle' });
	});
});
