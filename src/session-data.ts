/**
 * The types of session data.
 *
 * Type a manager's data with a type argument:
 *
 *   interface AppData { user_id: string; cart: string[] }
 *   const sessions = await createSessionManager<AppData>({ … });
 *   session.data.cart        // string[] | undefined (a session starts empty)
 *   session.data.crt         // compile error: no such key
 *
 * or, for every manager and the framework adapters' `req.session` at once,
 * by declaration merging:
 *
 *   declare module 'rockstar-session' {
 *     interface SessionData { user_id: string; cart: string[] }
 *   }
 *
 * `Data` may be an interface (interfaces have no index signature, so the
 * constraint is `object`, not `Record<string, unknown>`).
 */

/** Augment this interface to type every manager's data (see above). Empty: data is `Record<string, unknown>`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {}

/** The data type a manager uses when none is given: the augmented SessionData, or `Record<string, unknown>`. */
export type DefaultSessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

/** The string keys of a data type: what get/set/update/delete accept. */
export type DataKey<Data extends object> = Extract<keyof Data, string>;

/** How the engine sees data inside: a plain object of storable values. */
export type DataRecord = Record<string, unknown>;
