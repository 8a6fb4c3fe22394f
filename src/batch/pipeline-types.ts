/**
 * A batch pipeline as the rest of src/batch sees it once the YAML is validated: captures × stages,
 * every path absolute, every option checked against its stage's schema.
 */

/** How often and how patiently a failed job is tried again. */
export interface RetryPolicy {
  /** tries in all, the first included (1 = no retry) */
  attempts: number;
  /** seconds before the first retry; doubled for each further one */
  backoffS: number;
}

/** What a job needs from the machine, so a scheduler does not overcommit it. */
export interface ResourceHints {
  /** worker slots it occupies (a train on 2 cores takes both); default 1 */
  slots: number;
  /** uses the GPU: at most `gpus` such jobs at once on a machine; default false */
  gpu: boolean;
  /** memory it may need, in GiB (advice, shown in plans and recorded in the queue); default unset */
  memoryGiB?: number;
}

export interface PipelineStage {
  stage: string;
  /** plain options as written (kebab-case flags or camelCase keys), validated */
  options: Record<string, unknown>;
  resources: ResourceHints;
  retries: RetryPolicy;
  /** a job running longer is cancelled and counts as a failed try; default none */
  timeoutS?: number;
}

export interface Capture {
  /** folder name of its workspace under the output root; unique in the batch */
  name: string;
  /** the photo folder or video it starts from (absolute) */
  input: string;
  /** its workspace (absolute) */
  workspace: string;
}

export interface Pipeline {
  name: string;
  /** the YAML file (absolute) */
  file: string;
  /** output root: one workspace per capture, plus the batch's own files (absolute) */
  output: string;
  /** jobs run at once (local backend: child processes; worker slots) */
  concurrency: number;
  /** GPU jobs at once on one machine */
  gpus: number;
  captures: Capture[];
  stages: PipelineStage[];
  /** stages named with `when-available` that this build lacks (left out, reported) */
  skippedStages: string[];
}

/** One stage of one capture: the unit a queue schedules. */
export interface JobSpec {
  /** `<capture>/<stage>`: stable across re-runs, so a re-run finds what finished */
  id: string;
  capture: string;
  stage: string;
  /** position of the stage in the pipeline: a job runs when the one at step-1 succeeded */
  step: number;
  workspace: string;
  /** plain options, the capture's input filled in where the stage takes it */
  options: Record<string, unknown>;
  resources: ResourceHints;
  retries: RetryPolicy;
  timeoutS?: number;
}

/** The jobs of a pipeline in order: capture by capture, stage by stage. */
export function planJobs(p: Pipeline, inputOptionOf: (stage: string) => string | undefined): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const c of p.captures) {
    p.stages.forEach((s, step) => {
      const inputKey = inputOptionOf(s.stage);
      jobs.push({
        id: `${c.name}/${s.stage}`,
        capture: c.name,
        stage: s.stage,
        step,
        workspace: c.workspace,
        options: inputKey ? { ...s.options, [inputKey]: c.input } : { ...s.options },
        resources: s.resources,
        retries: s.retries,
        ...(s.timeoutS !== undefined ? { timeoutS: s.timeoutS } : {}),
      });
    });
  }
  return jobs;
}
