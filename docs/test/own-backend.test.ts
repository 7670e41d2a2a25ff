import { backendContract } from '@oncelock/testkit';
import { mapBackend } from '../snippets/own-backend.js';

backendContract({ name: 'map (docs example)', create: mapBackend, peer: (first) => first });
