import { tortureSuite } from './torture-suite.js';

tortureSuite(['keyv']);
