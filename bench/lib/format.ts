/** Number formatting for the report: whole numbers with separators, small ones with sensible digits. */
import type { Unit } from './results.ts';

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ms' || unit === 'µs/op') return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
  return Math.round(value).toLocaleString('en-US');
}

export function formatWithUnit(value: number, unit: Unit): string {
  return `${formatValue(value, unit)} ${unit}`;
}
