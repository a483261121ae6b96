/**
 * The shape every case family hands back to the runner (as JSON, across a
 * process boundary): repeated measurements per contender, never a single run.
 */
export type Unit = 'ops/s' | 'req/s' | 'bytes' | 'ms' | 'µs/op';

export interface Measurement {
  /** Stable id used by the goals and the chart, e.g. 'codec.token.ours'. */
  readonly id: string;
  /** Row label in the report. */
  readonly label: string;
  /** Rows with the same group are compared with each other. */
  readonly group: string;
  readonly ours: boolean;
  readonly unit: Unit;
  /** One value per repeated run (interleaved with the other contenders of the group). */
  readonly values: number[];
  /** Per-run side figures, e.g. latency percentiles or error counts. */
  readonly extra?: Record<string, number[]>;
  /** Whether bigger is better (throughput) or smaller (latency, bytes). */
  readonly higherIsBetter: boolean;
}

export interface NotRun {
  readonly id: string;
  readonly label: string;
  readonly group: string;
  readonly reason: string;
}

export interface FamilyResult {
  readonly family: string;
  /** What was measured and how: payloads, concurrency, durations, rounds. */
  readonly conditions: Record<string, string>;
  readonly measurements: Measurement[];
  readonly notRun: NotRun[];
  readonly notes: string[];
}

export interface FamilyOptions {
  readonly quick: boolean;
  readonly progress: (line: string) => void;
}

export class FamilyRecorder {
  readonly family: string;
  readonly conditions: Record<string, string> = {};
  readonly measurements: Measurement[] = [];
  readonly notRun: NotRun[] = [];
  readonly notes: string[] = [];

  constructor(family: string) {
    this.family = family;
  }

  result(): FamilyResult {
    return { family: this.family, conditions: this.conditions, measurements: this.measurements, notRun: this.notRun, notes: this.notes };
  }
}
