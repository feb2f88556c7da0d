import {
  diag,
  SpanStatusCode,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import {
  addHrTimes,
  hrTime,
  hrTimeDuration,
  isAttributeValue,
  isTimeInput,
  isTimeInputHrTime,
  millisToHrTime,
  otperformance,
  sanitizeAttributes,
  type InstrumentationScope,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { Span as SdkSpan, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';

/** The limits with the SDK's defaults filled in (its TracerProvider does the same). */
export type Limits = Required<Omit<SpanLimits, 'attributeValueLengthLimit'>> & { attributeValueLengthLimit: number };

export function limitsOf(given: SpanLimits): Limits {
  return {
    attributeCountLimit: given.attributeCountLimit ?? 128,
    attributeValueLengthLimit: given.attributeValueLengthLimit ?? Infinity,
    eventCountLimit: given.eventCountLimit ?? 128,
    linkCountLimit: given.linkCountLimit ?? 128,
    attributePerEventCountLimit: given.attributePerEventCountLimit ?? 128,
    attributePerLinkCountLimit: given.attributePerLinkCountLimit ?? 128,
  };
}

/** What every span of one tracer shares. */
export interface SpanShared {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly limits: Limits;
  /** The provider's processors; empty when spans go nowhere (no exporter), which skips the calls. */
  readonly processors: readonly SpanProcessor[];
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
// Shared until the first event or link: most spans get neither (replaced, never pushed to).
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
export const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];

/**
 * A recording span with the SDK's behaviour (SpanImpl of @opentelemetry/sdk-trace 2.x: the same
 * limits, status rules, times, diagnostics and processor calls), read by the SDK's processors and
 * exporters as their own: it is the SDK's `Span` and `ReadableSpan`. LeanTracer makes it for the
 * service's own spans on the request path (lean-tracer.ts).
 *
 * Why by hand: every request makes one or two such spans, and on GET /api/ping the SDK's
 * startSpan and end cost ~17.5 k of the service's 221 k instructions per request (bench/README.md,
 * "Tenth round"). Tracer.startSpan validates and copies the attributes twice (before and after
 * sampling) and SpanImpl's constructor checks each key again; every span allocates its status,
 * events, links, two times and a duration up front. Here the attributes are checked and copied
 * once, the empty parts are shared until used, and the times stay two clock readings until an
 * exporter reads them. test/unit/lean-span.test.ts holds it to the installed SDK's behaviour.
 */
export class LeanSpan implements SdkSpan {
  readonly attributes: Attributes = {};
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  status: SpanStatus = UNSET;
  private attributeCount = 0;
  private droppedAttributes = 0;
  private droppedEvents = 0;
  private droppedLinks = 0;
  private isEnded = false;
  /** Wall clock at start (ms, as the SDK takes it) and the monotonic clock at start and end. */
  private readonly startWallMs = Date.now();
  private readonly startPerfMs = otperformance.now();
  private endPerfMs = Number.NaN;
  /** A start time the caller gave; later times without an input are then read off the wall clock. */
  private readonly givenStart: HrTime | undefined;
  /** An end or duration fixed by an explicit end time; undefined: from the two clock readings. */
  private fixedEnd: { endTime: HrTime; duration: HrTime } | undefined;

  constructor(
    private readonly shared: SpanShared,
    private readonly context: SpanContext,
    public name: string,
    readonly kind: SpanKind,
    readonly parentSpanContext: SpanContext | undefined,
    attributes: Attributes | undefined,
    links: readonly Link[] | undefined,
    startTime?: TimeInput,
  ) {
    this.givenStart = startTime === undefined ? undefined : this.timeOf(startTime);
    if (attributes !== undefined) this.setAttributes(attributes);
    if (links !== undefined) for (const link of links) this.addLink(link);
  }

  /** Calls the processors' onStart: after the constructor, as the SDK's span does last in its own. */
  started(parentContext: Context): this {
    for (const p of this.shared.processors) p.onStart(this, parentContext);
    return this;
  }

  get resource(): Resource {
    return this.shared.resource;
  }
  get instrumentationScope(): InstrumentationScope {
    return this.shared.instrumentationScope;
  }
  get startTime(): HrTime {
    return this.givenStart ?? millisToHrTime(this.startWallMs);
  }
  get endTime(): HrTime {
    if (this.fixedEnd !== undefined) return this.fixedEnd.endTime;
    return Number.isNaN(this.endPerfMs) ? [0, 0] : this.sinceStart(this.endPerfMs);
  }
  get duration(): HrTime {
    if (this.fixedEnd !== undefined) return this.fixedEnd.duration;
    return Number.isNaN(this.endPerfMs) ? [-1, -1] : hrTimeDuration(this.startTime, this.endTime);
  }
  get ended(): boolean {
    return this.isEnded;
  }
  get droppedAttributesCount(): number {
    return this.droppedAttributes;
  }
  get droppedEventsCount(): number {
    return this.droppedEvents;
  }
  get droppedLinksCount(): number {
    return this.droppedLinks;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.isEnded;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (value === undefined || value === null || this.endedWarn()) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const isNew = !Object.prototype.hasOwnProperty.call(this.attributes, key);
    if (isNew && this.attributeCount >= this.shared.limits.attributeCountLimit) {
      this.droppedAttributes++;
      return this;
    }
    this.attributes[key] = this.truncated(value);
    if (isNew) this.attributeCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    if (this.endedWarn()) return this;
    const { eventCountLimit, attributePerEventCountLimit } = this.shared.limits;
    if (eventCountLimit === 0) {
      diag.warn('No events allowed.');
      this.droppedEvents++;
      return this;
    }
    if (this.events === NO_EVENTS) this.events = [];
    if (this.events.length >= eventCountLimit) {
      if (this.droppedEvents === 0) diag.debug('Dropping extra events.');
      this.events.shift();
      this.droppedEvents++;
    }
    let attributes: Attributes | undefined;
    let time: TimeInput | undefined = startTime;
    if (isTimeInput(attributesOrStartTime)) {
      if (!isTimeInput(startTime)) time = attributesOrStartTime;
    } else attributes = attributesOrStartTime;
    const { kept, dropped } = this.limited(attributes, attributePerEventCountLimit);
    this.events.push({ name, attributes: kept, time: this.timeOf(time), droppedAttributesCount: dropped });
    return this;
  }

  addLink(link: Link): this {
    if (this.endedWarn()) return this;
    const { linkCountLimit, attributePerLinkCountLimit } = this.shared.limits;
    if (linkCountLimit === 0) {
      this.droppedLinks++;
      return this;
    }
    if (this.links === NO_LINKS) this.links = [];
    if (this.links.length >= linkCountLimit) {
      if (this.droppedLinks === 0) diag.debug('Dropping extra links.');
      this.links.shift();
      this.droppedLinks++;
    }
    const { kept, dropped, count } = this.limited(link.attributes, attributePerLinkCountLimit);
    const processed: Link = { context: link.context };
    if (count > 0) processed.attributes = kept;
    if (dropped > 0) processed.droppedAttributesCount = dropped;
    this.links.push(processed);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.endedWarn() || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === 'string') next.message = status.message;
      else if (status.message !== undefined && status.message !== null) {
        diag.warn(`Dropping invalid status.message of type '${typeof status.message}', expected 'string'`);
      }
    }
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (!this.endedWarn()) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.isEnded) {
      diag.error(`${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`);
      return;
    }
    if (endTime === undefined && this.givenStart === undefined) this.endPerfMs = otperformance.now();
    else {
      const end = this.timeOf(endTime);
      const duration = hrTimeDuration(this.startTime, end);
      if (duration[0] < 0) {
        diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.', this.startTime, end);
        this.fixedEnd = { endTime: this.startTime, duration: [0, 0] };
      } else this.fixedEnd = { endTime: end, duration };
    }
    if (this.droppedEvents > 0) diag.warn(`Dropped ${this.droppedEvents} events because eventCountLimit reached`);
    if (this.droppedLinks > 0) diag.warn(`Dropped ${this.droppedLinks} links because linkCountLimit reached`);
    const processors = this.shared.processors;
    for (const p of processors) p.onEnding?.(this);
    this.isEnded = true;
    for (const p of processors) p.onEnd(this);
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    else if (exception) {
      if (exception.code) attributes[ATTR_EXCEPTION_TYPE] = exception.code.toString();
      else if (exception.name) attributes[ATTR_EXCEPTION_TYPE] = exception.name;
      if (exception.message) attributes[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attributes[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    if (attributes[ATTR_EXCEPTION_TYPE] || attributes[ATTR_EXCEPTION_MESSAGE]) this.addEvent('exception', attributes, time);
    else diag.warn(`Failed to record an exception ${String(exception)}`);
  }

  /** The start plus the monotonic time since (the SDK's end and event times without an input). */
  private sinceStart(perfMs: number): HrTime {
    return addHrTimes(this.startTime, millisToHrTime(perfMs - this.startPerfMs));
  }

  /** A time input as the SDK's span reads it (its `_getTime`). */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (typeof input === 'number') {
      // a number not past the monotonic clock is a performance timestamp, else epoch milliseconds
      if (input <= otperformance.now()) return hrTime(input + (this.startWallMs - (this.startPerfMs + otperformance.timeOrigin)));
      return millisToHrTime(input);
    }
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input;
    if (this.givenStart !== undefined) return millisToHrTime(Date.now());
    return this.sinceStart(otperformance.now());
  }

  private truncated(value: AttributeValue): AttributeValue {
    const limit = this.shared.limits.attributeValueLengthLimit;
    if (limit <= 0) {
      diag.warn(`Attribute value limit must be positive, got ${limit}`);
      return value;
    }
    if (typeof value === 'string') return value.length <= limit ? value : value.substring(0, limit);
    if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' && v.length > limit ? v.substring(0, limit) : v)) as AttributeValue;
    return value;
  }

  /** An event's or link's attributes: valid ones only (core's check, as the SDK), up to `limit`, values truncated. */
  private limited(attributes: Attributes | undefined, limit: number): { kept: Attributes; dropped: number; count: number } {
    const valid = sanitizeAttributes(attributes);
    const kept: Attributes = {};
    let dropped = 0;
    let count = 0;
    for (const key of Object.keys(valid)) {
      if (count >= limit) {
        dropped++;
        continue;
      }
      kept[key] = this.truncated(valid[key]!);
      count++;
    }
    return { kept, dropped, count };
  }

  /** The SDK warns (with a stack) about every operation on an ended span. */
  private endedWarn(): boolean {
    if (!this.isEnded) return false;
    const { traceId, spanId } = this.context;
    diag.warn(
      `Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`,
      new Error(`Operation attempted on ended Span {traceId: ${traceId}, spanId: ${spanId}}`),
    );
    return true;
  }
}
