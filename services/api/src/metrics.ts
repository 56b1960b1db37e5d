/**
 * A minimal Prometheus text exposition (format 0.0.4) for the few counters the services
 * keep; the Kubernetes manifests annotate /metrics for scraping. No client library: a
 * counter is a number under a name and a sorted label set.
 */

/** Label values by label name. */
export type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  samples: Map<string, { labels: Labels; value: number }>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",")}}`;
}

/** A registry of counters and gauges rendered on /metrics. */
export class Metrics {
  readonly #families = new Map<string, Family>();

  /** Declares a metric family; declare before use so HELP/TYPE lines are right. */
  declare(name: string, type: "counter" | "gauge", help: string): void {
    if (!this.#families.has(name)) this.#families.set(name, { help, type, samples: new Map() });
  }

  /** Adds `by` (default 1) to a counter sample. */
  inc(name: string, labels: Labels = {}, by = 1): void {
    const sample = this.#sample(name, labels);
    sample.value += by;
  }

  /** Sets a gauge sample. */
  set(name: string, labels: Labels, value: number): void {
    this.#sample(name, labels).value = value;
  }

  /** The current value of a sample (0 when never touched). */
  value(name: string, labels: Labels = {}): number {
    return this.#families.get(name)?.samples.get(labelText(labels))?.value ?? 0;
  }

  /** The exposition text served with content type `text/plain; version=0.0.4`. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [key, sample] of family.samples) lines.push(`${name}${key} ${sample.value}`);
    }
    return `${lines.join("\n")}\n`;
  }

  #sample(name: string, labels: Labels) {
    const family = this.#families.get(name);
    if (!family) throw new Error(`metric ${name} used before it was declared`);
    const key = labelText(labels);
    let sample = family.samples.get(key);
    if (!sample) {
      sample = { labels, value: 0 };
      family.samples.set(key, sample);
    }
    return sample;
  }
}
