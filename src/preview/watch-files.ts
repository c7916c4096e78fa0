/**
 * Calls back once per burst of saves. Folders are watched, not files: editors that save
 * by writing a new file and renaming it over the old one would end a file watch.
 */
import { watch, type FSWatcher } from 'node:fs';

export interface WatchTarget {
  dir: string;
  /** Only names (relative to dir) that match count; swap and backup files do not. */
  matches: RegExp;
}

export function watchFolders(targets: WatchTarget[], onChange: (changed: string[]) => void, debounceMs = 60): () => void {
  const watchers: FSWatcher[] = [];
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const changed = [...pending];
    pending = new Set();
    onChange(changed);
  };
  for (const target of targets) {
    const watcher = watch(target.dir, { recursive: true }, (_event, name) => {
      const file = name ? String(name) : '';
      if (file && !target.matches.test(file)) return;
      pending.add(file);
      clearTimeout(timer);
      timer = setTimeout(flush, debounceMs);
    });
    // A watched folder that disappears should not take the preview down.
    watcher.on('error', () => watcher.close());
    watchers.push(watcher);
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
