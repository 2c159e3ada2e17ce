/**
 * Benchmark results: every figure measured in the run that reports it, next to its baseline
 * measured in the same run. Written as JSON to bench/results/<name>-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Measurement {
  /** What was measured. */
  name: string;
  value: number;
  unit: string;
  /** The same measurement of the baseline, in the same run. */
  baseline?: number;
  /** For a target: `lower` or `higher` is better. */
  better?: 'lower' | 'higher';
  target?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export function report(
  bench: string,
  measurements: Measurement[],
  notes: Record<string, unknown> = {},
): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = `${dir}${bench}-${at.replace(/[:.]/g, '-')}.json`;
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(file, JSON.stringify({ bench, at, machine, notes, measurements }, null, 2));
  const rows = measurements.map((m) => ({
    measurement: m.name,
    value: `${round(m.value)} ${m.unit}`,
    baseline: m.baseline === undefined ? '' : `${round(m.baseline)} ${m.unit}`,
    ratio: m.baseline ? `${round(m.value / m.baseline)}x` : '',
    target: m.target ?? '',
  }));
  console.table(rows);
  console.log(`results: ${file}`);
  return file;
}

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}
