import { describe, expect, it } from 'vitest';
import { homeFor, isTicketScreen, safeNext } from './navigation';

describe('safeNext', () => {
	it('only allows same-origin paths', () => {
		expect(safeNext('/tickets/12')).toBe('/tickets/12');
		expect(safeNext('//evil.example')).toBe('/');
		expect(safeNext('https://evil.example')).toBe('/');
		expect(safeNext('/\\evil')).toBe('/');
		expect(safeNext('/login?next=/x')).toBe('/');
		expect(safeNext(null, '/home')).toBe('/home');
	});
});

describe('homeFor', () => {
	it('sends submitters to their tickets and staff to triage', () => {
		expect(homeFor('user')).toBe('/tickets');
		expect(homeFor('agent')).toBe('/triage/unassigned');
		expect(homeFor('admin')).toBe('/triage/unassigned');
	});
});

describe('isTicketScreen', () => {
	it('knows the ticket screens from the others', () => {
		for (const path of ['/tickets', '/tickets/new', '/tickets/12', '/triage/open', '/board']) expect(isTicketScreen(path), path).toBe(true);
		for (const path of ['/admin/users', '/settings/tokens', '/login', '/boards', '/ticketsy']) expect(isTicketScreen(path), path).toBe(false);
	});
});
