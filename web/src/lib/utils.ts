import { clsx, type ClassValue } from 'clsx';
import { twMerge } from 'tailwind-merge';
import { createTV } from 'tailwind-variants/lite';

/** Merge class names, letting later Tailwind utilities win (shadcn's `cn`). */
export function cn(...inputs: ClassValue[]): string {
	return twMerge(clsx(inputs));
}

/** Variant recipes (`tv`) resolving conflicts with the same tailwind-merge as `cn`, so the
 * bundle carries one merger rather than tailwind-variants' own as well. */
export const tv = createTV({ twMerge });

export type WithElementRef<T, U extends HTMLElement = HTMLElement> = T & { ref?: U | null };
