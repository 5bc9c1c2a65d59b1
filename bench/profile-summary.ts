/**
 * Summarize a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile`): where the busy
 * time went, by package or file and by function, leaving out idle time and module loading at
 * start-up (the profile covers the whole life of the process; only the load runs keep it busy).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=30] [fn,fn,…]
 *
 * The optional function names get inclusive times (their own time plus their callees').
 *
 * @module
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const DEFAULT_INCLUSIVE =
  'login,callback,parLoginMiddleware,guard,dispatch,pushAuthorizationRequest,session,send,set,get,touch,apply,redirect,createRequestAuth';

/** `src/login.ts`, `express-session`, `node:http`-like names, or the VM's own `(garbage collector)`. */
function origin(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:src|bench|sample-app|test)\/.*)$/.exec(url);
  if (own) return own[1]!;
  return url.replace(/^node:internal\/(?:deps\/)?([^/]+).*/, 'node:$1');
}

function isStartup(frame: ProfileNode['callFrame']): boolean {
  return /^node:internal\/(modules|bootstrap)|\/tsx\/|cjs-module-lexer/.test(frame.url);
}

function main(): void {
  const [file, topArg, namesArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top] [fn,fn,…]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const wanted = new Set((namesArg ?? DEFAULT_INCLUSIVE).split(','));

  const add = (map: Map<string, number>, key: string, value: number): void =>
    void map.set(key, (map.get(key) ?? 0) + value);
  const perFunction = new Map<string, number>();
  const perOrigin = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  let startup = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const time = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') return void (idle += time);
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (stack.some((frame) => isStartup(frame.callFrame))) return void (startup += time);
    busy += time;
    const { functionName, lineNumber } = node.callFrame;
    add(perFunction, `${functionName || '(anonymous)'} ${origin(node.callFrame)}:${lineNumber + 1}`, time);
    add(perOrigin, origin(node.callFrame), time);
    const counted = new Set<string>();
    for (const frame of stack) {
      const key = `${frame.callFrame.functionName} ${origin(frame.callFrame)}`;
      if (wanted.has(frame.callFrame.functionName) && !counted.has(key)) {
        counted.add(key);
        add(inclusive, key, time);
      }
    }
  });
  const print = (title: string, map: Map<string, number>, top: number): void => {
    console.log(`\n${title}`);
    for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `${((time / busy) * 100).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(6)} ms  ${key}`,
      );
    }
  };
  const s = (us: number): string => `${(us / 1e6).toFixed(1)} s`;
  console.log(
    `${file}\nbusy ${s(busy)} (percentages below are of this), idle ${s(idle)}, module loading ${s(startup)}`,
  );
  print('Self time by package or file', perOrigin, 25);
  print('Self time by function', perFunction, Number(topArg ?? 30));
  print('Inclusive time (synchronous parts, callees included)', inclusive, 25);
}

main();
