/**
 * Checks of method parameters at the API boundary: HTTP and IPC bring untyped JSON, so every
 * method validates what it receives and answers 'invalid' with a message naming the field.
 */
import { invalid } from './errors.ts';

/** The params object (or an empty one when the method was called without). */
export function paramsObject(params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw invalid('The request parameters must be an object.');
  return params as Record<string, unknown>;
}

export function requireInt(value: unknown, name: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}.`);
  return value;
}

export function optionalInt(value: unknown, name: string, min = 0): number | undefined {
  return value === undefined || value === null ? undefined : requireInt(value, name, min);
}

export function requireNumber(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw invalid(`${name} must be a number between ${min} and ${max}.`);
  return value;
}

export function requireString(value: unknown, name: string, maxLength = 4096): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) throw invalid(`${name} must be a non-empty text.`);
  return value;
}

export function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, name);
}

export function requireIntArray(value: unknown, name: string, maxLength = 1_000_000): number[] {
  if (!Array.isArray(value) || value.length > maxLength) throw invalid(`${name} must be a list of ids.`);
  return value.map((item, index) => requireInt(item, `${name}[${index}]`));
}

export function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false.`);
  return value;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`${name} must be one of ${allowed.join(', ')}.`);
  return value as T;
}
