/** 100 concurrent POST /cart/items on one session all land: the example uses the manager's atomic update(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueUsername, login, postJson, SERVERS, appPerSuite, STORES, getWithCookie } from './app-fixture.ts';

const ADDITIONS = 100;

for (const storageType of STORES) {
  for (const server of SERVERS) {
    describe(`concurrent cart additions on ${server} over the ${storageType} store`, () => {
      const suite = appPerSuite(server, storageType);


      it(`keeps all ${ADDITIONS} items added at once`, async (t) => {
        if (suite.skip) return t.skip(suite.skip);
        const cookie = await login(suite.app, uniqueUsername('shopper', `cart-${server}-${storageType}`));
        const productIds = Array.from({ length: ADDITIONS }, (_, i) => `product-${i}`);
        const responses = await Promise.all(productIds.map((productId) => postJson(suite.app.url('/cart/items'), { productId }, cookie)));
        assert.deepEqual(
          responses.map((r) => r.status),
          productIds.map(() => 200),
        );
        const lengths = await Promise.all(responses.map(async (r) => ((await r.json()) as { items: unknown[] }).items.length));
        // Each answer is the cart right after that addition: 1..100, each once.
        assert.deepEqual([...lengths].sort((a, b) => a - b), productIds.map((_, i) => i + 1));
        const { items } = (await (await getWithCookie(suite.app.url('/cart'), cookie)).json()) as { items: string[] };
        assert.equal(items.length, ADDITIONS);
        assert.deepEqual([...items].sort(), [...productIds].sort());
        assert.deepEqual(suite.app.logged, []);
      });
    });
  }
}
