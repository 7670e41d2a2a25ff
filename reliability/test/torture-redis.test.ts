import { tortureSuite } from './torture-suite.js';

tortureSuite(['redis', 'redis-cluster', 'redlock']);
