/**
 * Bad input through the real HTTP transport answers 400 (or 404 for an id that names nothing)
 * with the specific reason — never 500 "failed": duplicate class names, unknown class ids, a
 * class name that would escape the export folder, an over-long name. Real service, real
 * library, real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedLibrary, type ServedLibrary } from '../helpers/index.ts';

let served: ServedLibrary;
let imageId: number;

beforeAll(async () => {
  served = await servedLibrary('looktwice-validation-', { 'a.jpg': { width: 32, height: 32, pattern: 'shapes', seed: 1 } });
  imageId = (await served.service.listImages({})).items[0]!.id;
});

afterAll(async () => {
  await served?.close();
});

async function call(method: string, params: unknown): Promise<{ status: number; code?: string; message?: string; result?: unknown }> {
  const reply = await fetch(`${served.server.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-looktwice-token': served.server.token },
    body: JSON.stringify(params),
  });
  const body = (await reply.json()) as { result?: unknown; error?: { code: string; message: string } };
  return { status: reply.status, code: body.error?.code, message: body.error?.message, result: body.result };
}

describe('validation errors over HTTP', () => {
  it('a duplicate class name: creating it again is the same class, renaming onto it is 400', async () => {
    const cats = await call('createClass', { name: 'cats' });
    expect(cats.status).toBe(200);
    const again = await call('createClass', { name: 'cats' });
    expect(again).toMatchObject({ status: 200, result: { id: (cats.result as { id: number }).id } });
    const dogs = (await call('createClass', { name: 'dogs' })).result as { id: number };
    const clash = await call('renameClass', { classId: dogs.id, name: 'cats' });
    expect(clash).toMatchObject({ status: 400, code: 'invalid', message: 'A class named "cats" already exists.' });
    const clashCase = await call('renameClass', { classId: dogs.id, name: 'Cats' });
    expect(clashCase.status).not.toBe(500);
    expect([200, 400]).toContain(clashCase.status);
  });

  it('an unknown class id is 404 with the id, for every method that takes one', async () => {
    for (const [method, params] of [
      ['renameClass', { classId: 9999, name: 'x' }],
      ['deleteClass', { classId: 9999 }],
      ['setLabels', { imageIds: [imageId], classId: 9999 }],
    ] as const) {
      const reply = await call(method, params);
      expect({ method, ...reply }).toMatchObject({ method, status: 404, code: 'not_found', message: 'There is no class with id 9999.' });
    }
  });

  it('a class name that is a path is 400 naming the forbidden characters', async () => {
    for (const name of ['../../etc', 'a/b', '..', 'x\\y']) {
      const reply = await call('createClass', { name });
      expect({ name, ...reply }).toMatchObject({ name, status: 400, code: 'invalid', message: expect.stringMatching(/class name|cannot be a class name/i) });
    }
    const classes = (await call('listClasses', {})).result as Array<{ name: string }>;
    expect(classes.map((c) => c.name)).not.toContain('../../etc');
  });

  it('a 5,000-character name is 400 with the real limit', async () => {
    const long = 'x'.repeat(5000);
    for (const [method, params] of [
      ['createClass', { name: long }],
      ['renameClass', { classId: 1, name: long }],
    ] as const) {
      const reply = await call(method, params);
      expect({ method, ...reply }).toMatchObject({ method, status: 400, code: 'invalid', message: expect.stringContaining('at most 100 characters') });
    }
    // Just over the limit, the same words.
    const reply = await call('createClass', { name: 'y'.repeat(101) });
    expect(reply).toMatchObject({ status: 400, code: 'invalid', message: expect.stringContaining('at most 100 characters') });
    expect((await call('createClass', { name: 'z'.repeat(100) })).status).toBe(200);
  });
});
