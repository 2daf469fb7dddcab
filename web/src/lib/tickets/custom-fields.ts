/** Custom field values ⇄ what form controls hold, and how a value reads. */
import type { CustomField, CustomFieldValue } from '$lib/api/types';

export const FIELD_TYPE_LABEL: Record<CustomField['type'], string> = {
	text: 'Text',
	number: 'Number',
	date: 'Date',
	select: 'Single select',
	multi_select: 'Multi select',
	checkbox: 'Checkbox'
};

/** What a control holds for a field: text for text, number, date and select; a list for a multi select; a flag for a checkbox. */
export type Draft = string | string[] | boolean;

export function toDraft(field: CustomField, value: CustomFieldValue | undefined): Draft {
	if (field.type === 'multi_select') return Array.isArray(value) ? [...value] : [];
	if (field.type === 'checkbox') return value === true;
	return value === undefined || value === null ? '' : String(value);
}

/** The API value of a control's content (null clears it); a number that does not parse is sent as text, for the API to name. */
export function fromDraft(field: CustomField, draft: Draft): CustomFieldValue | null {
	if (field.type === 'multi_select') return Array.isArray(draft) && draft.length ? draft : null;
	if (field.type === 'checkbox') return draft === true;
	const text = typeof draft === 'string' ? draft.trim() : '';
	if (!text) return null;
	if (field.type === 'number') {
		const n = Number(text);
		return Number.isFinite(n) ? n : text;
	}
	return text;
}

/** A value as a person reads it. */
export function formatValue(field: CustomField | undefined, value: CustomFieldValue | undefined): string {
	if (value === undefined || value === null) return '—';
	if (Array.isArray(value)) return value.join(', ');
	if (typeof value === 'boolean') return value ? 'Yes' : 'No';
	if (field?.type === 'date' && typeof value === 'string') {
		const [y, m, d] = value.split('-').map(Number);
		return new Date(y, m - 1, d).toLocaleDateString();
	}
	return String(value);
}

/** Whether two values are the same (lists by content). */
export function sameValue(a: CustomFieldValue | null | undefined, b: CustomFieldValue | null | undefined): boolean {
	if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
	return (a ?? null) === (b ?? null);
}
