import { describe, expect, it } from 'vitest';
import { blankPolicyForm, duration, formToPolicy, policyToForm } from './sla-form';

describe('the SLA policy form', () => {
	it('turns hours and ranges into the API policy and back', () => {
		const form = blankPolicyForm('Europe/Berlin');
		form.name = 'Standard';
		form.days.mon = '09:00-12:00, 13:00 – 17:00';
		form.holidayCountry = 'de';
		form.holidays = '2026-12-24, 2026-12-31';
		form.targets.high = { firstResponse: '1.5', resolution: '8' };
		const body = formToPolicy(form);
		expect(body.calendar.week.mon).toEqual([
			{ start: '09:00', end: '12:00' },
			{ start: '13:00', end: '17:00' }
		]);
		expect(body.calendar.week.sat).toEqual([]);
		expect(body.calendar.holiday_country).toBe('DE');
		expect(body.calendar.holidays).toEqual(['2026-12-24', '2026-12-31']);
		expect(body.targets).toEqual([{ priority: 'high', first_response_minutes: 90, resolution_minutes: 480 }]);

		const back = policyToForm({ ...body, id: 'p', position: 0, ticket_type: null, label: null, created_at: '', updated_at: '' } as never);
		expect(back.days.mon).toBe('09:00-12:00, 13:00-17:00');
		expect(back.targets.high).toEqual({ firstResponse: '1.5', resolution: '8' });
	});

	it('words durations', () => {
		expect(duration(90)).toBe('1 h 30 min');
		expect(duration(30)).toBe('30 min');
		expect(duration(null)).toBe('—');
	});
});
