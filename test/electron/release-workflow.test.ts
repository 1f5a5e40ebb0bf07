// .github/workflows/release.yml cannot run here (no internet); check that it is well-formed YAML
// and builds what electron-builder.yml promises on each of the three operating systems.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { createRequire } from 'node:module';

// js-yaml comes with electron-builder (it reads electron-builder.yml with it); no types shipped.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface Step { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; shell?: string }
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': string; needs?: string; if?: string; strategy?: { matrix: { include: Array<{ os: string; artifacts: string; chromium: string }> } }; steps: Step[] }>;
}

const workflow = yaml.load(fs.readFileSync('.github/workflows/release.yml', 'utf8')) as Workflow;

describe('release workflow', () => {
  it('runs on version tags and by hand', () => {
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(workflow.on.push).toEqual({ tags: ['v*'] });
  });

  it('builds on Linux, macOS and Windows runners', () => {
    const include = workflow.jobs.installers!.strategy!.matrix.include;
    const oses = include.map((entry) => entry.os);
    expect(oses.some((os) => os.startsWith('ubuntu'))).toBe(true);
    expect(oses.some((os) => os.startsWith('macos'))).toBe(true);
    expect(oses.some((os) => os.startsWith('windows'))).toBe(true);
    expect(workflow.jobs.installers!['runs-on']).toBe('${{ matrix.os }}');
    // The renderer tests need a Chromium; each runner names its preinstalled Chrome.
    for (const entry of include) expect(entry.chromium, entry.os).toMatch(/chrome/i);
  });

  it('installs, checks, tests the shell, builds installers and uploads exactly the targets', () => {
    const steps = workflow.jobs.installers!.steps;
    const runs = steps.map((step) => step.run ?? '').join('\n');
    const order = ['npm ci', 'npm run check', 'npx vitest run test/electron', 'npm run dist'].map((command) => runs.indexOf(command));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const upload = steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.with).toMatchObject({ path: '${{ matrix.artifacts }}', 'if-no-files-found': 'error' });
    const artifacts = workflow.jobs.installers!.strategy!.matrix.include.map((entry) => `${entry.os}: ${entry.artifacts.trim()}`).join('\n');
    for (const extension of ['AppImage', 'deb', 'dmg', 'exe']) expect(artifacts).toContain(`release/*.${extension}`);
  });

  it('drafts a release from every platform’s installers on a tag', () => {
    const release = workflow.jobs.release!;
    expect(release.needs).toBe('installers');
    expect(release.if).toContain("refs/tags/v");
    expect(release.steps.map((step) => step.run ?? '').join('\n')).toMatch(/gh release create .*--draft/);
  });
});
