import { tortureSuite } from './torture-suite.js';

tortureSuite(['postgres-advisory', 'postgres-pooler']);
