// Calls every method of the real @backstage/catalog-client CatalogApi against `pave serve`
// and checks the data, not only that nothing threw. Run by crates/pave/tests/backstage_client.rs:
//
//   node client.mjs <pave base URL> <fixtures JSON>
//
// fixtures: {httpBase, fileA, fileB, repoWithCatalog, repoWithout}. Prints one line per
// check ("ok <method>: …" or "FAIL <method>: …") and a final JSON summary; exits 1 on any FAIL.

import { CatalogClient } from '@backstage/catalog-client';
import { stringifyEntityRef, stringifyLocationRef } from '@backstage/catalog-model';
import { evaluateFilterPredicate } from '@backstage/filter-predicates';
import assert from 'node:assert/strict';

const [base, fixturesJson] = process.argv.slice(2);
const fixtures = JSON.parse(fixturesJson);
const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` },
});

const results = [];
async function check(method, fn) {
  try {
    const detail = await fn();
    results.push({ method, ok: true, detail });
    console.log(`ok ${method}: ${detail ?? ''}`);
  } catch (e) {
    results.push({ method, ok: false, detail: String(e?.stack ?? e) });
    console.log(`FAIL ${method}: ${e?.stack ?? e}`);
  }
}
const ref = e => stringifyEntityRef(e);
const sorted = a => [...a].sort();
async function rejects(promise, status, name) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e?.response?.status ?? e?.statusCode, status, `status of ${e}`);
    if (name) assert.equal(e?.body?.error?.name ?? e?.cause?.name, name, `error name of ${e}`);
    // Backstage's error body names the request.
    assert.ok(e?.body?.request?.method, `error body has request.method: ${JSON.stringify(e?.body)}`);
    assert.ok(e?.body?.request?.url, 'error body has request.url');
    return e;
  }
  throw new Error(`expected HTTP ${status}, got success`);
}

// --- entities ------------------------------------------------------------------------------
const all = (await client.getEntities()).items;
const allRefs = all.map(ref);

await check('getEntities', async () => {
  assert.ok(all.length > 100, `demo catalog has ${all.length} entities`);
  assert.equal(new Set(allRefs).size, all.length, 'each entity once');
  const components = (await client.getEntities({
    filter: { kind: 'Component', 'spec.lifecycle': 'production' },
    fields: ['kind', 'metadata.name', 'spec.lifecycle'],
    order: { field: 'metadata.name', order: 'desc' },
  })).items;
  const expected = all.filter(e => e.kind === 'Component' && e.spec?.lifecycle === 'production');
  assert.equal(components.length, expected.length);
  assert.deepEqual(components.map(e => e.metadata.name),
    sorted(expected.map(e => e.metadata.name.toLowerCase())).reverse().map(n => expected.find(e => e.metadata.name.toLowerCase() === n).metadata.name));
  assert.deepEqual(Object.keys(components[0]).sort(), ['kind', 'metadata', 'spec']);
  // OR of filters, existence, offset and limit.
  const apisOrGroups = (await client.getEntities({ filter: [{ kind: 'API' }, { kind: 'Group' }] })).items;
  assert.equal(apisOrGroups.length, all.filter(e => e.kind === 'API' || e.kind === 'Group').length);
  const page = (await client.getEntities({ offset: 10, limit: 5 })).items;
  assert.deepEqual(page.map(ref), allRefs.slice(10, 15));
  return `${all.length} entities; filters, fields, order, offset/limit agree`;
});

await check('queryEntities', async () => {
  // A cursor walk yields every entity exactly once, and totalItems is the count.
  const seen = [];
  let response = await client.queryEntities({ limit: 37, orderFields: { field: 'metadata.name', order: 'asc' } });
  assert.equal(response.totalItems, all.length);
  const first = response.items.map(ref);
  seen.push(...first);
  let second;
  while (response.pageInfo.nextCursor) {
    response = await client.queryEntities({ cursor: response.pageInfo.nextCursor, limit: 37 });
    if (!second) second = response;
    seen.push(...response.items.map(ref));
  }
  assert.equal(seen.length, all.length, 'walk length');
  assert.deepEqual(sorted(seen), sorted(allRefs), 'walk covers every entity once');
  // prevCursor leads back to the first page.
  const back = await client.queryEntities({ cursor: second.pageInfo.prevCursor, limit: 37 });
  assert.deepEqual(back.items.map(ref), first);
  // Filter, full text and totalItems: 'exclude'.
  const services = await client.queryEntities({
    filter: { kind: 'component', 'spec.type': 'service' },
    fullTextFilter: { term: 'ORDER', fields: ['metadata.name', 'metadata.description'] },
  });
  const expected = all.filter(e => e.kind === 'Component' && e.spec?.type === 'service' &&
    [e.metadata.name, e.metadata.description ?? ''].some(v => v.toLowerCase().includes('order')));
  assert.ok(expected.length > 0);
  assert.deepEqual(sorted(services.items.map(ref)), sorted(expected.map(ref)));
  const excluded = await client.queryEntities({ limit: 5, totalItems: 'exclude' });
  assert.equal(excluded.totalItems, 0);
  assert.equal(excluded.items.length, 5);
  return `cursor walk of ${seen.length} in pages of 37, back via prevCursor, filter + full text, totalItems exclude`;
});

await check('queryEntities (query predicate)', async () => {
  const query = { $all: [{ kind: 'component' }, { $not: { 'spec.lifecycle': 'experimental' } }, { 'spec.type': { $in: ['service', 'website'] } }] };
  const expected = all.filter(e => evaluateFilterPredicate(query, e));
  const seen = [];
  let response = await client.queryEntities({ query, limit: 10 });
  assert.equal(response.totalItems, expected.length);
  seen.push(...response.items.map(ref));
  while (response.pageInfo.nextCursor) {
    // The cursor carries the query, so the client sends it back to POST /entities/by-query.
    response = await client.queryEntities({ cursor: response.pageInfo.nextCursor, limit: 10 });
    seen.push(...response.items.map(ref));
  }
  assert.deepEqual(sorted(seen), sorted(expected.map(ref)));
  // `query` and `filter` together are ANDed; `$exists` and `$hasPrefix`.
  const both = await client.queryEntities({ query: { 'metadata.annotations.pave.dev/slo': { $exists: true } }, filter: { kind: 'Component' } });
  const withSlo = all.filter(e => e.kind === 'Component' && e.metadata.annotations?.['pave.dev/slo'] !== undefined);
  assert.equal(both.totalItems, withSlo.length);
  const prefixed = await client.queryEntities({ query: { 'metadata.name': { $hasPrefix: 'ORD' } } });
  assert.deepEqual(sorted(prefixed.items.map(ref)), sorted(all.filter(e => e.metadata.name.toLowerCase().startsWith('ord')).map(ref)));
  const bad = await rejects(client.queryEntities({ query: { kind: { $regex: 'x' } } }), 400, 'InputError');
  return `${expected.length} matches agree with evaluateFilterPredicate; query+filter; $exists; $hasPrefix; bad operator → 400 (${bad.body.error.message.slice(0, 60)}…)`;
});

await check('streamEntities', async () => {
  const seen = [];
  for await (const page of client.streamEntities({ pageSize: 100 })) seen.push(...page.map(ref));
  assert.deepEqual(sorted(seen), sorted(allRefs));
  const apis = [];
  for await (const page of client.streamEntities({ filter: { kind: 'API' }, pageSize: 7 })) apis.push(...page);
  assert.equal(apis.length, all.filter(e => e.kind === 'API').length);
  return `${seen.length} entities streamed once each; filtered stream of ${apis.length} APIs`;
});

await check('getEntitiesByRefs', async () => {
  const component = all.find(e => e.kind === 'Component');
  const group = all.find(e => e.kind === 'Group');
  const refs = [ref(group), 'component:default/no-such-thing', ref(component)];
  const { items } = await client.getEntitiesByRefs({ entityRefs: refs });
  assert.equal(items.length, 3);
  assert.equal(ref(items[0]), ref(group));
  assert.equal(items[1], undefined);
  assert.equal(ref(items[2]), ref(component));
  const filtered = await client.getEntitiesByRefs({ entityRefs: refs, filter: { kind: 'group' }, fields: ['metadata.name'] });
  assert.deepEqual(filtered.items[0], { metadata: { name: group.metadata.name } });
  assert.equal(filtered.items[2], undefined);
  // The predicate form: a group filter excludes the component.
  const byQuery = await client.getEntitiesByRefs({ entityRefs: refs, query: { kind: 'group' } });
  assert.equal(ref(byQuery.items[0]), ref(group));
  assert.equal(byQuery.items[2], undefined, 'query excludes the component');
  // Many refs are sent in chunks and come back in order.
  const many = await client.getEntitiesByRefs({ entityRefs: [...allRefs].reverse() });
  assert.deepEqual(many.items.map(ref), [...allRefs].reverse());
  return 'order kept, unknown → undefined, filter, fields and query honoured';
});

await check('getEntityByRef', async () => {
  const component = all.find(e => e.kind === 'Component');
  const found = await client.getEntityByRef(ref(component));
  assert.equal(found.metadata.uid, component.metadata.uid);
  const compound = await client.getEntityByRef({ kind: component.kind, namespace: 'default', name: component.metadata.name });
  assert.equal(ref(compound), ref(component));
  assert.equal(await client.getEntityByRef('component:default/no-such-thing'), undefined);
  return 'string and compound refs; unknown → undefined';
});

await check('getEntityAncestors', async () => {
  const component = all.find(e => e.kind === 'Component');
  const ancestry = await client.getEntityAncestors({ entityRef: ref(component) });
  assert.equal(ancestry.rootEntityRef, ref(component));
  assert.equal(ref(ancestry.items[0].entity), ref(component));
  // Every link names its parent, which is the next item; the last is a generated Location.
  for (let i = 0; i + 1 < ancestry.items.length; i++) {
    assert.deepEqual(ancestry.items[i].parentEntityRefs, [ref(ancestry.items[i + 1].entity)]);
  }
  const root = ancestry.items.at(-1);
  assert.deepEqual(root.parentEntityRefs, []);
  assert.equal(root.entity.kind, 'Location');
  assert.ok(root.entity.metadata.name.startsWith('generated-'), root.entity.metadata.name);
  await rejects(client.getEntityAncestors({ entityRef: 'component:default/no-such-thing' }), 404, 'NotFoundError');
  return `${ancestry.items.map(i => ref(i.entity)).join(' ← ')}`;
});

await check('getEntityFacets', async () => {
  const { facets } = await client.getEntityFacets({ facets: ['kind', 'spec.lifecycle', 'metadata.tags'] });
  const recount = (values) => {
    const counts = new Map();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => a.value < b.value ? -1 : 1);
  };
  const bySort = a => [...a].sort((x, y) => x.value < y.value ? -1 : x.value > y.value ? 1 : 0);
  assert.deepEqual(bySort(facets.kind), recount(all.map(e => e.kind)));
  assert.deepEqual(bySort(facets['spec.lifecycle']), recount(all.filter(e => e.spec?.lifecycle).map(e => e.spec.lifecycle)));
  assert.deepEqual(bySort(facets['metadata.tags']), recount(all.flatMap(e => [...new Set(e.metadata.tags ?? [])])));
  const filtered = await client.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'API' } });
  assert.deepEqual(bySort(filtered.facets['spec.type']), recount(all.filter(e => e.kind === 'API').map(e => e.spec.type)));
  const query = { $any: [{ kind: 'API' }, { kind: 'System' }] };
  const byQuery = await client.getEntityFacets({ facets: ['kind'], query });
  assert.deepEqual(bySort(byQuery.facets.kind), recount(all.filter(e => evaluateFilterPredicate(query, e)).map(e => e.kind)));
  return `kind ${facets.kind.length} values, lifecycle, tags, filtered and predicate facets equal a recount`;
});

await check('refreshEntity', async () => {
  const component = all.find(e => e.kind === 'Component');
  await client.refreshEntity(ref(component));
  await rejects(client.refreshEntity('component:default/no-such-thing'), 404, 'NotFoundError');
  return 'known ref refreshed; unknown → 404';
});

await check('validateEntity', async () => {
  const good = { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' }, spec: { type: 'service', lifecycle: 'production', owner: 'team' } };
  assert.deepEqual(await client.validateEntity(good, 'url:https://example.com/catalog-info.yaml'), { valid: true });
  const bad = await client.validateEntity({ ...good, spec: { type: 'service' } }, 'url:https://example.com/catalog-info.yaml');
  assert.equal(bad.valid, false);
  assert.ok(bad.errors.length > 0 && bad.errors.every(e => e.name && e.message), JSON.stringify(bad.errors));
  return `valid → {valid: true}; missing owner/lifecycle → ${bad.errors.length} errors`;
});

// --- locations -----------------------------------------------------------------------------
const demoLocations = (await client.getLocations()).items;

await check('getLocations', async () => {
  assert.ok(demoLocations.length >= 1);
  for (const l of demoLocations) {
    assert.ok(l.id && l.type && l.target, JSON.stringify(l));
    assert.match(l.entityRef, /^location:default\/generated-[0-9a-f]{40}$/);
    // The entityRef names a Location entity that exists.
    assert.ok(await client.getEntityByRef(l.entityRef), `${l.entityRef} exists`);
  }
  return `${demoLocations.length} locations with id, type, target, entityRef`;
});

await check('getLocationById', async () => {
  const l = await client.getLocationById(demoLocations[0].id);
  assert.equal(l.target, demoLocations[0].target);
  assert.equal(l.entityRef, demoLocations[0].entityRef);
  assert.equal(await client.getLocationById('00000000-0000-0000-0000-000000000000'), undefined);
  return 'found; unknown → undefined';
});

const urlA = `${fixtures.httpBase}/${fixtures.fileA}`;
const urlB = `${fixtures.httpBase}/${fixtures.fileB}`;
let added;

await check('addLocation', async () => {
  const dry = await client.addLocation({ type: 'url', target: urlA, dryRun: true });
  assert.equal(dry.location.id, `url:${urlA}`);
  assert.equal(dry.location.type, 'url');
  assert.equal(dry.exists, false);
  assert.ok(dry.entities.some(e => e.metadata.name === 'http-served'), JSON.stringify(dry.entities.map(e => e.metadata.name)));
  assert.equal(await client.getEntityByRef('component:default/http-served'), undefined, 'dry run stores nothing');
  added = await client.addLocation({ target: urlA }); // type defaults to url
  assert.equal(added.location.type, 'url');
  assert.equal(added.location.target, urlA);
  assert.match(added.location.id, /^[0-9a-f-]{36}$/);
  const served = await client.getEntityByRef('component:default/http-served');
  assert.equal(served.metadata.annotations['backstage.io/managed-by-location'], `url:${urlA}`);
  const conflict = await rejects(client.addLocation({ target: urlA }), 409, 'ConflictError');
  assert.equal(conflict.body.request.method, 'POST');
  const again = await client.addLocation({ target: urlA, onConflict: 'refresh' });
  assert.equal(again.location.id, added.location.id);
  assert.equal(again.exists, true);
  const dryAgain = await client.addLocation({ type: 'url', target: urlA, dryRun: true });
  assert.equal(dryAgain.exists, true);
  return 'dryRun id url:<target> and exists; url fetched over HTTP; 409 then onConflict refresh';
});

await check('getLocationByRef', async () => {
  const l = await client.getLocationByRef(stringifyLocationRef({ type: 'url', target: urlA }));
  assert.equal(l?.id, added.location.id);
  assert.equal(await client.getLocationByRef('url:https://example.com/nothing.yaml'), undefined);
  return `url:${urlA} found by ref`;
});

await check('getLocationByEntity', async () => {
  const l = await client.getLocationByEntity('component:default/http-served');
  assert.equal(l.id, added.location.id);
  assert.equal(l.type, 'url');
  const demo = await client.getLocationByEntity(ref(all.find(e => e.kind === 'Component')));
  assert.ok(demoLocations.some(d => d.id === demo.id));
  assert.equal(await client.getLocationByEntity('component:default/no-such-thing'), undefined);
  return 'the HTTP location and a demo location; unknown → undefined';
});

await check('queryLocations', async () => {
  const everything = await client.queryLocations({ limit: 1 });
  assert.equal(everything.items.length, 1);
  assert.equal(everything.totalItems, demoLocations.length + 1);
  assert.ok(everything.pageInfo.nextCursor);
  const next = await client.queryLocations({ cursor: everything.pageInfo.nextCursor });
  assert.notEqual(next.items[0].id, everything.items[0].id);
  const urls = await client.queryLocations({ query: { type: 'URL', target: { $hasPrefix: fixtures.httpBase } } });
  assert.deepEqual(urls.items.map(l => l.id), [added.location.id]);
  assert.equal(urls.totalItems, 1);
  const none = await client.queryLocations({ query: { $not: { type: 'url' } } });
  assert.ok(none.items.every(l => l.type !== 'url'));
  await rejects(client.queryLocations({ query: { kind: 'x' } }), 400, 'InputError');
  return 'limit and cursor; predicate on type and target prefix; $not; unknown key → 400';
});

await check('streamLocations', async () => {
  const seen = [];
  for await (const page of client.streamLocations({ limit: 1 })) seen.push(...page.map(l => l.id));
  assert.equal(seen.length, demoLocations.length + 1);
  assert.equal(new Set(seen).size, seen.length);
  return `${seen.length} locations, each once`;
});

await check('updateLocation', async () => {
  const moved = await client.updateLocation(added.location.id, { type: 'url', target: urlB });
  assert.equal(moved.id, added.location.id);
  assert.equal(moved.target, urlB);
  assert.ok(await client.getEntityByRef('component:default/http-moved'), 'the new target was read');
  assert.equal(await client.getEntityByRef('component:default/http-served'), undefined, 'what only the old target held is gone');
  assert.equal((await client.getLocationById(added.location.id)).target, urlB);
  await rejects(client.updateLocation('00000000-0000-0000-0000-000000000000', { target: urlA }), 404, 'NotFoundError');
  await rejects(client.updateLocation(added.location.id, { type: 'file', target: demoLocations[0].target }), demoLocations[0].type === 'file' ? 409 : 400);
  return 'moved to another URL; entities follow; unknown id → 404; taken target → 409';
});

await check('removeEntityByUid', async () => {
  const entity = await client.getEntityByRef('component:default/http-moved');
  await client.removeEntityByUid(entity.metadata.uid);
  assert.equal(await client.getEntityByRef('component:default/http-moved'), undefined, 'gone');
  await client.removeEntityByUid('no-such-uid'); // as in Backstage: not an error
  // It comes back when its location is read again.
  const location = await client.getLocationById(added.location.id);
  await client.refreshEntity(location.entityRef);
  const back = await client.getEntityByRef('component:default/http-moved');
  assert.ok(back, 'back after a refresh of its location');
  return 'removed, unknown uid accepted, back after refreshing its location';
});

await check('removeLocationById', async () => {
  await client.removeLocationById(added.location.id);
  assert.equal(await client.getLocationById(added.location.id), undefined);
  assert.equal(await client.getEntityByRef('component:default/http-moved'), undefined);
  await rejects(client.removeLocationById(added.location.id), 404, 'NotFoundError');
  return 'location and its entities gone; again → 404';
});

await check('analyzeLocation', async () => {
  const existing = await client.analyzeLocation({ location: { type: 'url', target: fixtures.repoWithCatalog } });
  assert.equal(existing.generateEntities.length, 0);
  assert.equal(existing.existingEntityFiles.length, 2, JSON.stringify(existing));
  const names = existing.existingEntityFiles.map(f => f.entity.metadata.name).sort();
  assert.deepEqual(names, ['analyzed-api', 'analyzed-svc']);
  assert.ok(existing.existingEntityFiles.every(f => f.isRegistered === false && f.location.type && f.location.target));
  const generated = await client.analyzeLocation({ location: { type: 'url', target: fixtures.repoWithout } });
  assert.equal(generated.existingEntityFiles.length, 0);
  assert.equal(generated.generateEntities.length, 1);
  const entity = generated.generateEntities[0].entity;
  assert.equal(entity.kind, 'Component');
  assert.equal(entity.metadata.name, 'bare-repo');
  assert.deepEqual(entity.spec, { type: 'other', lifecycle: 'unknown' });
  return 'repository with catalog files → existingEntityFiles; without → a generated Component';
});

const failed = results.filter(r => !r.ok);
console.log(JSON.stringify({ checks: results.length, failed: failed.map(f => f.method) }));
process.exit(failed.length ? 1 : 0);
