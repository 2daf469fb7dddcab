/** RFC 9457 problem documents as the API sends them, turned into what a form shows. */

export interface FieldProblem {
	field: string;
	message: string;
	code?: string;
}

export interface ProblemDoc {
	type?: string;
	title?: string;
	status?: number;
	detail?: string;
	code?: string;
	field?: string | null;
	errors?: FieldProblem[] | null;
}

export interface FormProblem {
	/** One sentence for the top of the form or a toast. */
	message: string;
	/** Messages keyed by the form field they belong to. */
	fields: Record<string, string>;
	status?: number;
	code?: string;
}

/** `body.title` / `title` / `metadata.app_version` → `title` / `title` / `metadata`. */
export function formFieldName(path: string): string {
	const parts = path.split(/[.[\]/]+/).filter(Boolean);
	const withoutLocation = ['body', 'query', 'path', 'header'].includes(parts[0] ?? '') ? parts.slice(1) : parts;
	return withoutLocation[0] ?? path;
}

function isProblem(value: unknown): value is ProblemDoc {
	return typeof value === 'object' && value !== null && ('detail' in value || 'title' in value || 'errors' in value);
}

/** Turn whatever an API call failed with into a message and per-field errors. */
export function toFormProblem(error: unknown, fallback = 'Something went wrong. Please try again.'): FormProblem {
	if (!isProblem(error)) {
		if (error instanceof Error) return { message: networkMessage(error), fields: {} };
		return { message: fallback, fields: {} };
	}
	const fields: Record<string, string> = {};
	for (const item of error.errors ?? []) {
		const name = formFieldName(item.field);
		fields[name] ??= item.message;
	}
	if (error.field && !Object.keys(fields).length && error.detail) {
		fields[formFieldName(error.field)] = error.detail;
	}
	return {
		message: error.detail || error.title || fallback,
		fields,
		status: error.status,
		code: error.code
	};
}

function networkMessage(error: Error): string {
	if (error.name === 'TypeError') return 'Cannot reach the server. Check your connection and try again.';
	return error.message || 'Something went wrong. Please try again.';
}
