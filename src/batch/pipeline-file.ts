/**
 * Load and validate a pipeline YAML before any work starts. Every mistake — an unknown stage or
 * option, a bad value, an input glob that matches nothing — is one line naming the file, the line
 * and the column of the offending node: `pipelines/x.yaml:14:7: train: --iterations must be …`.
 * Option values are checked by the stage's own schema (the same messages as the CLI).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parse as parseYaml, parseDocument, isMap, isSeq, isScalar, type Node, type YAMLMap, type Pair } from 'yaml';
import { UserError, errorMessage, fsError } from '../util/errors.js';
import type { StageCatalog } from './stage-bridge.js';
import type { Capture, Pipeline, PipelineStage, ResourceHints, RetryPolicy } from './pipeline-types.js';
import { captureNames, expandGlob, isCaptureInput } from './inputs.js';

export interface LoadOverrides {
  /** replace the YAML's inputs (paths or globs, relative to the current folder) */
  inputs?: string[];
  /** replace the YAML's output root (relative to the current folder) */
  output?: string;
  /** replace the YAML's concurrency */
  concurrency?: number;
  /** `STAGE.OPTION=VALUE` (batch --set): set one stage option, e.g. train.iterations=300 */
  set?: string[];
}

const TOP_KEYS = ['name', 'inputs', 'output', 'concurrency', 'gpus', 'retries', 'resources', 'stages'];
const STAGE_KEYS = ['stage', 'options', 'resources', 'retries', 'timeout', 'when-available'];
const DEFAULT_RETRIES: RetryPolicy = { attempts: 2, backoffS: 5 };
const DEFAULT_RESOURCES: ResourceHints = { slots: 1, gpu: false };

export function loadPipeline(file: string, catalog: StageCatalog, over: LoadOverrides = {}): Pipeline {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    // the fs error's own message without its fix: one fix per line
    const fe = fsError(e, abs);
    const why = fe instanceof UserError ? fe.message.replace(`${abs}: `, '') : errorMessage(e);
    const wrongPath = ['ENOENT', 'EISDIR', 'ENOTDIR'].includes(String((e as NodeJS.ErrnoException).code));
    const fix = fe instanceof UserError && !wrongPath && fe.fix ? fe.fix : 'pass the path of a pipeline YAML, e.g. pipelines/drive-footage.yaml';
    throw new UserError(`cannot read pipeline ${file} (${abs}): ${why}`, { file, fix });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: Node | Pair | null | undefined, msg: string, fix?: string): UserError => {
    const range = node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined;
    const pos = range ? lines.linePos(range[0]) : { line: 1, col: 1 };
    return new UserError(`${file}:${pos.line}:${pos.col}: ${msg}`, fix ? { fix } : {});
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new UserError(`${file}:${pos.line}:${pos.col}: not valid YAML (${e.message.split('\n')[0]})`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw at(root, 'a pipeline is a mapping with inputs, output and stages', 'see pipelines/README.md');
  checkKeys(root, TOP_KEYS, 'pipeline', at);
  const base = path.dirname(abs);

  const defaults = {
    retries: parseRetries(root.get('retries', true) as Node | undefined, DEFAULT_RETRIES, at),
    resources: parseResources(root.get('resources', true) as Node | undefined, DEFAULT_RESOURCES, at),
  };
  const stages = parseStages(root, catalog, defaults, at);
  applySet(stages.stages, over.set ?? [], catalog);
  const captures = parseInputs(root, base, over, at);
  const outputNode = root.get('output', true) as Node | undefined;
  const outputRaw = over.output ?? scalarString(outputNode, 'output', at);
  if (!outputRaw) throw at(root, "no 'output' folder (one workspace per capture goes there)", 'add output: <folder>');
  const output = over.output ? path.resolve(over.output) : path.resolve(base, outputRaw);
  const concurrency = over.concurrency ?? positiveInt(root.get('concurrency', true) as Node | undefined, 'concurrency', 1, at);
  return {
    name: scalarString(root.get('name', true) as Node | undefined, 'name', at) ?? path.basename(abs).replace(/\.ya?ml$/, ''),
    file: abs,
    output,
    concurrency,
    gpus: positiveInt(root.get('gpus', true) as Node | undefined, 'gpus', 1, at),
    captures: captures.map((c, i) => ({ ...c, name: captureNames(captures.map((x) => x.input))[i]!, workspace: '' })).map((c) => ({ ...c, workspace: path.join(output, c.name) })),
    stages: stages.stages,
    skippedStages: stages.skipped,
  };
}

type At = (node: Node | Pair | null | undefined, msg: string, fix?: string) => UserError;

function parseStages(root: YAMLMap, catalog: StageCatalog, defaults: { retries: RetryPolicy; resources: ResourceHints }, at: At): { stages: PipelineStage[]; skipped: string[] } {
  const seq = root.get('stages', true) as Node | undefined;
  if (!isSeq(seq) || seq.items.length === 0) throw at(seq ?? root, "'stages' must be a list of stages", 'e.g. stages: [{stage: ingest}, {stage: sfm}]');
  const out: PipelineStage[] = [];
  const skipped: string[] = [];
  for (const item of seq.items as Node[]) {
    const entry = isScalar(item) ? null : item;
    if (entry && !isMap(entry)) throw at(item, 'a stage is a name or a mapping with stage: and options:');
    const nameNode = entry ? (entry.get('stage', true) as Node | undefined) : item;
    const name = scalarString(nameNode, 'stage', at);
    if (!name) throw at(item, "a stage without 'stage: <name>'");
    if (entry) checkKeys(entry, STAGE_KEYS, `stage '${name}'`, at);
    const whenAvailable = entry ? bool(entry.get('when-available', true) as Node | undefined, 'when-available', at) : false;
    const spec = catalog.stages.get(name);
    if (!spec) {
      const missing = catalog.unavailable(name);
      if (missing && whenAvailable) {
        skipped.push(name);
        continue;
      }
      if (missing) throw at(nameNode, missing, `remove it, or mark it 'when-available: true'`);
      throw at(nameNode, `unknown stage '${name}'`, `use one of ${[...catalog.stages.keys()].join(', ')}`);
    }
    if (out.some((s) => s.stage === name)) throw at(nameNode, `stage '${name}' is listed twice`);
    const later = out.find((s) => catalog.stages.get(s.stage)!.after.includes(name));
    if (later) throw at(nameNode, `${name} must come before ${later.stage} (${later.stage} reads what ${name} writes)`);
    const optionsNode = entry?.get('options', true) as Node | undefined;
    const options = parseOptions(name, optionsNode, spec, at);
    const timeoutNode = entry?.get('timeout', true) as Node | undefined;
    out.push({
      stage: name,
      options,
      resources: parseResources(entry?.get('resources', true) as Node | undefined, defaults.resources, at),
      retries: parseRetries(entry?.get('retries', true) as Node | undefined, defaults.retries, at),
      ...(timeoutNode ? { timeoutS: duration(timeoutNode, 'timeout', at) } : {}),
    });
  }
  if (out.length === 0) throw at(seq, 'no stage of this pipeline is available in this build');
  return { stages: out, skipped };
}

/** `--set train.iterations=300`: the value is read as YAML (300 → a number, true → a switch). */
function applySet(stages: PipelineStage[], sets: readonly string[], catalog: StageCatalog): void {
  for (const item of sets) {
    const m = /^([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9-]*)=(.*)$/s.exec(item);
    if (!m) throw new UserError(`--set ${item}: expected STAGE.OPTION=VALUE`, { fix: 'e.g. --set train.iterations=300' });
    const [, name, key, raw] = m as unknown as [string, string, string, string];
    const stage = stages.find((s) => s.stage === name);
    if (!stage) throw new UserError(`--set ${item}: this pipeline has no stage '${name}'`, { fix: `use one of ${stages.map((s) => s.stage).join(', ')}` });
    const spec = catalog.stages.get(name)!;
    if (key === spec.inputOption) throw new UserError(`--set ${item}: '${key}' is set per capture from inputs`);
    let value: unknown;
    try {
      value = parseYaml(raw) as unknown;
    } catch {
      value = raw;
    }
    // The same option may be written as a flag name or a camelCase key: the override replaces both.
    const camel = key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const options = Object.fromEntries(Object.entries(stage.options).filter(([k]) => k !== camel && k !== kebab));
    options[key] = value;
    try {
      spec.validate(options);
    } catch (e) {
      throw new UserError(`--set ${item}: ${name}: ${errorMessage(e).replace(/ \(fix: .*\)$/, '')}`, { fix: `see r2s ${name} --help` });
    }
    stage.options = options;
  }
}

/** Options are checked one by one (so an error points at its line), then together. */
function parseOptions(stage: string, node: Node | undefined, spec: NonNullable<ReturnType<StageCatalog['stages']['get']>>, at: At): Record<string, unknown> {
  if (node === undefined || (isScalar(node) && node.value === null)) return {};
  if (!isMap(node)) throw at(node, `${stage}: options must be a mapping of option: value`);
  const options: Record<string, unknown> = {};
  for (const pair of node.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const value = isScalar(pair.value) ? pair.value.value : (pair.value as Node | null)?.toJSON();
    if (key === spec.inputOption) throw at(pair, `${stage}: '${key}' is set per capture from inputs`, 'remove it from options');
    try {
      spec.validate({ [key]: value });
    } catch (e) {
      const near = key.startsWith('-') ? ` (write '${key.replace(/^-+/, '')}')` : '';
      throw at(pair, `${stage}: ${errorMessage(e).replace(/ \(fix: .*\)$/, '')}${near}`, `see r2s ${stage} --help`);
    }
    options[key] = value;
  }
  try {
    spec.validate(options);
  } catch (e) {
    throw at(node, `${stage}: ${errorMessage(e)}`);
  }
  return options;
}

function parseInputs(root: YAMLMap, base: string, over: LoadOverrides, at: At): Array<Omit<Capture, 'name' | 'workspace'>> {
  const found: string[] = [];
  if (over.inputs?.length) {
    for (const pattern of over.inputs) {
      const matches = expandGlob(pattern, process.cwd()).filter(isCaptureInput);
      if (!matches.length) throw new UserError(`--input ${pattern}: matches no folder or video`, { fix: 'check the path or glob (quote it so the shell does not expand it)' });
      found.push(...matches);
    }
  } else {
    const seq = root.get('inputs', true) as Node | undefined;
    const items = isSeq(seq) ? (seq.items as Node[]) : seq ? [seq] : [];
    if (!items.length) throw at(seq ?? root, "no 'inputs' (photo folders or videos, paths or globs)", 'add inputs: [path/to/clips/*.mp4]');
    for (const item of items) {
      const pattern = scalarString(item, 'inputs', at)!;
      const matches = expandGlob(pattern, base);
      if (!matches.length) throw at(item, `input '${pattern}' matches nothing (relative to ${base})`, 'check the path or glob');
      const usable = matches.filter(isCaptureInput);
      if (!usable.length) throw at(item, `input '${pattern}' matches no folder or video (${matches.length} other files)`, 'point at photo folders or video files');
      found.push(...usable);
    }
  }
  return [...new Set(found)].map((input) => ({ input }));
}

function parseRetries(node: Node | undefined, def: RetryPolicy, at: At): RetryPolicy {
  if (!node) return def;
  if (!isMap(node)) throw at(node, 'retries must be a mapping: {attempts: N, backoff: 10s}');
  checkKeys(node, ['attempts', 'backoff'], 'retries', at);
  const a = node.get('attempts', true) as Node | undefined;
  const b = node.get('backoff', true) as Node | undefined;
  return { attempts: a ? positiveInt(a, 'attempts', def.attempts, at) : def.attempts, backoffS: b ? duration(b, 'backoff', at) : def.backoffS };
}

function parseResources(node: Node | undefined, def: ResourceHints, at: At): ResourceHints {
  if (!node) return def;
  if (!isMap(node)) throw at(node, 'resources must be a mapping: {slots: N, gpu: true, memory: 4G}');
  checkKeys(node, ['slots', 'gpu', 'memory'], 'resources', at);
  const mem = node.get('memory', true) as Node | undefined;
  let memoryGiB = def.memoryGiB;
  if (mem) {
    const m = /^(\d+(?:\.\d+)?)\s*(G|GB|GiB|M|MB|MiB)?$/i.exec(String(isScalar(mem) ? mem.value : ''));
    if (!m) throw at(mem, `memory must be like 4G or 512M, got '${String(isScalar(mem) ? mem.value : '?')}'`);
    memoryGiB = Number(m[1]) / (/^m/i.test(m[2] ?? 'G') ? 1024 : 1);
  }
  const slots = node.get('slots', true) as Node | undefined;
  return {
    slots: slots ? positiveInt(slots, 'slots', def.slots, at) : def.slots,
    gpu: node.has('gpu') ? bool(node.get('gpu', true) as Node, 'gpu', at) : def.gpu,
    ...(memoryGiB !== undefined ? { memoryGiB } : {}),
  };
}

function checkKeys(map: YAMLMap, allowed: readonly string[], where: string, at: At): void {
  for (const pair of map.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    if (!allowed.includes(key)) throw at(pair, `unknown key '${key}' in ${where}`, `use ${allowed.join(', ')}`);
  }
}

function scalarString(node: Node | undefined | null, what: string, at: At): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') throw at(node, `${what} must be a text value`);
  return String(node.value);
}

/** Counts (concurrency, GPUs, attempts) beyond this are typing errors, not plans. */
const MAX_COUNT = 10_000;

function positiveInt(node: Node | undefined, what: string, def: number, at: At): number {
  if (!node) return def;
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_COUNT) {
    throw at(node, `${what} must be a whole number from 1 to ${MAX_COUNT}, got ${JSON.stringify(v ?? null)}`);
  }
  return v;
}

function bool(node: Node | undefined, what: string, at: At): boolean {
  if (!node) return false;
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'boolean') throw at(node, `${what} must be true or false`);
  return v;
}

/** Seconds from 30, "30s", "5m", "2h". */
function duration(node: Node, what: string, at: At): number {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'number' && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim()) : null;
  if (!m) throw at(node, `${what} must be a duration like 30s, 5m or 2h, got ${JSON.stringify(v ?? null)}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
