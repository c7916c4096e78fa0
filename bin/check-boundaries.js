// `npm run lint:boundaries`: the import graph against the layers of src/. One cruise of the tree with
// .dependency-cruiser.js (layers, what src/render may reach, module cycles), then a check the
// cruiser has no rule for that takes exceptions: no cycle between folders of src/ (src/delivery ->
// src/campaign -> src/delivery), where each file at the top of src/ counts as a folder of its own.
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import config from '../.dependency-cruiser.js';

const ROOTS = ['src', 'workers', 'bench', 'test', 'bin'];
const FOLDER_CYCLE_COMMENT =
  'Folders of src/ import each other one way only. Usually the hop with the fewest imports is the one to cut: ' +
  'move what it needs to the folder it imports from, or take it as a parameter.';

const options = await extractDepcruiseOptions('./.dependency-cruiser.js');
const { output: result } = await cruise(ROOTS, options, undefined, { tsConfig: extractTSConfig('tsconfig.json') });
if (typeof result === 'string') throw new TypeError('dependency-cruiser returned a report instead of a cruise result');

// One report for both checks, each problem as the whole path that breaks the rule (dependency-cruiser's
// own reporters name only the first module of a "reaches" violation).
const comments = new Map(config.forbidden.map((rule) => [rule.name, rule.comment]));
const problems = result.summary.violations.map((violation) => ({
  rule: violation.rule.name,
  path: [violation.from, ...(violation.cycle ?? violation.via ?? [{ name: violation.to }]).map((step) => step.name)],
  details: [],
  comment: comments.get(violation.rule.name),
}));
for (const cycle of folderCycles(result.modules)) {
  const details = cycle.hops.flatMap((hop) => [
    `${hop.from} → ${hop.to}, ${hop.imports.length} import(s):`,
    ...hop.imports.map(([from, to]) => `  ${from} → ${to}`),
  ]);
  problems.push({ rule: 'no-folder-cycle', path: cycle.path, details, comment: FOLDER_CYCLE_COMMENT });
}

for (const problem of problems) {
  process.stdout.write(`\n  error ${problem.rule}: ${problem.path.join(' → ')}\n`);
  for (const line of problem.details) process.stdout.write(`      ${line}\n`);
  process.stdout.write(`    ${problem.comment}\n`);
}
const cruised = `${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} dependencies cruised`;
process.stdout.write(problems.length > 0 ? `\n✖ ${problems.length} boundary problem(s) (${cruised})\n` : `✔ import boundaries hold (${cruised})\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

/**
 * @param {import('dependency-cruiser').IModule[]} modules
 * @returns {{ path: string[], hops: { from: string, to: string, imports: [string, string][] }[] }[]} one per group of folders in a cycle
 */
function folderCycles(modules) {
  const folderOf = (file) => /^src\/[^/]+/.exec(file)?.[0];
  /** folder -> folder -> the imports that make that edge */
  const edges = new Map();
  for (const module of modules) {
    const from = folderOf(module.source);
    if (!from) continue;
    for (const dependency of module.dependencies) {
      const to = folderOf(dependency.resolved);
      if (!to || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const byTarget = edges.get(from);
      if (!byTarget.has(to)) byTarget.set(to, []);
      byTarget.get(to).push([module.source, dependency.resolved]);
    }
  }
  const next = (folder) => [...(edges.get(folder)?.keys() ?? [])].sort();

  const found = [];
  for (const group of stronglyConnected([...edges.keys()].sort(), next)) {
    if (group.length < 2) continue;
    const start = group.sort()[0];
    const path = shortestCycle(start, (folder) => next(folder).filter((to) => group.includes(to)));
    const hops = path.slice(1).map((to, i) => ({ from: path[i], to, imports: edges.get(path[i]).get(to) }));
    found.push({ path, hops });
  }
  return found;
}

/** Tarjan's algorithm: the groups of nodes that all reach each other. */
function stronglyConnected(nodes, next) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const groups = [];
  const visit = (node) => {
    index.set(node, index.size);
    low.set(node, index.get(node));
    stack.push(node);
    for (const to of next(node)) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group = [];
      let member;
      do {
        member = stack.pop();
        group.push(member);
      } while (member !== node);
      groups.push(group);
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return groups;
}

/** Breadth-first from start back to start: the shortest way round, e.g. [a, b, a]. */
function shortestCycle(start, next) {
  const cameFrom = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of next(node)) {
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start];
}
