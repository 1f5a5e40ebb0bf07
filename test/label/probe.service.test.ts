import { afterEach, describe, expect, it } from 'vitest';
import { LabelsService } from '../../core/label/labels.service.ts';
import { ProbeService } from '../../core/label/probe.service.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { labelFixture, type LabelFixture } from './library-fixture.ts';

let fixture: LabelFixture | null = null;
afterEach(() => {
  fixture?.temp.cleanup();
  fixture = null;
});

function services(f: LabelFixture) {
  const repository = new LabelsRepository(f.temp.library.db);
  return {
    repository,
    labels: new LabelsService(repository),
    probe: new ProbeService(repository, new EmbeddingsRepository(f.temp.library.db)),
  };
}

describe('labels and the probe on a real library', () => {
  it('labels by file and by folder, clears, keeps history, reports unknown paths', async () => {
    fixture = await labelFixture({ cat: 3, dog: 3 });
    const { labels, repository } = services(fixture);
    const cats = fixture.images.filter((image) => image.trueClass === 'cat');
    const first = labels.labelPaths('cat', [cats[0]!.path, '/no/such/file.jpg']);
    expect(first).toMatchObject({ changed: 1, images: 1 });
    expect(first.notFound).toEqual([{ path: '/no/such/file.jpg', reason: 'no such file or folder' }]);
    // A folder labels everything under it.
    const folder = labels.labelPaths('dog', [fixture.temp.photosDir + '/dog-src']);
    expect(folder.changed).toBe(3);
    // Relabel one dog as cat, then clear it.
    const dog = fixture.images.find((image) => image.trueClass === 'dog')!;
    labels.labelPaths('cat', [dog.path]);
    expect(labels.listClasses().map((c) => [c.name, c.userLabels])).toEqual([['cat', 2], ['dog', 2]]);
    expect(labels.clearPaths([dog.path]).changed).toBe(1);
    expect(labels.clearPaths([dog.path]).changed).toBe(0);
    const history = repository.history(dog.imageId);
    expect(history.map((h) => [h.action, h.className, h.previousClassName])).toEqual([
      ['set', 'dog', null],
      ['set', 'cat', 'dog'],
      ['clear', null, 'cat'],
    ]);
    expect(() => labels.createClass('a/b')).toThrow(/not allowed in folder names/);
  });

  it('needs two classes, then trains, cross-validates, calibrates and predicts every unlabeled image', async () => {
    fixture = await labelFixture({ cat: 12, dog: 12, bird: 12 });
    const { labels, probe, repository } = services(fixture);
    const byClass = (name: string) => fixture!.images.filter((image) => image.trueClass === name);
    labels.labelPaths('cat', byClass('cat').slice(0, 5).map((image) => image.path));
    expect(() => probe.run()).toThrow(/at least two classes/);
    labels.labelPaths('dog', byClass('dog').slice(0, 5).map((image) => image.path));
    labels.labelPaths('bird', byClass('bird').slice(0, 5).map((image) => image.path));
    const outcome = probe.run();
    expect(outcome.classes.sort()).toEqual(['bird', 'cat', 'dog']);
    expect(outcome.labeled).toBe(15);
    expect(outcome.cvAccuracy).not.toBeNull();
    expect(outcome.cvAccuracy!).toBeGreaterThan(0.9);
    expect(outcome.temperature).toBeGreaterThan(0);
    expect(outcome.predicted + outcome.unsure).toBe(36 - 15);
    const predictions = repository.predictions();
    expect(predictions).toHaveLength(21);
    const truth = new Map(fixture.images.map((image) => [image.imageId, image.trueClass]));
    const correct = predictions.filter((p) => truth.get(p.imageId) === p.className).length;
    expect(correct / predictions.length).toBeGreaterThan(0.9);
    for (const p of predictions) {
      expect(p.confidence).toBeGreaterThan(1 / 3 - 1e-6);
      expect(p.confidence).toBeLessThanOrEqual(1);
      expect(p.unsure).toBe(p.confidence < 0.5);
    }
    expect(probe.latest()).toMatchObject({ labeled: 15, cvAccuracy: outcome.cvAccuracy });
    // Labeling an image drops its stale prediction.
    labels.labelPaths('cat', [byClass('cat')[6]!.path]);
    expect(repository.predictions().some((p) => p.imageId === byClass('cat')[6]!.imageId)).toBe(false);
  });

  it('gives no CV accuracy with a single label in a class, and an unsure count with a high threshold', async () => {
    fixture = await labelFixture({ cat: 4, dog: 4 }, { noise: 2 });
    const { labels, probe } = services(fixture);
    labels.labelPaths('cat', [fixture.images[0]!.path]);
    labels.labelPaths('dog', [fixture.images[4]!.path]);
    const outcome = probe.run({ unsureBelow: 0.9 });
    expect(outcome.cvAccuracy).toBeNull();
    expect(outcome.temperature).toBe(1); // nothing held out to calibrate on
    const predictions = new LabelsRepository(fixture.temp.library.db).predictions();
    expect(outcome.unsure).toBe(predictions.filter((p) => p.confidence < 0.9).length);
    expect(outcome.predicted).toBe(predictions.filter((p) => p.confidence >= 0.9).length);
    expect(outcome.unsure + outcome.predicted).toBe(6);
  });

  it('accepts confident predictions of one class as probe labels, and the probe still trains on user labels only', async () => {
    fixture = await labelFixture({ cat: 10, dog: 10 });
    const { labels, probe, repository } = services(fixture);
    labels.labelPaths('cat', fixture.images.slice(0, 3).map((image) => image.path));
    labels.labelPaths('dog', fixture.images.slice(10, 13).map((image) => image.path));
    probe.run();
    const catId = repository.classByName('cat')!.id;
    const expected = probe.countPredictions(catId, 0.6);
    expect(expected).toBeGreaterThan(0);
    expect(probe.acceptPredictions(catId, 0.6)).toBe(expected);
    const accepted = repository.labels('probe');
    expect(accepted).toHaveLength(expected);
    for (const label of accepted) {
      expect(label.className).toBe('cat');
      expect(label.confidence).toBeGreaterThanOrEqual(0.6);
    }
    expect(repository.history(accepted[0]!.imageId).at(-1)).toMatchObject({ action: 'accept', source: 'probe' });
    const again = probe.run();
    expect(again.labeled).toBe(6);
    expect(again.predicted + again.unsure).toBe(20 - 6 - expected);
    expect(labels.listClasses().find((c) => c.name === 'cat')!.probeLabels).toBeGreaterThanOrEqual(expected);
  });

  it('suggests distinct unlabeled images with reasons: typical ones at cold start, uncertain ones with a probe', async () => {
    fixture = await labelFixture({ cat: 10, dog: 10, bird: 10 });
    const { labels, probe } = services(fixture);
    const cold = probe.suggest({ count: 3 });
    expect(cold).toHaveLength(3);
    expect(new Set(cold.map((s) => s.imageId)).size).toBe(3);
    for (const suggestion of cold) expect(suggestion.reason).toMatch(/typical of a group/);
    // The three typical images of a well-separated library come from three different classes.
    const truth = new Map(fixture.images.map((image) => [image.imageId, image.trueClass]));
    expect(new Set(cold.map((s) => truth.get(s.imageId))).size).toBe(3);

    labels.labelPaths('cat', [fixture.images[0]!.path]);
    labels.labelPaths('dog', [fixture.images[10]!.path]);
    const warm = probe.suggest({ count: 5 });
    expect(warm).toHaveLength(5);
    const labeledIds = new Set([fixture.images[0]!.imageId, fixture.images[10]!.imageId]);
    for (const suggestion of warm) {
      expect(labeledIds.has(suggestion.imageId)).toBe(false);
      expect(suggestion.reason).toMatch(/^the probe (is unsure: (cat|dog) \d+ % vs (cat|dog) \d+ %|says (cat|dog) \d+ % vs (cat|dog) \d+ %, but no label covers this group yet)/);
      expect(suggestion.predictedClassName).toMatch(/cat|dog/);
    }
    // Birds belong to neither labeled class: the probe is least sure there, and the picks say so.
    expect(warm.filter((s) => truth.get(s.imageId) === 'bird').length).toBeGreaterThanOrEqual(1);
  });
});
