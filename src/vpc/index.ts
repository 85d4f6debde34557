/**
 * vpc/: the tenant-facing VPC model and its compiler. `intent.ts` declares the objects (zod
 * schemas); `validate` lists every problem of an intent with its path; `compile` turns it into the
 * fabric's plan (pure, deterministic, VNIs stable); `diffPlans` / `renderPlanDiff` show what applying
 * a new plan changes; `analyzeReach` answers from the plan whether traffic would pass, and why not;
 * `pingProbe` / `traceProbe` send real packets from an instance through the applied fabric.
 * Imports nothing from `node:`.
 */
export * from './addresses.js';
export * from './apply.js';
export * from './compile.js';
export * from './diff.js';
export * from './intent.js';
export * from './plan.js';
export * from './probe.js';
export * from './reach.js';
export * from './reach-confirm.js';
export * from './validate.js';
