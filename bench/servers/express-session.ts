/** express 5 + express-session with its default MemoryStore, configured as its README recommends: login, profile and the cart. */
import { startExpressSessionApp } from './express-session-app.ts';

startExpressSessionApp();
