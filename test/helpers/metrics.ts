import type { Attributes } from '@opentelemetry/api';
import { telemetry } from '../setup/telemetry';

/** Sum of a metric's data points (counter values, or histogram counts) in this test process. */
export async function metricTotal(name: string, match: (a: Attributes) => boolean = () => true): Promise<number> {
  const { resourceMetrics } = await telemetry.prometheus!.collect();
  let total = 0;
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const dp of m.dataPoints as Array<{ attributes: Attributes; value: unknown }>) {
        if (!match(dp.attributes)) continue;
        const v = dp.value;
        total += typeof v === 'number' ? v : (v as { count: number }).count;
      }
    }
  }
  return total;
}
