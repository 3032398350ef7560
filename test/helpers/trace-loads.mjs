// `node --import ./test/helpers/trace-loads.mjs …` appends the URL of every module the process loads to the
// file named by EVIDENT_TRACE_LOADS: what a command's start-up pulls in (test/cli/startup.test.ts).
import { appendFileSync } from 'node:fs';
import { env } from 'node:process';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// this file is also the hooks module; registered once, from the main thread
if (isMainThread) register(import.meta.url);

export async function load(url, context, next) {
  if (env.EVIDENT_TRACE_LOADS) appendFileSync(env.EVIDENT_TRACE_LOADS, `${url}\n`);
  return next(url, context);
}
