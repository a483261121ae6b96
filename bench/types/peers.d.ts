// Peers without bundled types that the bench loads through createRequire: declared loosely on purpose.
declare module 'memorystore';
declare module 'session-file-store';
declare module 'express-mysql-session';
declare module 'express-session';
declare module 'express';
