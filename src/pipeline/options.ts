/**
 * Stage options: one zod schema per stage, each field built with a helper below that attaches
 * what a command line, a YAML pipeline or a queue job needs to know about it — flag, short alias,
 * doc, default, range. Flags, usage text, defaults, validation and the stage record all come from
 * here, so an option is written once.
 */
import { z } from 'zod';

export type OptionKind = 'int' | 'number' | 'string' | 'path' | 'boolean' | 'choice' | 'rgb';

export interface OptionMeta {
  kind: OptionKind;
  /** one line for --help */
  doc: string;
  /** the flag without dashes; default: the key in kebab-case */
  flag?: string;
  /** one-letter alias */
  short?: string;
  /** placeholder in --help ("N", "DIR") */
  placeholder?: string;
  /** does not change the result (resume, backend, checkpoint interval): left out of the record */
  volatile?: boolean;
  /** help text for a default computed at run time ("iterations/10", "on for real captures") */
  defaultText?: string;
  /** booleans: 'both' accepts --X and --no-X (unset = computed default); 'only' has just --no-X */
  negate?: 'both' | 'only';
  min?: number;
  max?: number;
  /** the bound itself is not allowed */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** must be given (a positional such as ingest's input) */
  required?: boolean;
  values?: readonly string[];
}

/** Where option metadata lives: keyed by the schema instance (a field of a stage's z.object). */
export const optionMeta = z.registry<OptionMeta>();

interface Common<T> {
  flag?: string;
  short?: string;
  placeholder?: string;
  volatile?: boolean;
  defaultText?: string;
  default?: T;
}

function finish<S extends z.ZodType>(schema: S, meta: OptionMeta, def: unknown): z.ZodType {
  const full = meta.required ? schema : def !== undefined ? (schema as z.ZodType).default(def as never) : (schema as z.ZodType).optional();
  optionMeta.add(full, meta);
  return full;
}

type Field<T, D> = D extends undefined ? z.ZodOptional<z.ZodType<T>> : z.ZodDefault<z.ZodType<T>>;

/** A whole number in [min, max]. */
export function int<D extends number | undefined = undefined>(doc: string, o: Common<number> & { min: number; max: number; default?: D }): Field<number, D> {
  return finish(z.number().int().min(o.min).max(o.max), { kind: 'int', doc, placeholder: 'N', ...pick(o), min: o.min, max: o.max }, o.default) as Field<number, D>;
}

/** A real number in [min, max] (or (min, max] with exclusiveMin). */
export function num<D extends number | undefined = undefined>(
  doc: string,
  o: Common<number> & { min: number; max: number; exclusiveMin?: boolean; exclusiveMax?: boolean; default?: D },
): Field<number, D> {
  let base = o.exclusiveMin ? z.number().gt(o.min) : z.number().min(o.min);
  base = o.exclusiveMax ? base.lt(o.max) : base.max(o.max);
  const meta: OptionMeta = { kind: 'number', doc, placeholder: 'X', ...pick(o), min: o.min, max: o.max, exclusiveMin: o.exclusiveMin, exclusiveMax: o.exclusiveMax };
  return finish(base, meta, o.default) as Field<number, D>;
}

/** Free text. */
export function str<D extends string | undefined = undefined>(doc: string, o: Common<string> & { default?: D } = {}): Field<string, D> {
  return finish(z.string().min(1), { kind: 'string', doc, placeholder: 'S', ...pick(o) }, o.default) as Field<string, D>;
}

/** A path that must be given (a positional: ingest's photos, import's model). */
export function requiredPath(doc: string, o: Common<string> = {}): z.ZodString {
  return finish(z.string().min(1), { kind: 'path', doc, placeholder: 'PATH', ...pick(o), required: true }, undefined) as z.ZodString;
}

/** A file or folder path (kept as given; stages resolve it). */
export function pathOpt<D extends string | undefined = undefined>(doc: string, o: Common<string> & { default?: D } = {}): Field<string, D> {
  return finish(z.string().min(1), { kind: 'path', doc, placeholder: 'PATH', ...pick(o) }, o.default) as Field<string, D>;
}

/** One of a few words. */
export function choice<const V extends readonly [string, ...string[]], D extends V[number] | undefined = undefined>(
  values: V,
  doc: string,
  o: Common<V[number]> & { default?: D } = {},
): Field<V[number], D> {
  return finish(z.enum(values as unknown as [string, ...string[]]), { kind: 'choice', doc, placeholder: values.join('|'), ...pick(o), values }, o.default) as unknown as Field<V[number], D>;
}

/** A switch. Without a default it is tri-state: unset lets the stage decide. */
export function bool<D extends boolean | undefined = undefined>(doc: string, o: Common<boolean> & { default?: D; negate?: 'both' | 'only' } = {}): Field<boolean, D> {
  return finish(z.boolean(), { kind: 'boolean', doc, ...pick(o), negate: o.negate }, o.default) as Field<boolean, D>;
}

/** A colour "R,G,B", each 0..1. */
export function rgb<D extends [number, number, number] | undefined = undefined>(doc: string, o: Common<[number, number, number]> & { default?: D } = {}): Field<[number, number, number], D> {
  const c = z.number().min(0).max(1);
  return finish(z.tuple([c, c, c]), { kind: 'rgb', doc, placeholder: 'R,G,B', ...pick(o), min: 0, max: 1 }, o.default) as unknown as Field<[number, number, number], D>;
}

/** The same field under another flag or doc (reconstruct's --train-max-size is train's --max-size). */
export function relabel<S extends z.ZodType>(schema: S, patch: Partial<OptionMeta>): S {
  const meta = optionMeta.get(schema);
  if (!meta) throw new Error('relabel: not an option field');
  const copy = schema.clone() as S;
  optionMeta.add(copy, { ...meta, ...patch });
  return copy;
}

function pick(o: Common<unknown>): Partial<OptionMeta> {
  const out: Partial<OptionMeta> = {};
  if (o.flag) out.flag = o.flag;
  if (o.short) out.short = o.short;
  if (o.placeholder) out.placeholder = o.placeholder;
  if (o.volatile) out.volatile = true;
  if (o.defaultText) out.defaultText = o.defaultText;
  return out;
}

// --- reading fields back ------------------------------------------------------------------

export interface OptionField {
  key: string;
  flag: string;
  meta: OptionMeta;
  /** the schema default, when there is one */
  default: unknown;
  schema: z.ZodType;
}

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every option of a schema with its metadata, in declaration order. */
export function optionFields(schema: z.ZodObject): OptionField[] {
  return Object.entries(schema.shape).map(([key, s]) => {
    const field = s as z.ZodType;
    const meta = optionMeta.get(field);
    if (!meta) throw new Error(`option '${key}' was not built with an option helper`);
    const def = field.def.type === 'default' ? (field.def as unknown as { defaultValue: unknown }).defaultValue : undefined;
    return { key, flag: meta.flag ?? kebab(key), meta, default: def, schema: field };
  });
}

/** The default as --help shows it. */
export function defaultText(f: OptionField): string | undefined {
  if (f.meta.defaultText) return f.meta.defaultText;
  if (f.default === undefined) return undefined;
  if (Array.isArray(f.default)) return f.default.join(',');
  return String(f.default);
}

/** "an integer in 1..10000000", "a number > 0 and ≤ 240", "one of akaze, orb". */
export function describeRange(m: OptionMeta): string {
  const big = (v: number) => (Math.abs(v) >= 1e6 && Number.isInteger(Math.log10(Math.abs(v))) ? v.toExponential().replace('e+', 'e') : String(v));
  switch (m.kind) {
    case 'int':
      return m.max! >= Number.MAX_SAFE_INTEGER ? `an integer ≥ ${m.min}` : `an integer in ${big(m.min!)}..${big(m.max!)}`;
    case 'number':
      if (m.max! === Infinity || m.max! >= 1e300) return `a number ${m.exclusiveMin ? '>' : '≥'} ${m.min}`;
      return `a number ${m.exclusiveMin ? '>' : '≥'} ${m.min} and ${m.exclusiveMax ? '<' : '≤'} ${big(m.max!)}`;
    case 'choice':
      return `one of ${m.values!.join(', ')}`;
    case 'boolean':
      return 'true or false';
    case 'rgb':
      return 'R,G,B with values in 0..1';
    default:
      return 'a non-empty string';
  }
}
