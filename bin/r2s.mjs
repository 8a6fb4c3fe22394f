#!/usr/bin/env node
// Entry point installed as `r2s`: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
