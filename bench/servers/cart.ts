/**
 * The example app's cart rules (examples/routes.ts), for the peers' servers:
 * POST /cart/items {productId} appends to the session's cart and answers
 * {items}; a cart holds at most 500 items (409 past that); a productId is a
 * non-empty string of at most 64 characters or a safe integer (400
 * otherwise). DELETE /cart empties it and answers {items: []}.
 */
export const MAX_CART_ITEMS = 500;
const MAX_PRODUCT_ID = 64;

export type ProductId = string | number;
export type CartOutcome = { readonly status: 200; readonly items: ProductId[] } | { readonly status: 400 | 409; readonly error: string };

function isProductId(value: unknown): value is ProductId {
  return (typeof value === 'string' && value.length > 0 && value.length <= MAX_PRODUCT_ID) || Number.isSafeInteger(value);
}

/** The cart after adding the body's productId, or the error status the example answers. */
export function addToCart(current: unknown, body: unknown): CartOutcome {
  const productId = (body as { productId?: unknown } | null | undefined)?.productId;
  if (!isProductId(productId)) return { status: 400, error: `productId must be a non-empty string of at most ${MAX_PRODUCT_ID} characters, or an integer` };
  const cart = Array.isArray(current) ? (current as ProductId[]) : [];
  if (cart.length >= MAX_CART_ITEMS) return { status: 409, error: `the cart holds at most ${MAX_CART_ITEMS} items` };
  return { status: 200, items: [...cart, productId] };
}
