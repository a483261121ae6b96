/** The framework behaviour suite (framework-suite.ts) on a real Fastify 5 server, over every store (the database one through MYSQL_URL). */
import { describeSessionBehaviour } from './framework-suite.ts';

describeSessionBehaviour('fastify');
