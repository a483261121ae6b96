/** The framework behaviour suite (framework-suite.ts) on real Express 4 and Express 5 servers, over every store (the database one through MYSQL_URL). */
import { describeSessionBehaviour } from './framework-suite.ts';
import { EXPRESS_KINDS } from './framework-fixture.ts';

for (const kind of EXPRESS_KINDS) describeSessionBehaviour(kind);
