/** Assignment rules in words, and their metadata conditions as lines of `key = value`. */
import type { AssignmentRule } from '$lib/api/types';
import { PRIORITY_LABEL, TYPE_LABEL } from './meta';

type MetadataValue = string | number | boolean;

/** `plan = enterprise` lines → `{plan: "enterprise"}`; `true`/`false` and numbers are JSON's own. */
export function parseMetadata(text: string): { value: Record<string, MetadataValue>; error: string | null } {
	const value: Record<string, MetadataValue> = {};
	for (const [index, raw] of text.split('\n').entries()) {
		const line = raw.trim();
		if (!line) continue;
		const at = line.indexOf('=');
		const key = at > 0 ? line.slice(0, at).trim() : '';
		if (!key) return { value, error: `Line ${index + 1}: write key = value.` };
		const written = line.slice(at + 1).trim();
		if (written === 'true' || written === 'false') value[key] = written === 'true';
		else if (/^-?\d+(\.\d+)?$/.test(written)) value[key] = Number(written);
		else value[key] = written.replace(/^"(.*)"$/, '$1');
	}
	return { value, error: null };
}

/** The inverse of `parseMetadata`: text that looks like a number or a boolean stays text by quoting it. */
export function formatMetadata(value: Record<string, unknown>): string {
	return Object.entries(value)
		.map(([key, v]) => `${key} = ${typeof v === 'string' && (/^-?\d+(\.\d+)?$/.test(v) || v === 'true' || v === 'false') ? `"${v}"` : String(v)}`)
		.join('\n');
}

/** "When …, then …", for the list of rules. */
export function describeRule(rule: Pick<AssignmentRule, 'conditions' | 'actions'>, names: { team: (id: string) => string | null; agent: (id: string) => string | null }): { when: string; then: string } {
	const c = rule.conditions;
	const when: string[] = [];
	if (c.types?.length) when.push(`type is ${c.types.map((t) => TYPE_LABEL[t]).join(' or ')}`);
	if (c.priorities?.length) when.push(`priority is ${c.priorities.map((p) => PRIORITY_LABEL[p]).join(' or ')}`);
	if (c.labels?.length) when.push(`labelled ${c.labels.join(' and ')}`);
	for (const [key, value] of Object.entries(c.metadata ?? {})) when.push(`${key} is ${String(value)}`);
	if (c.submitter_domains?.length) when.push(`from ${c.submitter_domains.join(' or ')}`);
	const a = rule.actions;
	const then: string[] = [];
	if (a.team_id) then.push(`team ${names.team(a.team_id) ?? 'a team'}`);
	if (a.round_robin) then.push('assign by round robin');
	if (a.assignee_id) then.push(`assign to ${names.agent(a.assignee_id) ?? 'an agent'}`);
	if (a.add_labels?.length) then.push(`add ${a.add_labels.join(', ')}`);
	if (a.priority) then.push(`priority ${PRIORITY_LABEL[a.priority]}`);
	return { when: when.length ? when.join(', ') : 'every ticket', then: then.join(', ') };
}
