/** The SLA policy form ⇄ the API's policy: hours as typed, business hours as "09:00-17:00, …". */
import type { SlaPolicy, SlaPolicyWrite, TicketPriority, TicketType } from '$lib/api/types';
import { PRIORITIES } from './meta';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WEEKDAY_LABEL: Record<Weekday, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

export interface PolicyForm {
	name: string;
	position: string;
	ticketType: TicketType | '';
	label: string;
	timeZone: string;
	/** Per weekday: "09:00-12:00, 13:00-17:00"; empty: closed. */
	days: Record<Weekday, string>;
	holidayCountry: string;
	holidaySubdivision: string;
	/** Dates, separated by commas or spaces. */
	holidays: string;
	/** Per priority, in hours (decimals allowed); empty: not measured. */
	targets: Record<TicketPriority, { firstResponse: string; resolution: string }>;
}

export function blankPolicyForm(timeZone = 'UTC'): PolicyForm {
	const office = '09:00-17:00';
	return {
		name: '',
		position: '0',
		ticketType: '',
		label: '',
		timeZone,
		days: { mon: office, tue: office, wed: office, thu: office, fri: office, sat: '', sun: '' },
		holidayCountry: '',
		holidaySubdivision: '',
		holidays: '',
		targets: Object.fromEntries(PRIORITIES.map((p) => [p, { firstResponse: '', resolution: '' }])) as PolicyForm['targets']
	};
}

function hours(minutes: number | null | undefined): string {
	return minutes ? String(Math.round((minutes / 60) * 100) / 100) : '';
}

function minutes(hoursText: string): number | null {
	const text = hoursText.trim();
	if (!text) return null;
	const value = Number(text.replace(',', '.'));
	// Not a number: sent as it is typed, for the API to name the field.
	return Number.isFinite(value) ? Math.round(value * 60) : (text as unknown as number);
}

export function policyToForm(policy: SlaPolicy): PolicyForm {
	const form = blankPolicyForm(policy.calendar.time_zone);
	form.name = policy.name;
	form.position = String(policy.position);
	form.ticketType = policy.ticket_type ?? '';
	form.label = policy.label ?? '';
	for (const day of WEEKDAYS) form.days[day] = (policy.calendar.week[day] ?? []).map((r) => `${r.start}-${r.end}`).join(', ');
	form.holidayCountry = policy.calendar.holiday_country ?? '';
	form.holidaySubdivision = policy.calendar.holiday_subdivision ?? '';
	form.holidays = (policy.calendar.holidays ?? []).join(', ');
	for (const t of policy.targets) form.targets[t.priority] = { firstResponse: hours(t.first_response_minutes), resolution: hours(t.resolution_minutes) };
	return form;
}

export function formToPolicy(form: PolicyForm): SlaPolicyWrite {
	const week = Object.fromEntries(
		WEEKDAYS.map((day) => [
			day,
			form.days[day]
				.split(',')
				.map((range) => range.trim())
				.filter(Boolean)
				.map((range) => {
					const [start = '', end = ''] = range.split(/\s*[-–]\s*/);
					return { start, end };
				})
		])
	) as SlaPolicyWrite['calendar']['week'];
	const position = Number(form.position);
	return {
		name: form.name,
		position: Number.isInteger(position) ? position : (form.position as unknown as number),
		ticket_type: form.ticketType || null,
		label: form.label.trim() || null,
		calendar: {
			time_zone: form.timeZone.trim(),
			week,
			holiday_country: form.holidayCountry.trim().toUpperCase() || null,
			holiday_subdivision: form.holidaySubdivision.trim() || null,
			holidays: form.holidays.split(/[\s,]+/).filter(Boolean)
		},
		targets: PRIORITIES.filter((p) => form.targets[p].firstResponse.trim() || form.targets[p].resolution.trim()).map((priority) => ({
			priority,
			first_response_minutes: minutes(form.targets[priority].firstResponse),
			resolution_minutes: minutes(form.targets[priority].resolution)
		}))
	};
}

/** `1 h`, `30 min`, `1 h 30 min`. */
export function duration(mins: number | null | undefined): string {
	if (!mins) return '—';
	const h = Math.floor(mins / 60);
	const m = mins % 60;
	return [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
}
