import type { GlobalOptions } from '../context';

/** `mandate init [DIR]` (placeholder until the scaffold lands). */
export async function runInit(_options: GlobalOptions & { dir: string }): Promise<number> {
  return 0;
}
